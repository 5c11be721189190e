import { expect } from 'chai';
import { ethers } from 'hardhat';
import { time } from '@nomicfoundation/hardhat-toolbox/network-helpers';
import {
  DAY,
  IMAGING,
  LAB_RESULTS,
  PRESCRIPTIONS,
  ROLES,
  atNextBlock,
  deployFixture,
  mineAt,
  load,
} from './fixtures';

const REASON = ethers.id('patient unconscious on arrival, allergy history needed');
const ALL_CATEGORIES = [LAB_RESULTS, IMAGING, PRESCRIPTIONS, ethers.id('mental_health')];

describe('HealthRecordAccessControl: emergency (break-glass) access', () => {
  async function opened() {
    const f = await load(deployFixture);
    const startedAt = await atNextBlock((await time.latest()) + 100);
    await f.contract.connect(f.emergency).emergencyAccess(f.patient.address, REASON);
    return { ...f, startedAt, expiresAt: startedAt + DAY };
  }

  describe('emergencyAccess', () => {
    it('opens every category of the patient to the staff member and announces the reason hash and expiry', async () => {
      const { contract, patient, emergency } = await load(deployFixture);
      const startedAt = await atNextBlock((await time.latest()) + 100);
      await expect(contract.connect(emergency).emergencyAccess(patient.address, REASON))
        .to.emit(contract, 'EmergencyAccessStarted')
        .withArgs(patient.address, emergency.address, REASON, startedAt + DAY);
      expect(await contract.emergencyExpiry(patient.address, emergency.address)).to.equal(startedAt + DAY);
      for (const c of ALL_CATEGORIES) {
        expect(await contract.hasActiveAccess(patient.address, emergency.address, c)).to.equal(true);
      }
    });

    it('is reserved to emergency staff: providers, auditors, the admin and patients are refused', async () => {
      const { contract, patient, provider, auditor, admin, outsider } = await load(deployFixture);
      for (const caller of [provider, auditor, admin, outsider, patient]) {
        await expect(contract.connect(caller).emergencyAccess(patient.address, REASON))
          .to.be.revertedWithCustomError(contract, 'AccessControlUnauthorizedAccount')
          .withArgs(caller.address, ROLES.EMERGENCY);
      }
    });

    it('requires the hash of a reason', async () => {
      const { contract, patient, emergency } = await load(deployFixture);
      await expect(
        contract.connect(emergency).emergencyAccess(patient.address, ethers.ZeroHash),
      ).to.be.revertedWithCustomError(contract, 'MissingReasonHash');
      expect(await contract.emergencyExpiry(patient.address, emergency.address)).to.equal(0n);
    });

    it('lasts exactly 24 hours: open at start + 24h - 1, closed at start + 24h', async () => {
      const { contract, patient, emergency, expiresAt } = await opened();
      await mineAt(expiresAt - 1);
      expect(await contract.hasActiveAccess(patient.address, emergency.address, IMAGING)).to.equal(true);
      await mineAt(expiresAt);
      expect(await time.latest()).to.equal(expiresAt);
      for (const c of ALL_CATEGORIES) {
        expect(await contract.hasActiveAccess(patient.address, emergency.address, c)).to.equal(false);
      }
    });

    it('opens only the one patient, only for the staff member who opened it', async () => {
      const { contract, admin, patient, otherPatient, emergency, outsider } = await opened();
      await contract.connect(admin).grantRole(ROLES.EMERGENCY, outsider.address);
      expect(await contract.hasActiveAccess(otherPatient.address, emergency.address, LAB_RESULTS)).to.equal(
        false,
      );
      expect(await contract.hasActiveAccess(patient.address, outsider.address, LAB_RESULTS)).to.equal(false);
    });

    it('renewing restarts the 24-hour window', async () => {
      const { contract, patient, emergency, startedAt } = await opened();
      const renewedAt = await atNextBlock(startedAt + 20 * 60 * 60);
      await expect(contract.connect(emergency).emergencyAccess(patient.address, ethers.id('still critical')))
        .to.emit(contract, 'EmergencyAccessStarted')
        .withArgs(patient.address, emergency.address, ethers.id('still critical'), renewedAt + DAY);
      await mineAt(startedAt + DAY);
      expect(await contract.hasActiveAccess(patient.address, emergency.address, LAB_RESULTS)).to.equal(true);
      await mineAt(renewedAt + DAY);
      expect(await contract.hasActiveAccess(patient.address, emergency.address, LAB_RESULTS)).to.equal(false);
    });

    it('does not create or change any grant', async () => {
      const { contract, admin, patient, emergency } = await load(deployFixture);
      await contract.connect(admin).grantRole(ROLES.PROVIDER, emergency.address);
      const grantExpiry = (await time.latest()) + 30 * DAY;
      await contract.connect(patient).grantAccess(emergency.address, LAB_RESULTS, grantExpiry);
      await contract.connect(emergency).emergencyAccess(patient.address, REASON);
      expect(await contract.accessExpiry(patient.address, emergency.address, IMAGING)).to.equal(0n);
      await contract.connect(emergency).endEmergencyAccess(patient.address, emergency.address);
      // Ending the window leaves the patient's own grant in place, and nothing more.
      expect(await contract.hasActiveAccess(patient.address, emergency.address, LAB_RESULTS)).to.equal(true);
      expect(await contract.hasActiveAccess(patient.address, emergency.address, IMAGING)).to.equal(false);
      expect(await contract.accessExpiry(patient.address, emergency.address, LAB_RESULTS)).to.equal(
        grantExpiry,
      );
    });
  });

  describe('endEmergencyAccess', () => {
    it('the patient can end the window at once', async () => {
      const { contract, patient, emergency } = await opened();
      await expect(contract.connect(patient).endEmergencyAccess(patient.address, emergency.address))
        .to.emit(contract, 'EmergencyAccessEnded')
        .withArgs(patient.address, emergency.address, patient.address);
      expect(await contract.emergencyExpiry(patient.address, emergency.address)).to.equal(0n);
      for (const c of ALL_CATEGORIES) {
        expect(await contract.hasActiveAccess(patient.address, emergency.address, c)).to.equal(false);
      }
    });

    it('the staff member can end their own window', async () => {
      const { contract, patient, emergency } = await opened();
      await expect(contract.connect(emergency).endEmergencyAccess(patient.address, emergency.address))
        .to.emit(contract, 'EmergencyAccessEnded')
        .withArgs(patient.address, emergency.address, emergency.address);
      expect(await contract.hasActiveAccess(patient.address, emergency.address, LAB_RESULTS)).to.equal(false);
    });

    it('nobody else can end it, not even the admin or another emergency staff member', async () => {
      const { contract, admin, patient, otherPatient, emergency, outsider, provider } = await opened();
      await contract.connect(admin).grantRole(ROLES.EMERGENCY, outsider.address);
      for (const caller of [outsider, admin, provider, otherPatient]) {
        await expect(contract.connect(caller).endEmergencyAccess(patient.address, emergency.address))
          .to.be.revertedWithCustomError(contract, 'NotPatientOrProvider')
          .withArgs(caller.address);
      }
      expect(await contract.hasActiveAccess(patient.address, emergency.address, LAB_RESULTS)).to.equal(true);
    });

    it('refuses to end a window that was never opened', async () => {
      const { contract, patient, emergency } = await load(deployFixture);
      await expect(contract.connect(patient).endEmergencyAccess(patient.address, emergency.address))
        .to.be.revertedWithCustomError(contract, 'NoEmergencyAccess')
        .withArgs(patient.address, emergency.address);
    });

    it('refuses to end a window that already ended or lapsed', async () => {
      const { contract, patient, emergency, expiresAt } = await opened();
      await contract.connect(patient).endEmergencyAccess(patient.address, emergency.address);
      await expect(contract.connect(emergency).endEmergencyAccess(patient.address, emergency.address))
        .to.be.revertedWithCustomError(contract, 'NoEmergencyAccess')
        .withArgs(patient.address, emergency.address);

      await contract.connect(emergency).emergencyAccess(patient.address, REASON);
      const secondExpiry = Number(await contract.emergencyExpiry(patient.address, emergency.address));
      expect(secondExpiry).to.be.greaterThan(expiresAt - DAY);
      await atNextBlock(secondExpiry);
      await expect(contract.connect(patient).endEmergencyAccess(patient.address, emergency.address))
        .to.be.revertedWithCustomError(contract, 'NoEmergencyAccess')
        .withArgs(patient.address, emergency.address);
    });
  });

  describe('losing the emergency role', () => {
    it('removing EMERGENCY_ROLE ends the open windows at once, and re-admission does not reopen them', async () => {
      const { contract, admin, patient, emergency, expiresAt } = await opened();
      await contract.connect(admin).revokeRole(ROLES.EMERGENCY, emergency.address);
      expect(await contract.hasActiveAccess(patient.address, emergency.address, LAB_RESULTS)).to.equal(false);
      await contract.connect(admin).grantRole(ROLES.EMERGENCY, emergency.address);
      expect(await time.latest()).to.be.lessThan(expiresAt);
      expect(await contract.hasActiveAccess(patient.address, emergency.address, LAB_RESULTS)).to.equal(false);
      // A new window, opened after re-admission, counts.
      await contract.connect(emergency).emergencyAccess(patient.address, REASON);
      expect(await contract.hasActiveAccess(patient.address, emergency.address, LAB_RESULTS)).to.equal(true);
    });

    it('holding PROVIDER_ROLE does not keep emergency access alive', async () => {
      const { contract, admin, patient, emergency } = await opened();
      await contract.connect(admin).grantRole(ROLES.PROVIDER, emergency.address);
      await contract.connect(admin).revokeRole(ROLES.EMERGENCY, emergency.address);
      expect(await contract.hasActiveAccess(patient.address, emergency.address, LAB_RESULTS)).to.equal(false);
    });
  });
});
