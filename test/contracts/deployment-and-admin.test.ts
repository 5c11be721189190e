import { expect } from 'chai';
import { ethers } from 'hardhat';
import type { Interface } from 'ethers';
import { time } from '@nomicfoundation/hardhat-toolbox/network-helpers';
import {
  ADMIN_DELAY,
  DAY,
  IMAGING,
  LAB_RESULTS,
  ROLES,
  YEAR,
  atNextBlock,
  deployFixture,
  specDomain,
  load,
} from './fixtures';
import { CONSENT_TYPES } from '../../libs/chain/src';

function typeHash(types: Record<string, readonly { name: string; type: string }[]>, primary: string): string {
  const mutable = Object.fromEntries(Object.entries(types).map(([name, fields]) => [name, [...fields]]));
  return ethers.id(ethers.TypedDataEncoder.from(mutable).encodeType(primary));
}

describe('HealthRecordAccessControl: deployment, public API and administration', () => {
  describe('deployment', () => {
    it('makes the deployer-chosen account the only admin, with the chosen transfer delay', async () => {
      const { contract, admin, outsider } = await load(deployFixture);
      expect(await contract.defaultAdmin()).to.equal(admin.address);
      expect(await contract.owner()).to.equal(admin.address);
      expect(await contract.hasRole(ROLES.DEFAULT_ADMIN, admin.address)).to.equal(true);
      expect(await contract.hasRole(ROLES.DEFAULT_ADMIN, outsider.address)).to.equal(false);
      expect(await contract.defaultAdminDelay()).to.equal(ADMIN_DELAY);
      const [pendingAdmin, schedule] = await contract.pendingDefaultAdmin();
      expect(pendingAdmin).to.equal(ethers.ZeroAddress);
      expect(schedule).to.equal(0n);
    });

    it('starts unpaused, with no audit anchored and no nonce used', async () => {
      const { contract, patient } = await load(deployFixture);
      expect(await contract.paused()).to.equal(false);
      expect(await contract.nextAuditPosition()).to.equal(0n);
      expect(await contract.nonces(patient.address)).to.equal(0n);
    });

    it('refuses to deploy without an admin', async () => {
      const { contract, admin } = await load(deployFixture);
      const factory = await ethers.getContractFactory('HealthRecordAccessControl', admin);
      await expect(factory.deploy(ADMIN_DELAY, ethers.ZeroAddress))
        .to.be.revertedWithCustomError(contract, 'AccessControlInvalidDefaultAdmin')
        .withArgs(ethers.ZeroAddress);
    });

    it('names its roles as keccak256 of the role name, all administered by the admin', async () => {
      const { contract } = await load(deployFixture);
      expect(await contract.DEFAULT_ADMIN_ROLE()).to.equal(ROLES.DEFAULT_ADMIN);
      expect(await contract.PROVIDER_ROLE()).to.equal(ROLES.PROVIDER);
      expect(await contract.EMERGENCY_ROLE()).to.equal(ROLES.EMERGENCY);
      expect(await contract.AUDITOR_ROLE()).to.equal(ROLES.AUDITOR);
      expect(await contract.ANCHOR_ROLE()).to.equal(ROLES.ANCHOR);
      for (const role of Object.values(ROLES)) {
        expect(await contract.getRoleAdmin(role)).to.equal(ROLES.DEFAULT_ADMIN);
      }
    });

    it('publishes the limits the clients rely on: 365-day grants, 24-hour emergencies, batches of 50', async () => {
      const { contract } = await load(deployFixture);
      expect(await contract.MAX_GRANT_DURATION()).to.equal(BigInt(YEAR));
      expect(await contract.EMERGENCY_DURATION()).to.equal(BigInt(DAY));
      expect(await contract.MAX_BATCH_SIZE()).to.equal(50n);
    });

    it('signs under the EIP-712 domain "HealthRecordAccessControl" version "2" of this chain and contract', async () => {
      const { contract } = await load(deployFixture);
      const address = await contract.getAddress();
      const d = await contract.eip712Domain();
      expect(d.fields).to.equal('0x0f'); // name, version, chainId, verifyingContract
      expect(d.name).to.equal('HealthRecordAccessControl');
      expect(d.version).to.equal('2');
      expect(d.chainId).to.equal((await ethers.provider.getNetwork()).chainId);
      expect(d.verifyingContract).to.equal(address);
      expect(d.salt).to.equal(ethers.ZeroHash);
      expect(d.extensions).to.deep.equal([]);
      expect(await specDomain(address)).to.deep.equal({
        name: d.name,
        version: d.version,
        chainId: d.chainId,
        verifyingContract: d.verifyingContract,
      });
    });

    it('uses the typehashes of the Grant, GrantBatch, Revoke and RegisterRecord messages the clients sign', async () => {
      const { contract } = await load(deployFixture);
      expect(await contract.GRANT_TYPEHASH()).to.equal(typeHash(CONSENT_TYPES.Grant, 'Grant'));
      expect(await contract.GRANT_BATCH_TYPEHASH()).to.equal(
        typeHash(CONSENT_TYPES.GrantBatch, 'GrantBatch'),
      );
      expect(await contract.GRANT_ITEM_TYPEHASH()).to.equal(typeHash(CONSENT_TYPES.GrantBatch, 'GrantItem'));
      expect(await contract.REVOKE_TYPEHASH()).to.equal(typeHash(CONSENT_TYPES.Revoke, 'Revoke'));
      expect(await contract.REGISTER_RECORD_TYPEHASH()).to.equal(
        typeHash(CONSENT_TYPES.RegisterRecord, 'RegisterRecord'),
      );
      // The exact strings of the issue, so a change on both sides is still caught.
      expect(await contract.GRANT_TYPEHASH()).to.equal(
        ethers.id(
          'Grant(address patient,address provider,bytes32 category,uint64 expiresAt,uint256 nonce,uint256 deadline)',
        ),
      );
      expect(await contract.GRANT_BATCH_TYPEHASH()).to.equal(
        ethers.id(
          'GrantBatch(address patient,GrantItem[] items,uint256 nonce,uint256 deadline)' +
            'GrantItem(address provider,bytes32 category,uint64 expiresAt)',
        ),
      );
      expect(await contract.REVOKE_TYPEHASH()).to.equal(
        ethers.id('Revoke(address patient,address provider,bytes32 category,uint256 nonce,uint256 deadline)'),
      );
    });

    it('answers ERC-165 for AccessControl and AccessControlDefaultAdminRules', async () => {
      const { contract } = await load(deployFixture);
      expect(await contract.supportsInterface('0x01ffc9a7')).to.equal(true); // ERC-165
      expect(await contract.supportsInterface('0x7965db0b')).to.equal(true); // IAccessControl
      expect(await contract.supportsInterface('0x31498786')).to.equal(true); // IAccessControlDefaultAdminRules
      expect(await contract.supportsInterface('0xffffffff')).to.equal(false);
    });
  });

  describe('the interface other parts of Custos depend on', () => {
    it('exposes every function of the issue with its exact signature', async () => {
      const { contract } = await load(deployFixture);
      const expected = [
        'grantAccess(address,bytes32,uint64)',
        'grantAccessWithSig(address,address,bytes32,uint64,uint256,bytes)',
        'grantAccessBatchWithSig(address,(address,bytes32,uint64)[],uint256,bytes)',
        'revokeAccess(address,bytes32)',
        'revokeAccessWithSig(address,address,bytes32,uint256,bytes)',
        'hasActiveAccess(address,address,bytes32)',
        'accessExpiry(address,address,bytes32)',
        'registerRecord(bytes32,bytes32,bytes32)',
        'registerRecordWithSig(address,bytes32,bytes32,bytes32,uint256,bytes)',
        'recordCategory(address,bytes32)',
        'logAccess(address,bytes32,bytes32)',
        'emergencyAccess(address,bytes32)',
        'endEmergencyAccess(address,address)',
        'emergencyExpiry(address,address)',
        'anchorAudit(bytes32,uint64,uint64)',
        'auditAnchor(uint64)',
        'nextAuditPosition()',
        'nonces(address)',
        'pause()',
        'unpause()',
        'paused()',
        'grantRole(bytes32,address)',
        'revokeRole(bytes32,address)',
        'hasRole(bytes32,address)',
        'eip712Domain()',
      ];
      const abi: Interface = contract.interface; // looked up by full signature, not by typed name
      for (const signature of expected) {
        expect(abi.getFunction(signature), signature).to.not.equal(null);
      }
      expect(contract.interface.getFunction('hasActiveAccess')?.outputs.map((o) => o.type)).to.deep.equal([
        'bool',
      ]);
      expect(contract.interface.getFunction('accessExpiry')?.outputs.map((o) => o.type)).to.deep.equal([
        'uint64',
      ]);
    });

    it('emits the events of the issue with their exact signatures and indexed fields', async () => {
      const { contract } = await load(deployFixture);
      const expected: Record<string, boolean[]> = {
        'AccessGranted(address,address,bytes32,uint64)': [true, true, true, false],
        'AccessRevoked(address,address,bytes32)': [true, true, true],
        'RecordRegistered(address,bytes32,bytes32,bytes32)': [true, true, true, false],
        'RecordAccessed(address,address,bytes32,bytes32)': [true, true, true, false],
        'EmergencyAccessStarted(address,address,bytes32,uint64)': [true, true, false, false],
        'EmergencyAccessEnded(address,address,address)': [true, true, false],
        'AuditAnchored(bytes32,uint64,uint64)': [true, false, false],
      };
      const abi: Interface = contract.interface;
      for (const [signature, indexed] of Object.entries(expected)) {
        const event = abi.getEvent(signature);
        expect(event, signature).to.not.equal(null);
        expect(event?.inputs.map((i) => i.indexed)).to.deep.equal(indexed);
      }
    });

    it('declares exactly the custom errors the clients decode', async () => {
      const { contract } = await load(deployFixture);
      const own = [
        'NotAProvider(address)',
        'InvalidCategory()',
        'InvalidExpiry(uint64)',
        'ExpiredSignature(uint256)',
        'InvalidSignature(address)',
        'InvalidBatchSize(uint256)',
        'NoGrant(address,address,bytes32)',
        'InvalidRecordId()',
        'RecordAlreadyRegistered(address,bytes32)',
        'UnknownRecord(address,bytes32)',
        'NoActiveAccess(address,address,bytes32)',
        'MissingReasonHash()',
        'NoEmergencyAccess(address,address)',
        'NotPatientOrProvider(address)',
        'InvalidAuditRoot()',
        'InvalidAuditRange(uint64,uint64,uint64)',
      ];
      const inherited = [
        // From OpenZeppelin's Address, used by Multicall.
        'AddressEmptyCode(address)',
        'FailedCall()',
        'AccessControlUnauthorizedAccount(address,bytes32)',
        'AccessControlBadConfirmation()',
        'AccessControlEnforcedDefaultAdminRules()',
        'AccessControlEnforcedDefaultAdminDelay(uint48)',
        'AccessControlInvalidDefaultAdmin(address)',
        'EnforcedPause()',
        'ExpectedPause()',
        'InvalidAccountNonce(address,uint256)',
        'InvalidShortString()',
        'StringTooLong(string)',
        'SafeCastOverflowedUintDowncast(uint8,uint256)',
      ];
      const declared: string[] = [];
      contract.interface.forEachError((e) => declared.push(e.format('sighash')));
      expect(declared).to.include.members(own);
      expect(declared.filter((e) => !inherited.includes(e))).to.have.members(own);
    });
  });

  describe('role administration', () => {
    it('lets only the admin grant and revoke roles', async () => {
      const { contract, admin, provider, outsider } = await load(deployFixture);
      for (const caller of [outsider, provider]) {
        await expect(contract.connect(caller).grantRole(ROLES.PROVIDER, outsider.address))
          .to.be.revertedWithCustomError(contract, 'AccessControlUnauthorizedAccount')
          .withArgs(caller.address, ROLES.DEFAULT_ADMIN);
        await expect(contract.connect(caller).revokeRole(ROLES.PROVIDER, provider.address))
          .to.be.revertedWithCustomError(contract, 'AccessControlUnauthorizedAccount')
          .withArgs(caller.address, ROLES.DEFAULT_ADMIN);
      }
      await expect(contract.connect(admin).grantRole(ROLES.PROVIDER, outsider.address))
        .to.emit(contract, 'RoleGranted')
        .withArgs(ROLES.PROVIDER, outsider.address, admin.address);
      expect(await contract.hasRole(ROLES.PROVIDER, outsider.address)).to.equal(true);
      await expect(contract.connect(admin).revokeRole(ROLES.PROVIDER, outsider.address))
        .to.emit(contract, 'RoleRevoked')
        .withArgs(ROLES.PROVIDER, outsider.address, admin.address);
      expect(await contract.hasRole(ROLES.PROVIDER, outsider.address)).to.equal(false);
    });

    it('registers providers, emergency staff, auditors and the anchor account through grantRole', async () => {
      const { contract, provider, provider2, emergency, anchor, auditor, outsider } =
        await load(deployFixture);
      expect(await contract.hasRole(ROLES.PROVIDER, provider.address)).to.equal(true);
      expect(await contract.hasRole(ROLES.PROVIDER, provider2.address)).to.equal(true);
      expect(await contract.hasRole(ROLES.EMERGENCY, emergency.address)).to.equal(true);
      expect(await contract.hasRole(ROLES.ANCHOR, anchor.address)).to.equal(true);
      expect(await contract.hasRole(ROLES.AUDITOR, auditor.address)).to.equal(true);
      for (const role of Object.values(ROLES)) {
        expect(await contract.hasRole(role, outsider.address)).to.equal(false);
      }
    });

    it('lets a provider renounce their own role, which ends their access to every patient', async () => {
      const { contract, patient, provider, admin } = await load(deployFixture);
      const expiresAt = (await time.latest()) + 30 * DAY;
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, expiresAt);
      await contract.connect(patient).grantAccess(provider.address, IMAGING, expiresAt);
      await expect(
        contract.connect(admin).renounceRole(ROLES.PROVIDER, provider.address),
      ).to.be.revertedWithCustomError(contract, 'AccessControlBadConfirmation');
      await contract.connect(provider).renounceRole(ROLES.PROVIDER, provider.address);
      expect(await contract.hasActiveAccess(patient.address, provider.address, LAB_RESULTS)).to.equal(false);
      expect(await contract.hasActiveAccess(patient.address, provider.address, IMAGING)).to.equal(false);
    });
  });

  describe('admin transfer (AccessControlDefaultAdminRules)', () => {
    it('refuses granting or revoking the admin role directly', async () => {
      const { contract, admin, newAdmin } = await load(deployFixture);
      await expect(
        contract.connect(admin).grantRole(ROLES.DEFAULT_ADMIN, newAdmin.address),
      ).to.be.revertedWithCustomError(contract, 'AccessControlEnforcedDefaultAdminRules');
      await expect(
        contract.connect(admin).revokeRole(ROLES.DEFAULT_ADMIN, admin.address),
      ).to.be.revertedWithCustomError(contract, 'AccessControlEnforcedDefaultAdminRules');
      expect(await contract.defaultAdmin()).to.equal(admin.address);
    });

    it('hands the admin role over only when the new admin accepts after the delay', async () => {
      const { contract, admin, newAdmin, outsider, provider } = await load(deployFixture);
      await expect(contract.connect(outsider).beginDefaultAdminTransfer(newAdmin.address))
        .to.be.revertedWithCustomError(contract, 'AccessControlUnauthorizedAccount')
        .withArgs(outsider.address, ROLES.DEFAULT_ADMIN);

      const begunAt = await atNextBlock((await time.latest()) + 10);
      const schedule = begunAt + ADMIN_DELAY;
      await expect(contract.connect(admin).beginDefaultAdminTransfer(newAdmin.address))
        .to.emit(contract, 'DefaultAdminTransferScheduled')
        .withArgs(newAdmin.address, schedule);
      expect(await contract.pendingDefaultAdmin()).to.deep.equal([newAdmin.address, BigInt(schedule)]);

      // Only the scheduled account may accept.
      await expect(contract.connect(outsider).acceptDefaultAdminTransfer())
        .to.be.revertedWithCustomError(contract, 'AccessControlInvalidDefaultAdmin')
        .withArgs(outsider.address);
      // Not before the delay has passed: at the scheduled second itself it is still refused.
      await atNextBlock(schedule);
      await expect(contract.connect(newAdmin).acceptDefaultAdminTransfer())
        .to.be.revertedWithCustomError(contract, 'AccessControlEnforcedDefaultAdminDelay')
        .withArgs(schedule);
      expect(await contract.defaultAdmin()).to.equal(admin.address);

      await atNextBlock(schedule + 1);
      await expect(contract.connect(newAdmin).acceptDefaultAdminTransfer())
        .to.emit(contract, 'RoleRevoked')
        .withArgs(ROLES.DEFAULT_ADMIN, admin.address, newAdmin.address)
        .and.to.emit(contract, 'RoleGranted')
        .withArgs(ROLES.DEFAULT_ADMIN, newAdmin.address, newAdmin.address);
      expect(await contract.defaultAdmin()).to.equal(newAdmin.address);
      expect(await contract.owner()).to.equal(newAdmin.address);
      expect(await contract.hasRole(ROLES.DEFAULT_ADMIN, admin.address)).to.equal(false);
      expect(await contract.pendingDefaultAdmin()).to.deep.equal([ethers.ZeroAddress, 0n]);

      // The new admin administers roles; the old one no longer can.
      await expect(contract.connect(admin).revokeRole(ROLES.PROVIDER, provider.address))
        .to.be.revertedWithCustomError(contract, 'AccessControlUnauthorizedAccount')
        .withArgs(admin.address, ROLES.DEFAULT_ADMIN);
      await contract.connect(newAdmin).revokeRole(ROLES.PROVIDER, provider.address);
      expect(await contract.hasRole(ROLES.PROVIDER, provider.address)).to.equal(false);
    });

    it('lets the admin cancel a scheduled transfer', async () => {
      const { contract, admin, newAdmin } = await load(deployFixture);
      await contract.connect(admin).beginDefaultAdminTransfer(newAdmin.address);
      await expect(contract.connect(admin).cancelDefaultAdminTransfer()).to.emit(
        contract,
        'DefaultAdminTransferCanceled',
      );
      await time.increase(ADMIN_DELAY + 1);
      await expect(contract.connect(newAdmin).acceptDefaultAdminTransfer())
        .to.be.revertedWithCustomError(contract, 'AccessControlInvalidDefaultAdmin')
        .withArgs(newAdmin.address);
      expect(await contract.defaultAdmin()).to.equal(admin.address);
    });

    it('changes the admin delay only through the delayed schedule', async () => {
      const { contract, admin, outsider } = await load(deployFixture);
      await expect(contract.connect(outsider).changeDefaultAdminDelay(DAY))
        .to.be.revertedWithCustomError(contract, 'AccessControlUnauthorizedAccount')
        .withArgs(outsider.address, ROLES.DEFAULT_ADMIN);
      await expect(contract.connect(admin).changeDefaultAdminDelay(DAY)).to.emit(
        contract,
        'DefaultAdminDelayChangeScheduled',
      );
      const [newDelay, schedule] = await contract.pendingDefaultAdminDelay();
      expect(newDelay).to.equal(BigInt(DAY));
      expect(await contract.defaultAdminDelay()).to.equal(ADMIN_DELAY);
      await time.increaseTo(schedule + 1n);
      expect(await contract.defaultAdminDelay()).to.equal(DAY);
      expect(await contract.defaultAdminDelayIncreaseWait()).to.equal(5n * BigInt(DAY));
    });

    it('lets the admin roll back a scheduled delay change before it takes effect', async () => {
      const { contract, admin, outsider } = await load(deployFixture);
      await contract.connect(admin).changeDefaultAdminDelay(DAY);
      await expect(contract.connect(outsider).rollbackDefaultAdminDelay())
        .to.be.revertedWithCustomError(contract, 'AccessControlUnauthorizedAccount')
        .withArgs(outsider.address, ROLES.DEFAULT_ADMIN);
      await expect(contract.connect(admin).rollbackDefaultAdminDelay()).to.emit(
        contract,
        'DefaultAdminDelayChangeCanceled',
      );
      expect(await contract.pendingDefaultAdminDelay()).to.deep.equal([0n, 0n]);
      await time.increase(ADMIN_DELAY + 1);
      expect(await contract.defaultAdminDelay()).to.equal(ADMIN_DELAY);
    });

    it('the admin can step down only through the delayed two-step, after which nobody can pause', async () => {
      const { contract, admin } = await load(deployFixture);
      await expect(
        contract.connect(admin).renounceRole(ROLES.DEFAULT_ADMIN, admin.address),
      ).to.be.revertedWithCustomError(contract, 'AccessControlEnforcedDefaultAdminDelay');
      await contract.connect(admin).beginDefaultAdminTransfer(ethers.ZeroAddress);
      const [, schedule] = await contract.pendingDefaultAdmin();
      await time.increaseTo(schedule + 1n);
      await contract.connect(admin).renounceRole(ROLES.DEFAULT_ADMIN, admin.address);
      expect(await contract.defaultAdmin()).to.equal(ethers.ZeroAddress);
      await expect(contract.connect(admin).pause())
        .to.be.revertedWithCustomError(contract, 'AccessControlUnauthorizedAccount')
        .withArgs(admin.address, ROLES.DEFAULT_ADMIN);
    });
  });
});
