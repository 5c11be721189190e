import { expect } from 'chai';
import { ethers, network } from 'hardhat';
import { mine, time } from '@nomicfoundation/hardhat-toolbox/network-helpers';
import {
  DAY,
  IMAGING,
  LAB_RESULTS,
  PRESCRIPTIONS,
  ROLES,
  YEAR,
  atNextBlock,
  deployFixture,
  minedAt,
  mineAt,
  load,
} from './fixtures';

describe('HealthRecordAccessControl: granting and revoking consent', () => {
  describe('grantAccess', () => {
    it('opens access for the provider and announces patient, provider, category and expiry', async () => {
      const { contract, patient, provider } = await load(deployFixture);
      const expiresAt = (await time.latest()) + 30 * DAY;
      await expect(contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, expiresAt))
        .to.emit(contract, 'AccessGranted')
        .withArgs(patient.address, provider.address, LAB_RESULTS, expiresAt);
      expect(await contract.hasActiveAccess(patient.address, provider.address, LAB_RESULTS)).to.equal(true);
      expect(await contract.accessExpiry(patient.address, provider.address, LAB_RESULTS)).to.equal(expiresAt);
    });

    it('is scoped to the granting patient: other patients stay closed to the provider', async () => {
      const { contract, patient, otherPatient, provider } = await load(deployFixture);
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, (await time.latest()) + DAY);
      expect(await contract.hasActiveAccess(otherPatient.address, provider.address, LAB_RESULTS)).to.equal(
        false,
      );
      expect(await contract.accessExpiry(otherPatient.address, provider.address, LAB_RESULTS)).to.equal(0n);
    });

    it('is scoped to the named provider: other providers stay closed', async () => {
      const { contract, patient, provider, provider2 } = await load(deployFixture);
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, (await time.latest()) + DAY);
      expect(await contract.hasActiveAccess(patient.address, provider2.address, LAB_RESULTS)).to.equal(false);
    });

    it('re-granting replaces the expiry, both to extend and to shorten it', async () => {
      const { contract, patient, provider } = await load(deployFixture);
      const now = await time.latest();
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, now + 10 * DAY);
      await expect(contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, now + 90 * DAY))
        .to.emit(contract, 'AccessGranted')
        .withArgs(patient.address, provider.address, LAB_RESULTS, now + 90 * DAY);
      expect(await contract.accessExpiry(patient.address, provider.address, LAB_RESULTS)).to.equal(
        now + 90 * DAY,
      );
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, now + 2 * DAY);
      expect(await contract.accessExpiry(patient.address, provider.address, LAB_RESULTS)).to.equal(
        now + 2 * DAY,
      );
      await mineAt(now + 2 * DAY);
      expect(await contract.hasActiveAccess(patient.address, provider.address, LAB_RESULTS)).to.equal(false);
    });

    it('renews an expired grant', async () => {
      const { contract, patient, provider } = await load(deployFixture);
      const expiresAt = (await time.latest()) + DAY;
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, expiresAt);
      await mineAt(expiresAt + 5);
      expect(await contract.hasActiveAccess(patient.address, provider.address, LAB_RESULTS)).to.equal(false);
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, expiresAt + 10 * DAY);
      expect(await contract.hasActiveAccess(patient.address, provider.address, LAB_RESULTS)).to.equal(true);
    });

    it('refuses an expiry equal to the current block time', async () => {
      const { contract, patient, provider } = await load(deployFixture);
      const now = await atNextBlock((await time.latest()) + 1000);
      await expect(contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, now))
        .to.be.revertedWithCustomError(contract, 'InvalidExpiry')
        .withArgs(now);
    });

    it('refuses an expiry in the past', async () => {
      const { contract, patient, provider } = await load(deployFixture);
      const now = await atNextBlock((await time.latest()) + 1000);
      await expect(contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, now - 1))
        .to.be.revertedWithCustomError(contract, 'InvalidExpiry')
        .withArgs(now - 1);
      await expect(contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, 0))
        .to.be.revertedWithCustomError(contract, 'InvalidExpiry')
        .withArgs(0);
    });

    it('accepts the shortest grant, one second', async () => {
      const { contract, patient, provider } = await load(deployFixture);
      const now = await atNextBlock((await time.latest()) + 1000);
      await expect(contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, now + 1))
        .to.emit(contract, 'AccessGranted')
        .withArgs(patient.address, provider.address, LAB_RESULTS, now + 1);
      expect(await time.latest()).to.equal(now);
      expect(await contract.hasActiveAccess(patient.address, provider.address, LAB_RESULTS)).to.equal(true);
    });

    it('accepts exactly 365 days ahead and refuses one second more', async () => {
      const { contract, patient, provider } = await load(deployFixture);
      let now = await atNextBlock((await time.latest()) + 1000);
      await expect(contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, now + YEAR + 1))
        .to.be.revertedWithCustomError(contract, 'InvalidExpiry')
        .withArgs(now + YEAR + 1);

      now = await atNextBlock(now + 1);
      const tx = await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, now + YEAR);
      expect(await minedAt(tx)).to.equal(now);
      await expect(tx)
        .to.emit(contract, 'AccessGranted')
        .withArgs(patient.address, provider.address, LAB_RESULTS, now + YEAR);
      expect(await contract.accessExpiry(patient.address, provider.address, LAB_RESULTS)).to.equal(
        now + YEAR,
      );
    });

    it('refuses an account that is not a registered provider', async () => {
      const { contract, patient, outsider, emergency, auditor, anchor } = await load(deployFixture);
      const expiresAt = (await time.latest()) + DAY;
      for (const account of [outsider, emergency, auditor, anchor, patient]) {
        await expect(contract.connect(patient).grantAccess(account.address, LAB_RESULTS, expiresAt))
          .to.be.revertedWithCustomError(contract, 'NotAProvider')
          .withArgs(account.address);
      }
    });

    it('refuses the zero category', async () => {
      const { contract, patient, provider } = await load(deployFixture);
      await expect(
        contract.connect(patient).grantAccess(provider.address, ethers.ZeroHash, (await time.latest()) + DAY),
      ).to.be.revertedWithCustomError(contract, 'InvalidCategory');
    });
  });

  describe('expiry at the exact second', () => {
    it('a grant is active at expiresAt - 1 and no longer when the block time equals expiresAt', async () => {
      const { contract, patient, provider } = await load(deployFixture);
      const expiresAt = (await time.latest()) + 1000;
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, expiresAt);

      await mineAt(expiresAt - 1);
      expect(await time.latest()).to.equal(expiresAt - 1);
      const lastActiveBlock = await ethers.provider.getBlockNumber();
      expect(await contract.hasActiveAccess(patient.address, provider.address, LAB_RESULTS)).to.equal(true);

      await mineAt(expiresAt);
      expect(await time.latest()).to.equal(expiresAt);
      expect(await contract.hasActiveAccess(patient.address, provider.address, LAB_RESULTS)).to.equal(false);
      // The expiry stays readable; only access ends.
      expect(await contract.accessExpiry(patient.address, provider.address, LAB_RESULTS)).to.equal(expiresAt);

      // Pinning the block proves the view is evaluated at that block's timestamp, not at the wall clock.
      expect(
        await contract.hasActiveAccess(patient.address, provider.address, LAB_RESULTS, {
          blockTag: lastActiveBlock,
        }),
      ).to.equal(true);
      expect(
        await contract.hasActiveAccess(patient.address, provider.address, LAB_RESULTS, {
          blockTag: lastActiveBlock + 1,
        }),
      ).to.equal(false);
    });

    it('views answer for the latest block even when the wall clock has moved past the expiry', async () => {
      // Hardhat evaluates eth_call on the latest block's timestamp. If it used the wall clock (or the
      // pending block), the second-exact assertions of this suite would be meaningless.
      const { contract, patient, provider } = await load(deployFixture);
      const expiresAt = (await atNextBlock((await time.latest()) + 1)) + 10;
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, expiresAt);
      // Hardhat's clock now reads expiresAt - 1; after the sleep it reads past expiresAt.
      await mineAt(expiresAt - 1);
      await new Promise((resolve) => setTimeout(resolve, 2100));
      expect(await time.latest()).to.equal(expiresAt - 1);
      expect(await contract.hasActiveAccess(patient.address, provider.address, LAB_RESULTS)).to.equal(true);
      await mine();
      expect(await time.latest()).to.be.greaterThanOrEqual(expiresAt);
      expect(await contract.hasActiveAccess(patient.address, provider.address, LAB_RESULTS)).to.equal(false);
    });
  });

  describe('category isolation', () => {
    it('a grant for lab_results opens no other category', async () => {
      const { contract, patient, provider } = await load(deployFixture);
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, (await time.latest()) + DAY);
      expect(await contract.hasActiveAccess(patient.address, provider.address, LAB_RESULTS)).to.equal(true);
      for (const other of [IMAGING, PRESCRIPTIONS, ethers.ZeroHash, ethers.id('mental_health')]) {
        expect(await contract.hasActiveAccess(patient.address, provider.address, other)).to.equal(false);
        expect(await contract.accessExpiry(patient.address, provider.address, other)).to.equal(0n);
      }
    });

    it('revoking one category leaves the other categories open', async () => {
      const { contract, patient, provider } = await load(deployFixture);
      const expiresAt = (await time.latest()) + DAY;
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, expiresAt);
      await contract.connect(patient).grantAccess(provider.address, IMAGING, expiresAt + 1);
      await contract.connect(patient).revokeAccess(provider.address, LAB_RESULTS);
      expect(await contract.hasActiveAccess(patient.address, provider.address, LAB_RESULTS)).to.equal(false);
      expect(await contract.hasActiveAccess(patient.address, provider.address, IMAGING)).to.equal(true);
      expect(await contract.accessExpiry(patient.address, provider.address, IMAGING)).to.equal(expiresAt + 1);
    });

    it('each category keeps its own expiry', async () => {
      const { contract, patient, provider } = await load(deployFixture);
      const now = await time.latest();
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, now + 100);
      await contract.connect(patient).grantAccess(provider.address, IMAGING, now + 200);
      await mineAt(now + 100);
      expect(await contract.hasActiveAccess(patient.address, provider.address, LAB_RESULTS)).to.equal(false);
      expect(await contract.hasActiveAccess(patient.address, provider.address, IMAGING)).to.equal(true);
    });
  });

  describe('removing a provider', () => {
    it("removing a provider's role ends all their access at once, for every patient and category", async () => {
      const { contract, admin, patient, otherPatient, provider, provider2 } = await load(deployFixture);
      const expiresAt = (await time.latest()) + 30 * DAY;
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, expiresAt);
      await contract.connect(patient).grantAccess(provider.address, IMAGING, expiresAt);
      await contract.connect(otherPatient).grantAccess(provider.address, PRESCRIPTIONS, expiresAt);
      await contract.connect(patient).grantAccess(provider2.address, LAB_RESULTS, expiresAt);

      await contract.connect(admin).revokeRole(ROLES.PROVIDER, provider.address);
      expect(await contract.hasActiveAccess(patient.address, provider.address, LAB_RESULTS)).to.equal(false);
      expect(await contract.hasActiveAccess(patient.address, provider.address, IMAGING)).to.equal(false);
      expect(await contract.hasActiveAccess(otherPatient.address, provider.address, PRESCRIPTIONS)).to.equal(
        false,
      );
      // Other providers are untouched.
      expect(await contract.hasActiveAccess(patient.address, provider2.address, LAB_RESULTS)).to.equal(true);
      // And a removed provider cannot be granted anything new.
      await expect(contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, expiresAt))
        .to.be.revertedWithCustomError(contract, 'NotAProvider')
        .withArgs(provider.address);
    });

    it('re-admitting a provider does not bring back the grants they had before', async () => {
      const { contract, admin, patient, provider } = await load(deployFixture);
      const expiresAt = (await time.latest()) + 30 * DAY;
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, expiresAt);
      await contract.connect(patient).grantAccess(provider.address, IMAGING, expiresAt);
      await contract.connect(admin).revokeRole(ROLES.PROVIDER, provider.address);
      await contract.connect(admin).grantRole(ROLES.PROVIDER, provider.address);

      expect(await contract.hasRole(ROLES.PROVIDER, provider.address)).to.equal(true);
      for (const c of [LAB_RESULTS, IMAGING]) {
        expect(await contract.hasActiveAccess(patient.address, provider.address, c)).to.equal(false);
        expect(await contract.accessExpiry(patient.address, provider.address, c)).to.equal(0n);
      }
      // The patient can consent again; the new grant counts.
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, expiresAt);
      expect(await contract.hasActiveAccess(patient.address, provider.address, LAB_RESULTS)).to.equal(true);
      expect(await contract.accessExpiry(patient.address, provider.address, LAB_RESULTS)).to.equal(expiresAt);
      expect(await contract.hasActiveAccess(patient.address, provider.address, IMAGING)).to.equal(false);
    });

    it('a grant made right after re-admission, in the same second, counts', async () => {
      const { contract, admin, patient, provider } = await load(deployFixture);
      await contract.connect(admin).revokeRole(ROLES.PROVIDER, provider.address);
      const t = (await time.latest()) + 100;
      await network.provider.send('evm_setAutomine', [false]);
      try {
        await contract.connect(admin).grantRole(ROLES.PROVIDER, provider.address, { gasLimit: 200_000 });
        await contract
          .connect(patient)
          .grantAccess(provider.address, LAB_RESULTS, t + DAY, { gasLimit: 200_000 });
        await mineAt(t);
      } finally {
        await network.provider.send('evm_setAutomine', [true]);
      }
      expect(await contract.hasActiveAccess(patient.address, provider.address, LAB_RESULTS)).to.equal(true);
      expect(await contract.accessExpiry(patient.address, provider.address, LAB_RESULTS)).to.equal(t + DAY);
    });
  });

  describe('revokeAccess', () => {
    it('ends access in the very block that revokes, and announces it', async () => {
      const { contract, patient, provider } = await load(deployFixture);
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, (await time.latest()) + DAY);
      const tx = await contract.connect(patient).revokeAccess(provider.address, LAB_RESULTS);
      await expect(tx)
        .to.emit(contract, 'AccessRevoked')
        .withArgs(patient.address, provider.address, LAB_RESULTS);
      const receipt = await tx.wait();
      const revokedIn = receipt!.blockNumber;
      const opts = (blockTag: number) => ({ blockTag });
      expect(
        await contract.hasActiveAccess(patient.address, provider.address, LAB_RESULTS, opts(revokedIn - 1)),
      ).to.equal(true);
      expect(
        await contract.hasActiveAccess(patient.address, provider.address, LAB_RESULTS, opts(revokedIn)),
      ).to.equal(false);
      expect(await contract.accessExpiry(patient.address, provider.address, LAB_RESULTS)).to.equal(0n);
    });

    it('refuses a provider action placed after the revoke in the same block', async () => {
      const { contract, patient, provider } = await load(deployFixture);
      const id = ethers.id('record:lab-1');
      await contract.connect(patient).registerRecord(id, LAB_RESULTS, ethers.ZeroHash);
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, (await time.latest()) + DAY);
      await network.provider.send('evm_setAutomine', [false]);
      let revokeHash: string;
      let accessHash: string;
      try {
        revokeHash = (
          await contract.connect(patient).revokeAccess(provider.address, LAB_RESULTS, { gasLimit: 100_000 })
        ).hash;
        accessHash = (
          await contract
            .connect(provider)
            .logAccess(patient.address, id, ethers.id('view'), { gasLimit: 100_000 })
        ).hash;
        await mine();
      } finally {
        await network.provider.send('evm_setAutomine', [true]);
      }
      const revokeReceipt = await ethers.provider.getTransactionReceipt(revokeHash);
      const accessReceipt = await ethers.provider.getTransactionReceipt(accessHash);
      expect(revokeReceipt?.blockNumber).to.equal(accessReceipt?.blockNumber);
      expect(revokeReceipt?.status).to.equal(1);
      expect(accessReceipt?.status).to.equal(0);
      expect(accessReceipt?.logs).to.deep.equal([]);
    });

    it('refuses to revoke what was never granted', async () => {
      const { contract, patient, provider } = await load(deployFixture);
      await expect(contract.connect(patient).revokeAccess(provider.address, LAB_RESULTS))
        .to.be.revertedWithCustomError(contract, 'NoGrant')
        .withArgs(patient.address, provider.address, LAB_RESULTS);
    });

    it('refuses to revoke twice', async () => {
      const { contract, patient, provider } = await load(deployFixture);
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, (await time.latest()) + DAY);
      await contract.connect(patient).revokeAccess(provider.address, LAB_RESULTS);
      await expect(contract.connect(patient).revokeAccess(provider.address, LAB_RESULTS))
        .to.be.revertedWithCustomError(contract, 'NoGrant')
        .withArgs(patient.address, provider.address, LAB_RESULTS);
    });

    it("a patient can only revoke their own grants, not another patient's", async () => {
      const { contract, patient, otherPatient, provider } = await load(deployFixture);
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, (await time.latest()) + DAY);
      await expect(contract.connect(otherPatient).revokeAccess(provider.address, LAB_RESULTS))
        .to.be.revertedWithCustomError(contract, 'NoGrant')
        .withArgs(otherPatient.address, provider.address, LAB_RESULTS);
      expect(await contract.hasActiveAccess(patient.address, provider.address, LAB_RESULTS)).to.equal(true);
    });

    it('a patient can still clear a grant after it expired', async () => {
      const { contract, patient, provider } = await load(deployFixture);
      const expiresAt = (await time.latest()) + DAY;
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, expiresAt);
      await mineAt(expiresAt + 1);
      await expect(contract.connect(patient).revokeAccess(provider.address, LAB_RESULTS))
        .to.emit(contract, 'AccessRevoked')
        .withArgs(patient.address, provider.address, LAB_RESULTS);
      expect(await contract.accessExpiry(patient.address, provider.address, LAB_RESULTS)).to.equal(0n);
    });

    it('a revoked grant can be given again', async () => {
      const { contract, patient, provider } = await load(deployFixture);
      const expiresAt = (await time.latest()) + DAY;
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, expiresAt);
      await contract.connect(patient).revokeAccess(provider.address, LAB_RESULTS);
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, expiresAt);
      expect(await contract.hasActiveAccess(patient.address, provider.address, LAB_RESULTS)).to.equal(true);
    });
  });
});
