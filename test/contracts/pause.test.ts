import { expect } from 'chai';
import { ethers } from 'hardhat';
import { time } from '@nomicfoundation/hardhat-toolbox/network-helpers';
import type { ContractTransactionResponse } from 'ethers';
import {
  DAY,
  IMAGING,
  LAB_RESULTS,
  ROLES,
  action,
  deployFixture,
  recordId,
  signGrant,
  signGrantBatch,
  signRegisterRecord,
  signRevoke,
  load,
} from './fixtures';

const REASON = ethers.id('cardiac arrest');

/**
 * A deployment with one live grant, one record, one emergency window and one anchor, plus a valid call
 * of every state-changing consent, record, emergency and anchor function, prepared before pausing: so
 * the pause is the only reason any of them can fail.
 */
async function pausableFixture() {
  const f = await deployFixture();
  const { contract, patient, provider, provider2, emergency, anchor, domain } = f;
  const now = await time.latest();
  const expiresAt = now + 30 * DAY;
  const deadline = now + 2 * DAY;
  const lab = recordId('lab-1');
  await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, expiresAt);
  await contract.connect(patient).registerRecord(lab, LAB_RESULTS, ethers.ZeroHash);
  await contract.connect(emergency).emergencyAccess(patient.address, REASON);
  await contract.connect(anchor).anchorAudit(ethers.id('root-0'), 0, 9);

  // Every signature below uses nonce 0: each call is valid on its own against the unpaused contract.
  const grantSig = await signGrant(patient, domain, {
    patient: patient.address,
    provider: provider2.address,
    category: IMAGING,
    expiresAt,
    nonce: 0n,
    deadline,
  });
  const items = [{ provider: provider2.address, category: IMAGING, expiresAt }];
  const batchSig = await signGrantBatch(patient, domain, {
    patient: patient.address,
    items,
    nonce: 0n,
    deadline,
  });
  const revokeSig = await signRevoke(patient, domain, {
    patient: patient.address,
    provider: provider.address,
    category: LAB_RESULTS,
    nonce: 0n,
    deadline,
  });
  const lab2 = recordId('lab-2');
  const recordSig = await signRegisterRecord(patient, domain, {
    patient: patient.address,
    recordId: lab2,
    category: LAB_RESULTS,
    supersedes: lab,
    nonce: 0n,
    deadline,
  });

  const calls: Record<string, () => Promise<ContractTransactionResponse>> = {
    grantAccess: () => contract.connect(patient).grantAccess(provider2.address, IMAGING, expiresAt),
    grantAccessWithSig: () =>
      contract
        .connect(f.relayer)
        .grantAccessWithSig(patient.address, provider2.address, IMAGING, expiresAt, deadline, grantSig),
    grantAccessBatchWithSig: () =>
      contract.connect(f.relayer).grantAccessBatchWithSig(patient.address, items, deadline, batchSig),
    revokeAccess: () => contract.connect(patient).revokeAccess(provider.address, LAB_RESULTS),
    revokeAccessWithSig: () =>
      contract
        .connect(f.relayer)
        .revokeAccessWithSig(patient.address, provider.address, LAB_RESULTS, deadline, revokeSig),
    registerRecord: () => contract.connect(patient).registerRecord(lab2, LAB_RESULTS, lab),
    registerRecordWithSig: () =>
      contract
        .connect(f.relayer)
        .registerRecordWithSig(patient.address, lab2, LAB_RESULTS, lab, deadline, recordSig),
    logAccess: () => contract.connect(provider).logAccess(patient.address, lab, action('view')),
    emergencyAccess: () => contract.connect(emergency).emergencyAccess(patient.address, REASON),
    endEmergencyAccess: () =>
      contract.connect(patient).endEmergencyAccess(patient.address, emergency.address),
    anchorAudit: () => contract.connect(anchor).anchorAudit(ethers.id('root-1'), 10, 19),
  };
  return { ...f, lab, expiresAt, calls };
}

describe('HealthRecordAccessControl: pause', () => {
  it('only the admin can pause and unpause', async () => {
    const { contract, admin, provider, emergency, anchor, auditor, outsider } = await load(pausableFixture);
    for (const caller of [provider, emergency, anchor, auditor, outsider]) {
      await expect(contract.connect(caller).pause())
        .to.be.revertedWithCustomError(contract, 'AccessControlUnauthorizedAccount')
        .withArgs(caller.address, ROLES.DEFAULT_ADMIN);
    }
    await expect(contract.connect(admin).pause()).to.emit(contract, 'Paused').withArgs(admin.address);
    expect(await contract.paused()).to.equal(true);
    for (const caller of [provider, emergency, anchor, auditor, outsider]) {
      await expect(contract.connect(caller).unpause())
        .to.be.revertedWithCustomError(contract, 'AccessControlUnauthorizedAccount')
        .withArgs(caller.address, ROLES.DEFAULT_ADMIN);
    }
    await expect(contract.connect(admin).unpause()).to.emit(contract, 'Unpaused').withArgs(admin.address);
    expect(await contract.paused()).to.equal(false);
  });

  it('refuses to pause twice or to unpause what is not paused', async () => {
    const { contract, admin } = await load(pausableFixture);
    await expect(contract.connect(admin).unpause()).to.be.revertedWithCustomError(contract, 'ExpectedPause');
    await contract.connect(admin).pause();
    await expect(contract.connect(admin).pause()).to.be.revertedWithCustomError(contract, 'EnforcedPause');
  });

  it('while paused, every consent, record, emergency and anchor action is refused', async () => {
    const { contract, admin, calls } = await load(pausableFixture);
    // The list covers every state-changing function except role and pause administration.
    const administration = [
      'grantRole',
      'revokeRole',
      'renounceRole',
      'beginDefaultAdminTransfer',
      'cancelDefaultAdminTransfer',
      'acceptDefaultAdminTransfer',
      'changeDefaultAdminDelay',
      'rollbackDefaultAdminDelay',
      'pause',
      'unpause',
    ];
    // multicall only bundles the functions below; each bundled call is refused on its own.
    const wrappers = ['multicall'];
    const stateChanging: string[] = [];
    contract.interface.forEachFunction((fn) => {
      if (!fn.constant && !administration.includes(fn.name) && !wrappers.includes(fn.name)) {
        stateChanging.push(fn.name);
      }
    });
    expect(Object.keys(calls)).to.have.members(stateChanging);

    await contract.connect(admin).pause();
    for (const [name, call] of Object.entries(calls)) {
      await expect(call(), name).to.be.revertedWithCustomError(contract, 'EnforcedPause');
    }
    const expiresAt = (await time.latest()) + 3600;
    const bundled = contract.interface.encodeFunctionData('grantAccess', [
      admin.address,
      LAB_RESULTS,
      expiresAt,
    ]);
    await expect(contract.connect(admin).multicall([bundled])).to.be.revertedWithCustomError(
      contract,
      'EnforcedPause',
    );
  });

  for (const name of [
    'grantAccess',
    'grantAccessWithSig',
    'grantAccessBatchWithSig',
    'revokeAccess',
    'revokeAccessWithSig',
    'registerRecord',
    'registerRecordWithSig',
    'logAccess',
    'emergencyAccess',
    'endEmergencyAccess',
    'anchorAudit',
  ]) {
    it(`${name} is refused while paused and goes through once unpaused`, async () => {
      const { contract, admin, calls } = await load(pausableFixture);
      await contract.connect(admin).pause();
      await expect(calls[name]!()).to.be.revertedWithCustomError(contract, 'EnforcedPause');
      await contract.connect(admin).unpause();
      await expect(calls[name]!()).to.not.be.reverted;
    });
  }

  it('views keep answering while paused, and grants keep expiring', async () => {
    const { contract, admin, patient, provider, emergency, lab, expiresAt } = await load(pausableFixture);
    await contract.connect(admin).pause();
    expect(await contract.hasActiveAccess(patient.address, provider.address, LAB_RESULTS)).to.equal(true);
    expect(await contract.hasActiveAccess(patient.address, emergency.address, IMAGING)).to.equal(true);
    expect(await contract.accessExpiry(patient.address, provider.address, LAB_RESULTS)).to.equal(expiresAt);
    expect(await contract.recordCategory(patient.address, lab)).to.equal(LAB_RESULTS);
    expect(await contract.emergencyExpiry(patient.address, emergency.address)).to.not.equal(0n);
    expect((await contract.auditAnchor(0)).root).to.equal(ethers.id('root-0'));
    expect(await contract.nextAuditPosition()).to.equal(10n);
    expect(await contract.nonces(patient.address)).to.equal(0n);
    await time.increaseTo(expiresAt);
    expect(await contract.hasActiveAccess(patient.address, provider.address, LAB_RESULTS)).to.equal(false);
  });

  it('role administration stays available while paused, so a compromised provider can be removed', async () => {
    const { contract, admin, patient, provider } = await load(pausableFixture);
    await contract.connect(admin).pause();
    await contract.connect(admin).revokeRole(ROLES.PROVIDER, provider.address);
    expect(await contract.hasActiveAccess(patient.address, provider.address, LAB_RESULTS)).to.equal(false);
  });
});
