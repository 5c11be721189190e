import { expect } from 'chai';
import { ethers, network } from 'hardhat';
import { time } from '@nomicfoundation/hardhat-toolbox/network-helpers';
import {
  DAY,
  IMAGING,
  LAB_RESULTS,
  ROLES,
  action,
  atNextBlock,
  deployFixture,
  mineAt,
  recordId,
  load,
} from './fixtures';

const VIEW = action('view');
const DOWNLOAD = action('download');

/** Opcodes a transaction executed, from Hardhat's debug_traceTransaction. */
async function executedOpcodes(txHash: string): Promise<Set<string>> {
  const trace = (await network.provider.send('debug_traceTransaction', [txHash])) as {
    structLogs: { op: string }[];
  };
  expect(trace.structLogs.length).to.be.greaterThan(0);
  return new Set(trace.structLogs.map((log) => log.op));
}

describe('HealthRecordAccessControl: record registry and access log', () => {
  describe('registerRecord', () => {
    it('registers a record under its category and announces it', async () => {
      const { contract, patient } = await load(deployFixture);
      const id = recordId('lab-1');
      await expect(contract.connect(patient).registerRecord(id, LAB_RESULTS, ethers.ZeroHash))
        .to.emit(contract, 'RecordRegistered')
        .withArgs(patient.address, id, LAB_RESULTS, ethers.ZeroHash);
      expect(await contract.recordCategory(patient.address, id)).to.equal(LAB_RESULTS);
    });

    it('keeps record ids per patient: two patients may register the same id', async () => {
      const { contract, patient, otherPatient } = await load(deployFixture);
      const id = recordId('shared-id');
      await contract.connect(patient).registerRecord(id, LAB_RESULTS, ethers.ZeroHash);
      expect(await contract.recordCategory(otherPatient.address, id)).to.equal(ethers.ZeroHash);
      await contract.connect(otherPatient).registerRecord(id, IMAGING, ethers.ZeroHash);
      expect(await contract.recordCategory(patient.address, id)).to.equal(LAB_RESULTS);
      expect(await contract.recordCategory(otherPatient.address, id)).to.equal(IMAGING);
    });

    it('refuses to register the same record twice, even under another category', async () => {
      const { contract, patient } = await load(deployFixture);
      const id = recordId('lab-1');
      await contract.connect(patient).registerRecord(id, LAB_RESULTS, ethers.ZeroHash);
      await expect(contract.connect(patient).registerRecord(id, IMAGING, ethers.ZeroHash))
        .to.be.revertedWithCustomError(contract, 'RecordAlreadyRegistered')
        .withArgs(patient.address, id);
      expect(await contract.recordCategory(patient.address, id)).to.equal(LAB_RESULTS);
    });

    it('refuses the zero record id and the zero category', async () => {
      const { contract, patient } = await load(deployFixture);
      await expect(
        contract.connect(patient).registerRecord(ethers.ZeroHash, LAB_RESULTS, ethers.ZeroHash),
      ).to.be.revertedWithCustomError(contract, 'InvalidRecordId');
      await expect(
        contract.connect(patient).registerRecord(recordId('lab-1'), ethers.ZeroHash, ethers.ZeroHash),
      ).to.be.revertedWithCustomError(contract, 'InvalidCategory');
    });

    it('an unregistered record has no category', async () => {
      const { contract, patient } = await load(deployFixture);
      expect(await contract.recordCategory(patient.address, recordId('never'))).to.equal(ethers.ZeroHash);
    });
  });

  describe('amending records (supersede chains)', () => {
    it('v1 <- v2 <- v3: each amendment names its predecessor and every version stays registered', async () => {
      const { contract, patient } = await load(deployFixture);
      const [v1, v2, v3] = [recordId('lab-v1'), recordId('lab-v2'), recordId('lab-v3')];
      await contract.connect(patient).registerRecord(v1, LAB_RESULTS, ethers.ZeroHash);
      await expect(contract.connect(patient).registerRecord(v2, LAB_RESULTS, v1))
        .to.emit(contract, 'RecordRegistered')
        .withArgs(patient.address, v2, LAB_RESULTS, v1);
      await expect(contract.connect(patient).registerRecord(v3, LAB_RESULTS, v2))
        .to.emit(contract, 'RecordRegistered')
        .withArgs(patient.address, v3, LAB_RESULTS, v2);
      for (const version of [v1, v2, v3]) {
        expect(await contract.recordCategory(patient.address, version)).to.equal(LAB_RESULTS);
      }
      // The chain can be rebuilt from the events alone.
      const events = await contract.queryFilter(contract.filters.RecordRegistered(patient.address));
      expect(events.map((e) => [e.args.recordId, e.args.supersedes])).to.deep.equal([
        [v1, ethers.ZeroHash],
        [v2, v1],
        [v3, v2],
      ]);
    });

    it('a provider with access can still read a superseded version (right to amend, not to erase)', async () => {
      const { contract, patient, provider } = await load(deployFixture);
      const [v1, v2] = [recordId('lab-v1'), recordId('lab-v2')];
      await contract.connect(patient).registerRecord(v1, LAB_RESULTS, ethers.ZeroHash);
      await contract.connect(patient).registerRecord(v2, LAB_RESULTS, v1);
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, (await time.latest()) + DAY);
      await expect(contract.connect(provider).logAccess(patient.address, v1, VIEW))
        .to.emit(contract, 'RecordAccessed')
        .withArgs(patient.address, provider.address, v1, VIEW);
    });

    it("refuses to supersede another patient's record", async () => {
      const { contract, patient, otherPatient } = await load(deployFixture);
      const theirs = recordId('theirs');
      await contract.connect(otherPatient).registerRecord(theirs, LAB_RESULTS, ethers.ZeroHash);
      await expect(contract.connect(patient).registerRecord(recordId('mine'), LAB_RESULTS, theirs))
        .to.be.revertedWithCustomError(contract, 'UnknownRecord')
        .withArgs(patient.address, theirs);
    });

    it('refuses to supersede an unknown record, including itself', async () => {
      const { contract, patient } = await load(deployFixture);
      const unknown = recordId('unknown');
      await expect(contract.connect(patient).registerRecord(recordId('v2'), LAB_RESULTS, unknown))
        .to.be.revertedWithCustomError(contract, 'UnknownRecord')
        .withArgs(patient.address, unknown);
      const self = recordId('self');
      await expect(contract.connect(patient).registerRecord(self, LAB_RESULTS, self))
        .to.be.revertedWithCustomError(contract, 'UnknownRecord')
        .withArgs(patient.address, self);
      expect(await contract.recordCategory(patient.address, self)).to.equal(ethers.ZeroHash);
    });
  });

  describe('logAccess', () => {
    async function withRecord() {
      const f = await load(deployFixture);
      const lab = recordId('lab-1');
      const scan = recordId('scan-1');
      await f.contract.connect(f.patient).registerRecord(lab, LAB_RESULTS, ethers.ZeroHash);
      await f.contract.connect(f.patient).registerRecord(scan, IMAGING, ethers.ZeroHash);
      return { ...f, lab, scan };
    }

    it('logs an access by a provider with active access to the record category', async () => {
      const { contract, patient, provider, lab } = await withRecord();
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, (await time.latest()) + DAY);
      await expect(contract.connect(provider).logAccess(patient.address, lab, VIEW))
        .to.emit(contract, 'RecordAccessed')
        .withArgs(patient.address, provider.address, lab, VIEW);
      await expect(contract.connect(provider).logAccess(patient.address, lab, DOWNLOAD))
        .to.emit(contract, 'RecordAccessed')
        .withArgs(patient.address, provider.address, lab, DOWNLOAD);
    });

    it('writes nothing to storage: the transaction executes no SSTORE', async () => {
      const { contract, patient, provider, lab } = await withRecord();
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, (await time.latest()) + DAY);
      const tx = await contract.connect(provider).logAccess(patient.address, lab, VIEW);
      const ops = await executedOpcodes(tx.hash);
      expect(ops.has('LOG4')).to.equal(true);
      expect(ops.has('SSTORE')).to.equal(false);
      expect(ops.has('TSTORE')).to.equal(false);
      // Control: the trace does show writes where there are writes.
      const grant = await contract
        .connect(patient)
        .grantAccess(provider.address, IMAGING, (await time.latest()) + DAY);
      expect((await executedOpcodes(grant.hash)).has('SSTORE')).to.equal(true);
    });

    it('refuses a provider whose grant is for another category', async () => {
      const { contract, patient, provider, scan } = await withRecord();
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, (await time.latest()) + DAY);
      await expect(contract.connect(provider).logAccess(patient.address, scan, VIEW))
        .to.be.revertedWithCustomError(contract, 'NoActiveAccess')
        .withArgs(patient.address, provider.address, IMAGING);
    });

    it('refuses a provider with no grant, and anyone without a role', async () => {
      const { contract, patient, provider2, outsider, auditor, lab } = await withRecord();
      for (const caller of [provider2, outsider, auditor]) {
        await expect(contract.connect(caller).logAccess(patient.address, lab, VIEW))
          .to.be.revertedWithCustomError(contract, 'NoActiveAccess')
          .withArgs(patient.address, caller.address, LAB_RESULTS);
      }
    });

    it('refuses access after the patient revoked', async () => {
      const { contract, patient, provider, lab } = await withRecord();
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, (await time.latest()) + DAY);
      await contract.connect(patient).revokeAccess(provider.address, LAB_RESULTS);
      await expect(contract.connect(provider).logAccess(patient.address, lab, VIEW))
        .to.be.revertedWithCustomError(contract, 'NoActiveAccess')
        .withArgs(patient.address, provider.address, LAB_RESULTS);
    });

    it('allows access in the last second of a grant and refuses it in the block at expiresAt', async () => {
      const { contract, patient, provider, lab } = await withRecord();
      const expiresAt = (await time.latest()) + 1000;
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, expiresAt);
      await atNextBlock(expiresAt - 1);
      await expect(contract.connect(provider).logAccess(patient.address, lab, VIEW)).to.emit(
        contract,
        'RecordAccessed',
      );
      expect(await time.latest()).to.equal(expiresAt - 1);
      // Force the refused transaction into a block stamped exactly expiresAt.
      await atNextBlock(expiresAt);
      await expect(contract.connect(provider).logAccess(patient.address, lab, VIEW, { gasLimit: 100_000 }))
        .to.be.revertedWithCustomError(contract, 'NoActiveAccess')
        .withArgs(patient.address, provider.address, LAB_RESULTS);
      expect(await time.latest()).to.equal(expiresAt);
    });

    it('refuses a provider who was removed, even with an unexpired grant', async () => {
      const { contract, admin, patient, provider, lab } = await withRecord();
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, (await time.latest()) + DAY);
      await contract.connect(admin).revokeRole(ROLES.PROVIDER, provider.address);
      await expect(contract.connect(provider).logAccess(patient.address, lab, VIEW))
        .to.be.revertedWithCustomError(contract, 'NoActiveAccess')
        .withArgs(patient.address, provider.address, LAB_RESULTS);
    });

    it("a grant from one patient gives no access to another patient's record", async () => {
      const { contract, patient, otherPatient, provider } = await withRecord();
      const theirs = recordId('theirs');
      await contract.connect(otherPatient).registerRecord(theirs, LAB_RESULTS, ethers.ZeroHash);
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, (await time.latest()) + DAY);
      await expect(contract.connect(provider).logAccess(otherPatient.address, theirs, VIEW))
        .to.be.revertedWithCustomError(contract, 'NoActiveAccess')
        .withArgs(otherPatient.address, provider.address, LAB_RESULTS);
    });

    it('refuses an unknown record, and a record id registered only by another patient', async () => {
      const { contract, patient, otherPatient, provider, lab } = await withRecord();
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, (await time.latest()) + DAY);
      const unknown = recordId('unknown');
      await expect(contract.connect(provider).logAccess(patient.address, unknown, VIEW))
        .to.be.revertedWithCustomError(contract, 'UnknownRecord')
        .withArgs(patient.address, unknown);
      await expect(contract.connect(provider).logAccess(otherPatient.address, lab, VIEW))
        .to.be.revertedWithCustomError(contract, 'UnknownRecord')
        .withArgs(otherPatient.address, lab);
    });

    it('lets emergency staff with an open window log access to a record of any category', async () => {
      const { contract, patient, emergency, lab, scan } = await withRecord();
      await contract.connect(emergency).emergencyAccess(patient.address, ethers.id('unconscious on arrival'));
      for (const id of [lab, scan]) {
        await expect(contract.connect(emergency).logAccess(patient.address, id, VIEW))
          .to.emit(contract, 'RecordAccessed')
          .withArgs(patient.address, emergency.address, id, VIEW);
      }
    });

    it('refuses access once the grant has lapsed', async () => {
      const { contract, patient, provider, lab } = await withRecord();
      const expiresAt = (await time.latest()) + DAY;
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, expiresAt);
      await mineAt(expiresAt + 1);
      await expect(contract.connect(provider).logAccess(patient.address, lab, VIEW))
        .to.be.revertedWithCustomError(contract, 'NoActiveAccess')
        .withArgs(patient.address, provider.address, LAB_RESULTS);
    });
  });
});
