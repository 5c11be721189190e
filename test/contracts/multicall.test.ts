import { expect } from 'chai';
import { DAY, IMAGING, LAB_RESULTS, deployFixture, load, signGrant, signRevoke } from './fixtures';
import { time } from '@nomicfoundation/hardhat-toolbox/network-helpers';

describe('HealthRecordAccessControl: relaying several signed intents in one transaction', () => {
  it("several patients' signed grants and a revoke go out as one multicall, each applied as if sent alone", async () => {
    const { contract, domain, patient, otherPatient, provider, relayer } = await load(deployFixture);
    const now = await time.latest();
    const deadline = now + DAY;
    const expiresAt = now + 30 * DAY;
    const grantA = {
      patient: patient.address,
      provider: provider.address,
      category: LAB_RESULTS,
      expiresAt,
      nonce: 0,
      deadline,
    };
    const grantB = { ...grantA, patient: otherPatient.address, category: IMAGING };
    const revokeA = {
      patient: patient.address,
      provider: provider.address,
      category: LAB_RESULTS,
      nonce: 1,
      deadline,
    };
    const calls = [
      contract.interface.encodeFunctionData('grantAccessWithSig', [
        grantA.patient,
        grantA.provider,
        grantA.category,
        expiresAt,
        deadline,
        await signGrant(patient, domain, grantA),
      ]),
      contract.interface.encodeFunctionData('grantAccessWithSig', [
        grantB.patient,
        grantB.provider,
        grantB.category,
        expiresAt,
        deadline,
        await signGrant(otherPatient, domain, grantB),
      ]),
      contract.interface.encodeFunctionData('revokeAccessWithSig', [
        revokeA.patient,
        revokeA.provider,
        revokeA.category,
        deadline,
        await signRevoke(patient, domain, revokeA),
      ]),
    ];
    await expect(contract.connect(relayer).multicall(calls))
      .to.emit(contract, 'AccessGranted')
      .withArgs(otherPatient.address, provider.address, IMAGING, expiresAt)
      .and.to.emit(contract, 'AccessRevoked')
      .withArgs(patient.address, provider.address, LAB_RESULTS);
    expect(await contract.hasActiveAccess(otherPatient.address, provider.address, IMAGING)).to.equal(true);
    expect(await contract.hasActiveAccess(patient.address, provider.address, LAB_RESULTS)).to.equal(false);
    expect(await contract.nonces(patient.address)).to.equal(2n);
  });

  it('one bad signature in a multicall refuses the whole transaction, so the relayer must isolate it', async () => {
    const { contract, domain, patient, otherPatient, provider, relayer } = await load(deployFixture);
    const now = await time.latest();
    const deadline = now + DAY;
    const expiresAt = now + DAY;
    const good = {
      patient: patient.address,
      provider: provider.address,
      category: LAB_RESULTS,
      expiresAt,
      nonce: 0,
      deadline,
    };
    const forged = { ...good, patient: otherPatient.address };
    const calls = [
      contract.interface.encodeFunctionData('grantAccessWithSig', [
        good.patient,
        good.provider,
        good.category,
        expiresAt,
        deadline,
        await signGrant(patient, domain, good),
      ]),
      // Signed by the wrong patient.
      contract.interface.encodeFunctionData('grantAccessWithSig', [
        forged.patient,
        forged.provider,
        forged.category,
        expiresAt,
        deadline,
        await signGrant(patient, domain, forged),
      ]),
    ];
    await expect(contract.connect(relayer).multicall(calls))
      .to.be.revertedWithCustomError(contract, 'InvalidSignature')
      .withArgs(otherPatient.address);
    expect(await contract.nonces(patient.address)).to.equal(0n);
  });
});
