import { expect } from 'chai';
import hre from 'hardhat';
import { categoryId, consentDomain, consentTypedData } from '../../libs/chain/src';
import type { HealthRecordAccessControl } from '../../libs/chain/src';

const { ethers } = hre;

// The typed-data builders in libs/chain are what the API and the web app use: the contract must
// accept what they produce, for every signed action.
describe('libs/chain typed data', () => {
  async function deploy() {
    const [admin, patient, provider, relayer] = await ethers.getSigners();
    const factory = await ethers.getContractFactory('HealthRecordAccessControl', admin);
    const contract = (await factory.deploy(0, admin!.address)) as unknown as HealthRecordAccessControl;
    await contract.grantRole(await contract.PROVIDER_ROLE(), provider!.address);
    const { chainId } = await ethers.provider.getNetwork();
    const domain = consentDomain(chainId, await contract.getAddress());
    const { timestamp } = (await ethers.provider.getBlock('latest'))!;
    return { contract, patient: patient!, provider: provider!, relayer: relayer!, domain, now: timestamp };
  }

  async function sign<T extends Parameters<typeof consentTypedData>[0]>(
    signer: Awaited<ReturnType<typeof deploy>>['patient'],
    data: ReturnType<typeof consentTypedData<T>>,
  ) {
    return signer.signTypedData(data.domain, data.types, data.message);
  }

  it('a relayed Grant, GrantBatch, Revoke and RegisterRecord signed from the builders are accepted', async () => {
    const { contract, patient, provider, relayer, domain, now } = await deploy();
    const deadline = now + 3600;
    const expiresAt = now + 86_400;
    const labs = categoryId('lab_results');
    const imaging = categoryId('imaging');

    const grant = consentTypedData('Grant', domain, {
      patient: patient.address,
      provider: provider.address,
      category: labs,
      expiresAt,
      nonce: 0,
      deadline,
    });
    await contract
      .connect(relayer)
      .grantAccessWithSig(
        patient.address,
        provider.address,
        labs,
        expiresAt,
        deadline,
        await sign(patient, grant),
      );
    expect(await contract.hasActiveAccess(patient.address, provider.address, labs)).to.equal(true);

    const items = [{ provider: provider.address, category: imaging, expiresAt }];
    const batch = consentTypedData('GrantBatch', domain, {
      patient: patient.address,
      items,
      nonce: 1,
      deadline,
    });
    await contract
      .connect(relayer)
      .grantAccessBatchWithSig(patient.address, items, deadline, await sign(patient, batch));
    expect(await contract.hasActiveAccess(patient.address, provider.address, imaging)).to.equal(true);

    const revoke = consentTypedData('Revoke', domain, {
      patient: patient.address,
      provider: provider.address,
      category: labs,
      nonce: 2,
      deadline,
    });
    await contract
      .connect(relayer)
      .revokeAccessWithSig(patient.address, provider.address, labs, deadline, await sign(patient, revoke));
    expect(await contract.hasActiveAccess(patient.address, provider.address, labs)).to.equal(false);

    const recordId = ethers.id('bafkrei-record');
    const register = consentTypedData('RegisterRecord', domain, {
      patient: patient.address,
      recordId,
      category: labs,
      supersedes: ethers.ZeroHash,
      nonce: 3,
      deadline,
    });
    await contract
      .connect(relayer)
      .registerRecordWithSig(
        patient.address,
        recordId,
        labs,
        ethers.ZeroHash,
        deadline,
        await sign(patient, register),
      );
    expect(await contract.recordCategory(patient.address, recordId)).to.equal(labs);
    expect(await contract.nonces(patient.address)).to.equal(4n);
  });

  it('the builders recover the patient off-chain, as the API checks before spending gas', async () => {
    const { patient, provider, domain, now } = await deploy();
    const grant = consentTypedData('Grant', domain, {
      patient: patient.address,
      provider: provider.address,
      category: categoryId('imaging'),
      expiresAt: now + 60,
      nonce: 0,
      deadline: now + 60,
    });
    const signature = await sign(patient, grant);
    expect(ethers.verifyTypedData(grant.domain, grant.types, grant.message, signature)).to.equal(
      patient.address,
    );
    const tampered = { ...grant.message, category: categoryId('mental_health') };
    expect(ethers.verifyTypedData(grant.domain, grant.types, tampered, signature)).to.not.equal(
      patient.address,
    );
  });
});
