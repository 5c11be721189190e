import { AbiCoder, type Interface, ZeroHash, id } from 'ethers';

import { HealthRecordAccessControl__factory } from '../../../../../libs/chain/src/typechain/factories/contracts/HealthRecordAccessControl__factory';
import {
  ROLE_IDS,
  auditAnchored,
  contractInterface,
  emergencyStarted,
  grantRoleData,
  reasonHash,
  revertReason,
} from './contract-abi';

const ACCOUNT = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

describe('contract ABI slice', () => {
  const full = HealthRecordAccessControl__factory.createInterface() as unknown as Interface;

  it('has the selectors, event topics and errors of the compiled contract', () => {
    contractInterface.forEachFunction((fn) => {
      expect(full.getFunction(fn.name)?.selector, fn.name).toBe(fn.selector);
    });
    contractInterface.forEachEvent((event) => {
      expect(full.getEvent(event.name)?.topicHash, event.name).toBe(event.topicHash);
    });
    contractInterface.forEachError((error) => {
      expect(full.getError(error.name)?.selector, error.name).toBe(error.selector);
    });
  });

  it('names the roles as the contract does (admin is DEFAULT_ADMIN_ROLE)', () => {
    expect(ROLE_IDS.admin).toBe(ZeroHash);
    expect(ROLE_IDS.provider).toBe(id('PROVIDER_ROLE'));
    expect(ROLE_IDS.emergency).toBe(id('EMERGENCY_ROLE'));
    expect(ROLE_IDS.auditor).toBe(id('AUDITOR_ROLE'));
  });

  it('encodes grantRole(role, account) like the TypeChain interface', () => {
    expect(grantRoleData('auditor', ACCOUNT.toLowerCase())).toBe(
      full.encodeFunctionData('grantRole', [id('AUDITOR_ROLE'), ACCOUNT]),
    );
  });

  it('explains refusals in words', () => {
    const unauthorized = contractInterface.encodeErrorResult('AccessControlUnauthorizedAccount', [
      ACCOUNT,
      ZeroHash,
    ]);
    expect(revertReason(unauthorized)).toBe(
      'The account 0x7099…79C8 does not hold the administrator role on the contract.',
    );
    expect(revertReason(contractInterface.encodeErrorResult('EnforcedPause', []))).toMatch(/paused/);
    const requireMessage = `0x08c379a0${AbiCoder.defaultAbiCoder().encode(['string'], ['nope']).slice(2)}`;
    expect(revertReason(requireMessage)).toBe('nope');
    expect(revertReason('0x')).toBeNull();
    expect(revertReason('0xdeadbeef')).toBeNull();
  });

  it('hashes a reason as the API does: keccak256 of the trimmed text', () => {
    expect(reasonHash('  Unconscious patient in the ER  ')).toBe(id('Unconscious patient in the ER'));
  });

  it('reads EmergencyAccessStarted and AuditAnchored from receipt logs', () => {
    const started = full.encodeEventLog('EmergencyAccessStarted', [
      ACCOUNT,
      ACCOUNT,
      id('r'),
      1_800_000_000n,
    ]);
    expect(emergencyStarted([{ address: '0x1', ...started }])).toEqual({
      patient: ACCOUNT,
      provider: ACCOUNT,
      reasonHash: id('r'),
      expiresAt: 1_800_000_000,
    });
    const anchored = full.encodeEventLog('AuditAnchored', [id('root'), 0n, 41n]);
    expect(auditAnchored([{ address: '0x1', ...anchored }])).toEqual([
      { root: id('root'), fromPosition: 0, toPosition: 41 },
    ]);
  });
});
