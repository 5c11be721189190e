import { expect } from 'chai';
import { ethers } from 'hardhat';
import { time } from '@nomicfoundation/hardhat-toolbox/network-helpers';
import type { ContractTransactionResponse } from 'ethers';
import { DAY, LAB_RESULTS, action, deployFixture, recordId, load } from './fixtures';

/** Only fixed-size values: addresses, hashes, times and positions. */
const FIXED_SIZE = /^(address|bytes32|uint(8|16|32|48|64|128|256)|bool)$/;

describe('HealthRecordAccessControl: no personal health information on-chain', () => {
  it('every event carries only addresses, hashes, times and positions: no text, no free-form bytes', async () => {
    const { contract } = await load(deployFixture);
    contract.interface.forEachEvent((event) => {
      for (const input of event.inputs) {
        expect(input.type, `${event.name}.${input.name}`).to.match(FIXED_SIZE);
      }
    });
  });

  it('no function accepts text; the only free-form bytes are signatures', async () => {
    const { contract } = await load(deployFixture);
    contract.interface.forEachFunction((fn) => {
      for (const input of fn.inputs) {
        expect(input.type, `${fn.name}(${input.name})`).to.not.equal('string');
        if (input.type === 'bytes') expect(input.name, fn.name).to.equal('signature');
      }
    });
  });

  it('the emergency event carries the hash of the reason, never its text', async () => {
    const { contract, patient, emergency } = await load(deployFixture);
    const reason = 'Patient unconscious after a road accident; known penicillin allergy';
    const reasonHash = ethers.id(reason);
    const tx = await contract.connect(emergency).emergencyAccess(patient.address, reasonHash);
    const receipt = await tx.wait();
    const [log] = receipt!.logs;
    const parsed = contract.interface.parseLog(log!);
    expect(parsed?.name).to.equal('EmergencyAccessStarted');
    expect(parsed?.args.reasonHash).to.equal(reasonHash);
    expect(ethers.dataLength(log!.data)).to.equal(64); // reasonHash and expiresAt, one word each
    const text = ethers.hexlify(ethers.toUtf8Bytes('penicillin')).slice(2);
    expect(log!.data.toLowerCase()).to.not.include(text);
    expect(tx.data.toLowerCase()).to.not.include(text);
  });

  it('a whole patient journey leaves no category name, record label or reason text in calldata or logs', async () => {
    const { contract, patient, provider, emergency, anchor } = await load(deployFixture);
    const secrets = ['lab_results', 'hiv-test-2024', 'overdose'];
    const lab = recordId('hiv-test-2024');
    const txs: ContractTransactionResponse[] = [
      await contract.connect(patient).grantAccess(provider.address, LAB_RESULTS, (await time.latest()) + DAY),
      await contract.connect(patient).registerRecord(lab, LAB_RESULTS, ethers.ZeroHash),
      await contract.connect(provider).logAccess(patient.address, lab, action('view')),
      await contract.connect(emergency).emergencyAccess(patient.address, ethers.id('overdose')),
      await contract.connect(patient).revokeAccess(provider.address, LAB_RESULTS),
      await contract.connect(anchor).anchorAudit(ethers.id('merkle root'), 0, 3),
    ];
    for (const tx of txs) {
      const receipt = await tx.wait();
      const published = [tx.data, ...receipt!.logs.flatMap((log) => [log.data, ...log.topics])]
        .join('')
        .toLowerCase();
      for (const secret of secrets) {
        expect(published).to.not.include(ethers.hexlify(ethers.toUtf8Bytes(secret)).slice(2));
      }
    }
  });
});
