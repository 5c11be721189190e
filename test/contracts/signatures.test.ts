import { expect } from 'chai';
import { ethers } from 'hardhat';
import { time } from '@nomicfoundation/hardhat-toolbox/network-helpers';
import type { ContractTransactionResponse, Signer, TypedDataDomain } from 'ethers';
import {
  DAY,
  IMAGING,
  LAB_RESULTS,
  PRESCRIPTIONS,
  ROLES,
  atNextBlock,
  deployContract,
  deployFixture,
  deployWallet,
  recordId,
  signGrant,
  signGrantBatch,
  signRegisterRecord,
  signRevoke,
  type Fixture,
  type GrantItem,
  load,
} from './fixtures';

/** How a test may deviate from an honest signature. */
interface SignOptions {
  signer?: Signer;
  domain?: TypedDataDomain;
  nonce?: bigint;
  deadline?: number;
}

interface Prepared {
  /** Relays the signed message; `tampered` changes one signed field on the way. */
  submit(relayer: Signer, tampered?: boolean): Promise<ContractTransactionResponse>;
  /** Asserts the event and state change of an accepted relay. */
  expectApplied(tx: ContractTransactionResponse): Promise<void>;
  deadline: number;
}

interface SigFunction {
  name: string;
  prepare(f: Fixture, options?: SignOptions): Promise<Prepared>;
}

const defaults = async (f: Fixture, options: SignOptions) => ({
  signer: options.signer ?? f.patient,
  domain: options.domain ?? f.domain,
  nonce: options.nonce ?? (await f.contract.nonces(f.patient.address)),
  deadline: options.deadline ?? (await time.latest()) + DAY,
});

const grantWithSig: SigFunction = {
  name: 'grantAccessWithSig',
  async prepare(f, options = {}) {
    const { signer, domain, nonce, deadline } = await defaults(f, options);
    const expiresAt = (await time.latest()) + 30 * DAY;
    const message = {
      patient: f.patient.address,
      provider: f.provider.address,
      category: LAB_RESULTS,
      expiresAt,
      nonce,
      deadline,
    };
    const signature = await signGrant(signer, domain, message);
    return {
      deadline,
      submit: (relayer, tampered = false) =>
        f.contract
          .connect(relayer)
          .grantAccessWithSig(
            f.patient.address,
            f.provider.address,
            tampered ? IMAGING : LAB_RESULTS,
            expiresAt,
            deadline,
            signature,
          ),
      async expectApplied(tx) {
        await expect(tx)
          .to.emit(f.contract, 'AccessGranted')
          .withArgs(f.patient.address, f.provider.address, LAB_RESULTS, expiresAt);
        expect(await f.contract.hasActiveAccess(f.patient.address, f.provider.address, LAB_RESULTS)).to.equal(
          true,
        );
      },
    };
  },
};

const grantBatchWithSig: SigFunction = {
  name: 'grantAccessBatchWithSig',
  async prepare(f, options = {}) {
    const { signer, domain, nonce, deadline } = await defaults(f, options);
    const expiresAt = (await time.latest()) + 30 * DAY;
    const items: GrantItem[] = [
      { provider: f.provider.address, category: LAB_RESULTS, expiresAt },
      { provider: f.provider2.address, category: IMAGING, expiresAt: expiresAt + 1 },
    ];
    const signature = await signGrantBatch(signer, domain, {
      patient: f.patient.address,
      items,
      nonce,
      deadline,
    });
    return {
      deadline,
      submit: (relayer, tampered = false) =>
        f.contract
          .connect(relayer)
          .grantAccessBatchWithSig(
            f.patient.address,
            tampered ? [items[0]!, { ...items[1]!, expiresAt: expiresAt + 2 }] : items,
            deadline,
            signature,
          ),
      async expectApplied(tx) {
        await expect(tx)
          .to.emit(f.contract, 'AccessGranted')
          .withArgs(f.patient.address, f.provider.address, LAB_RESULTS, expiresAt)
          .and.to.emit(f.contract, 'AccessGranted')
          .withArgs(f.patient.address, f.provider2.address, IMAGING, expiresAt + 1);
        expect(await f.contract.hasActiveAccess(f.patient.address, f.provider.address, LAB_RESULTS)).to.equal(
          true,
        );
        expect(await f.contract.hasActiveAccess(f.patient.address, f.provider2.address, IMAGING)).to.equal(
          true,
        );
      },
    };
  },
};

const revokeWithSig: SigFunction = {
  name: 'revokeAccessWithSig',
  async prepare(f, options = {}) {
    const expiresAt = (await time.latest()) + 30 * DAY;
    await f.contract.connect(f.patient).grantAccess(f.provider.address, LAB_RESULTS, expiresAt);
    await f.contract.connect(f.patient).grantAccess(f.provider.address, IMAGING, expiresAt);
    const { signer, domain, nonce, deadline } = await defaults(f, options);
    const message = {
      patient: f.patient.address,
      provider: f.provider.address,
      category: LAB_RESULTS,
      nonce,
      deadline,
    };
    const signature = await signRevoke(signer, domain, message);
    return {
      deadline,
      submit: (relayer, tampered = false) =>
        f.contract
          .connect(relayer)
          .revokeAccessWithSig(
            f.patient.address,
            f.provider.address,
            tampered ? IMAGING : LAB_RESULTS,
            deadline,
            signature,
          ),
      async expectApplied(tx) {
        await expect(tx)
          .to.emit(f.contract, 'AccessRevoked')
          .withArgs(f.patient.address, f.provider.address, LAB_RESULTS);
        expect(await f.contract.hasActiveAccess(f.patient.address, f.provider.address, LAB_RESULTS)).to.equal(
          false,
        );
        expect(await f.contract.hasActiveAccess(f.patient.address, f.provider.address, IMAGING)).to.equal(
          true,
        );
      },
    };
  },
};

const registerRecordWithSig: SigFunction = {
  name: 'registerRecordWithSig',
  async prepare(f, options = {}) {
    const first = recordId('lab-v1');
    const second = recordId('lab-v2');
    if ((await f.contract.recordCategory(f.patient.address, first)) === ethers.ZeroHash) {
      await f.contract.connect(f.patient).registerRecord(first, LAB_RESULTS, ethers.ZeroHash);
    }
    const { signer, domain, nonce, deadline } = await defaults(f, options);
    const message = {
      patient: f.patient.address,
      recordId: second,
      category: LAB_RESULTS,
      supersedes: first,
      nonce,
      deadline,
    };
    const signature = await signRegisterRecord(signer, domain, message);
    return {
      deadline,
      submit: (relayer, tampered = false) =>
        f.contract
          .connect(relayer)
          .registerRecordWithSig(
            f.patient.address,
            second,
            tampered ? IMAGING : LAB_RESULTS,
            first,
            deadline,
            signature,
          ),
      async expectApplied(tx) {
        await expect(tx)
          .to.emit(f.contract, 'RecordRegistered')
          .withArgs(f.patient.address, second, LAB_RESULTS, first);
        expect(await f.contract.recordCategory(f.patient.address, second)).to.equal(LAB_RESULTS);
      },
    };
  },
};

describe('HealthRecordAccessControl: relayed EIP-712 signatures', () => {
  for (const fn of [grantWithSig, grantBatchWithSig, revokeWithSig, registerRecordWithSig]) {
    describe(fn.name, () => {
      it('applies a patient signature relayed by someone else; the patient pays no gas', async () => {
        const f = await load(deployFixture);
        const prepared = await fn.prepare(f);
        const patientBalance = await ethers.provider.getBalance(f.patient.address);
        const relayerBalance = await ethers.provider.getBalance(f.relayer.address);
        const tx = await prepared.submit(f.relayer);
        await prepared.expectApplied(tx);
        expect(await ethers.provider.getBalance(f.patient.address)).to.equal(patientBalance);
        expect(await ethers.provider.getBalance(f.relayer.address)).to.be.lessThan(relayerBalance);
      });

      it("uses up the patient's nonce, so the same signature cannot be replayed", async () => {
        const f = await load(deployFixture);
        const prepared = await fn.prepare(f);
        const before = await f.contract.nonces(f.patient.address);
        await prepared.submit(f.relayer);
        expect(await f.contract.nonces(f.patient.address)).to.equal(before + 1n);
        await expect(prepared.submit(f.relayer))
          .to.be.revertedWithCustomError(f.contract, 'InvalidSignature')
          .withArgs(f.patient.address);
        await expect(prepared.submit(f.patient))
          .to.be.revertedWithCustomError(f.contract, 'InvalidSignature')
          .withArgs(f.patient.address);
        expect(await f.contract.nonces(f.patient.address)).to.equal(before + 1n);
      });

      it('refuses a signature made for a nonce other than the current one', async () => {
        const f = await load(deployFixture);
        const current = await f.contract.nonces(f.patient.address);
        const prepared = await fn.prepare(f, { nonce: current + 1n });
        await expect(prepared.submit(f.relayer))
          .to.be.revertedWithCustomError(f.contract, 'InvalidSignature')
          .withArgs(f.patient.address);
        expect(await f.contract.nonces(f.patient.address)).to.equal(current);
      });

      it('accepts the signature up to its deadline second and refuses it after', async () => {
        const f = await load(deployFixture);
        const deadline = (await time.latest()) + 1000;
        const prepared = await fn.prepare(f, { deadline });
        await atNextBlock(deadline + 1);
        await expect(prepared.submit(f.relayer))
          .to.be.revertedWithCustomError(f.contract, 'ExpiredSignature')
          .withArgs(deadline);

        const f2 = await load(deployFixture);
        const deadline2 = (await time.latest()) + 1000;
        const prepared2 = await fn.prepare(f2, { deadline: deadline2 });
        await atNextBlock(deadline2);
        await prepared2.expectApplied(await prepared2.submit(f2.relayer));
      });

      it('refuses a signature by anyone other than the patient', async () => {
        const f = await load(deployFixture);
        for (const signer of [f.outsider, f.provider, f.admin, f.relayer]) {
          const prepared = await fn.prepare(f, { signer });
          await expect(prepared.submit(f.relayer))
            .to.be.revertedWithCustomError(f.contract, 'InvalidSignature')
            .withArgs(f.patient.address);
        }
      });

      it('refuses a signature made for another chain', async () => {
        const f = await load(deployFixture);
        const prepared = await fn.prepare(f, { domain: { ...f.domain, chainId: 1n } });
        await expect(prepared.submit(f.relayer))
          .to.be.revertedWithCustomError(f.contract, 'InvalidSignature')
          .withArgs(f.patient.address);
      });

      it('refuses a signature made for another deployment of the contract', async () => {
        const f = await load(deployFixture);
        const other = await deployContract(f.admin);
        const prepared = await fn.prepare(f, {
          domain: { ...f.domain, verifyingContract: await other.getAddress() },
        });
        await expect(prepared.submit(f.relayer))
          .to.be.revertedWithCustomError(f.contract, 'InvalidSignature')
          .withArgs(f.patient.address);
      });

      it('refuses a signature for another domain name or version', async () => {
        const f = await load(deployFixture);
        for (const domain of [
          { ...f.domain, version: '1' },
          { ...f.domain, name: 'Custos' },
        ]) {
          const prepared = await fn.prepare(f, { domain });
          await expect(prepared.submit(f.relayer))
            .to.be.revertedWithCustomError(f.contract, 'InvalidSignature')
            .withArgs(f.patient.address);
        }
      });

      it('refuses a relayed message with a field changed after signing', async () => {
        const f = await load(deployFixture);
        const prepared = await fn.prepare(f);
        await expect(prepared.submit(f.relayer, true))
          .to.be.revertedWithCustomError(f.contract, 'InvalidSignature')
          .withArgs(f.patient.address);
        // The honest message still goes through: the failed attempt consumed nothing.
        await prepared.expectApplied(await prepared.submit(f.relayer));
      });
    });
  }

  describe('grantAccessWithSig, field by field', () => {
    it('refuses a signature whose patient, provider, expiry or deadline was changed', async () => {
      const f = await load(deployFixture);
      const { contract, patient, provider, provider2, otherPatient, relayer } = f;
      const expiresAt = (await time.latest()) + 30 * DAY;
      const deadline = (await time.latest()) + DAY;
      const signature = await signGrant(patient, f.domain, {
        patient: patient.address,
        provider: provider.address,
        category: LAB_RESULTS,
        expiresAt,
        nonce: 0n,
        deadline,
      });
      const attempts: [string, string, number, number][] = [
        [otherPatient.address, provider.address, expiresAt, deadline],
        [patient.address, provider2.address, expiresAt, deadline],
        [patient.address, provider.address, expiresAt + 1, deadline],
        [patient.address, provider.address, expiresAt, deadline + 1],
      ];
      for (const [who, to, until, by] of attempts) {
        await expect(contract.connect(relayer).grantAccessWithSig(who, to, LAB_RESULTS, until, by, signature))
          .to.be.revertedWithCustomError(contract, 'InvalidSignature')
          .withArgs(who);
      }
      await contract
        .connect(relayer)
        .grantAccessWithSig(patient.address, provider.address, LAB_RESULTS, expiresAt, deadline, signature);
    });

    it('refuses a malformed signature', async () => {
      const { contract, patient, provider, relayer } = await load(deployFixture);
      const expiresAt = (await time.latest()) + DAY;
      for (const signature of ['0x', '0x1234', ethers.hexlify(new Uint8Array(65))]) {
        await expect(
          contract
            .connect(relayer)
            .grantAccessWithSig(
              patient.address,
              provider.address,
              LAB_RESULTS,
              expiresAt,
              expiresAt,
              signature,
            ),
        )
          .to.be.revertedWithCustomError(contract, 'InvalidSignature')
          .withArgs(patient.address);
      }
    });

    it('still checks the grant itself: a signed grant to a non-provider is refused and burns no nonce', async () => {
      const f = await load(deployFixture);
      const { contract, patient, outsider, relayer } = f;
      const expiresAt = (await time.latest()) + DAY;
      const deadline = expiresAt;
      const signature = await signGrant(patient, f.domain, {
        patient: patient.address,
        provider: outsider.address,
        category: LAB_RESULTS,
        expiresAt,
        nonce: 0n,
        deadline,
      });
      await expect(
        contract
          .connect(relayer)
          .grantAccessWithSig(patient.address, outsider.address, LAB_RESULTS, expiresAt, deadline, signature),
      )
        .to.be.revertedWithCustomError(contract, 'NotAProvider')
        .withArgs(outsider.address);
      expect(await contract.nonces(patient.address)).to.equal(0n);
    });

    it('nonces are per patient and shared by every kind of signed message', async () => {
      const f = await load(deployFixture);
      const { contract, patient, otherPatient, provider, relayer } = f;
      const expiresAt = (await time.latest()) + DAY;
      const deadline = expiresAt;
      const grant = (nonce: bigint) =>
        signGrant(patient, f.domain, {
          patient: patient.address,
          provider: provider.address,
          category: LAB_RESULTS,
          expiresAt,
          nonce,
          deadline,
        });
      await contract
        .connect(relayer)
        .grantAccessWithSig(
          patient.address,
          provider.address,
          LAB_RESULTS,
          expiresAt,
          deadline,
          await grant(0n),
        );
      const revoke = await signRevoke(patient, f.domain, {
        patient: patient.address,
        provider: provider.address,
        category: LAB_RESULTS,
        nonce: 1n,
        deadline,
      });
      await contract
        .connect(relayer)
        .revokeAccessWithSig(patient.address, provider.address, LAB_RESULTS, deadline, revoke);
      expect(await contract.nonces(patient.address)).to.equal(2n);
      expect(await contract.nonces(otherPatient.address)).to.equal(0n);
      // A grant signed for nonce 1 (now used by the revoke) is void.
      await expect(
        contract
          .connect(relayer)
          .grantAccessWithSig(
            patient.address,
            provider.address,
            LAB_RESULTS,
            expiresAt,
            deadline,
            await grant(1n),
          ),
      ).to.be.revertedWithCustomError(contract, 'InvalidSignature');
    });
  });

  describe('grantAccessBatchWithSig', () => {
    const signBatch = async (f: Fixture, items: GrantItem[], nonce = 0n) => {
      const deadline = (await time.latest()) + DAY;
      const signature = await signGrantBatch(f.patient, f.domain, {
        patient: f.patient.address,
        items,
        nonce,
        deadline,
      });
      return { deadline, signature };
    };

    it('refuses an empty batch', async () => {
      const f = await load(deployFixture);
      const { deadline, signature } = await signBatch(f, []);
      await expect(
        f.contract.connect(f.relayer).grantAccessBatchWithSig(f.patient.address, [], deadline, signature),
      )
        .to.be.revertedWithCustomError(f.contract, 'InvalidBatchSize')
        .withArgs(0);
    });

    it('accepts MAX_BATCH_SIZE grants and refuses one more', async () => {
      const f = await load(deployFixture);
      const expiresAt = (await time.latest()) + 30 * DAY;
      const items = (n: number): GrantItem[] =>
        Array.from({ length: n }, (_, i) => ({
          provider: f.provider.address,
          category: ethers.id(`category-${i}`),
          expiresAt,
        }));
      const tooMany = await signBatch(f, items(51));
      await expect(
        f.contract
          .connect(f.relayer)
          .grantAccessBatchWithSig(f.patient.address, items(51), tooMany.deadline, tooMany.signature),
      )
        .to.be.revertedWithCustomError(f.contract, 'InvalidBatchSize')
        .withArgs(51);

      const full = await signBatch(f, items(50));
      const tx = await f.contract
        .connect(f.relayer)
        .grantAccessBatchWithSig(f.patient.address, items(50), full.deadline, full.signature);
      const receipt = await tx.wait();
      expect(receipt?.logs.length).to.equal(50);
      expect(
        await f.contract.hasActiveAccess(f.patient.address, f.provider.address, ethers.id('category-49')),
      ).to.equal(true);
    });

    it('applies every grant of the batch with one AccessGranted event each, in order', async () => {
      const f = await load(deployFixture);
      const now = await time.latest();
      const items: GrantItem[] = [
        { provider: f.provider.address, category: LAB_RESULTS, expiresAt: now + DAY },
        { provider: f.provider.address, category: IMAGING, expiresAt: now + 2 * DAY },
        { provider: f.provider2.address, category: PRESCRIPTIONS, expiresAt: now + 3 * DAY },
      ];
      const { deadline, signature } = await signBatch(f, items);
      const tx = await f.contract
        .connect(f.relayer)
        .grantAccessBatchWithSig(f.patient.address, items, deadline, signature);
      const receipt = await tx.wait();
      const events = receipt!.logs.map((log) => f.contract.interface.parseLog(log));
      expect(events.map((e) => e?.name)).to.deep.equal(['AccessGranted', 'AccessGranted', 'AccessGranted']);
      expect(events.map((e) => [...e!.args])).to.deep.equal(
        items.map((item) => [f.patient.address, item.provider, item.category, BigInt(item.expiresAt)]),
      );
      for (const item of items) {
        expect(await f.contract.accessExpiry(f.patient.address, item.provider, item.category)).to.equal(
          item.expiresAt,
        );
      }
      expect(await f.contract.hasActiveAccess(f.patient.address, f.provider2.address, LAB_RESULTS)).to.equal(
        false,
      );
      expect(await f.contract.nonces(f.patient.address)).to.equal(1n);
    });

    it('is all or nothing: one invalid item refuses the whole batch', async () => {
      const f = await load(deployFixture);
      const now = await time.latest();
      const cases: [GrantItem, string][] = [
        [{ provider: f.outsider.address, category: IMAGING, expiresAt: now + DAY }, 'NotAProvider'],
        [
          { provider: f.provider.address, category: ethers.ZeroHash, expiresAt: now + DAY },
          'InvalidCategory',
        ],
        [{ provider: f.provider.address, category: IMAGING, expiresAt: now + 400 * DAY }, 'InvalidExpiry'],
      ];
      for (const [bad, error] of cases) {
        const items = [{ provider: f.provider.address, category: LAB_RESULTS, expiresAt: now + DAY }, bad];
        const { deadline, signature } = await signBatch(f, items);
        await expect(
          f.contract
            .connect(f.relayer)
            .grantAccessBatchWithSig(f.patient.address, items, deadline, signature),
        ).to.be.revertedWithCustomError(f.contract, error);
      }
      expect(await f.contract.hasActiveAccess(f.patient.address, f.provider.address, LAB_RESULTS)).to.equal(
        false,
      );
      expect(await f.contract.nonces(f.patient.address)).to.equal(0n);
    });

    it('refuses a batch whose items were reordered, dropped or added after signing', async () => {
      const f = await load(deployFixture);
      const now = await time.latest();
      const items: GrantItem[] = [
        { provider: f.provider.address, category: LAB_RESULTS, expiresAt: now + DAY },
        { provider: f.provider2.address, category: IMAGING, expiresAt: now + DAY },
      ];
      const { deadline, signature } = await signBatch(f, items);
      const extra = { provider: f.provider2.address, category: PRESCRIPTIONS, expiresAt: now + DAY };
      for (const changed of [[items[1]!, items[0]!], [items[0]!], [...items, extra]]) {
        await expect(
          f.contract
            .connect(f.relayer)
            .grantAccessBatchWithSig(f.patient.address, changed, deadline, signature),
        )
          .to.be.revertedWithCustomError(f.contract, 'InvalidSignature')
          .withArgs(f.patient.address);
      }
    });
  });

  describe('smart-account patients (ERC-1271)', () => {
    it('a smart-account patient consents and revokes through its owner key', async () => {
      const f = await load(deployFixture);
      const { contract, patient, provider, relayer } = f;
      const wallet = await deployWallet(patient);
      const account = await wallet.getAddress();
      const expiresAt = (await time.latest()) + DAY;
      const deadline = expiresAt;
      const grant = await signGrant(patient, f.domain, {
        patient: account,
        provider: provider.address,
        category: LAB_RESULTS,
        expiresAt,
        nonce: 0n,
        deadline,
      });
      await expect(
        contract
          .connect(relayer)
          .grantAccessWithSig(account, provider.address, LAB_RESULTS, expiresAt, deadline, grant),
      )
        .to.emit(contract, 'AccessGranted')
        .withArgs(account, provider.address, LAB_RESULTS, expiresAt);
      expect(await contract.hasActiveAccess(account, provider.address, LAB_RESULTS)).to.equal(true);

      const batch = await signGrantBatch(patient, f.domain, {
        patient: account,
        items: [{ provider: provider.address, category: IMAGING, expiresAt }],
        nonce: 1n,
        deadline,
      });
      await contract
        .connect(relayer)
        .grantAccessBatchWithSig(
          account,
          [{ provider: provider.address, category: IMAGING, expiresAt }],
          deadline,
          batch,
        );
      expect(await contract.hasActiveAccess(account, provider.address, IMAGING)).to.equal(true);

      const revoke = await signRevoke(patient, f.domain, {
        patient: account,
        provider: provider.address,
        category: LAB_RESULTS,
        nonce: 2n,
        deadline,
      });
      await contract
        .connect(relayer)
        .revokeAccessWithSig(account, provider.address, LAB_RESULTS, deadline, revoke);
      expect(await contract.hasActiveAccess(account, provider.address, LAB_RESULTS)).to.equal(false);
      expect(await contract.nonces(account)).to.equal(3n);
    });

    it("refuses a signature the smart account does not accept (not its owner's key)", async () => {
      const f = await load(deployFixture);
      const { contract, patient, outsider, provider, relayer } = f;
      const wallet = await deployWallet(patient);
      const account = await wallet.getAddress();
      const expiresAt = (await time.latest()) + DAY;
      const signature = await signGrant(outsider, f.domain, {
        patient: account,
        provider: provider.address,
        category: LAB_RESULTS,
        expiresAt,
        nonce: 0n,
        deadline: expiresAt,
      });
      await expect(
        contract
          .connect(relayer)
          .grantAccessWithSig(account, provider.address, LAB_RESULTS, expiresAt, expiresAt, signature),
      )
        .to.be.revertedWithCustomError(contract, 'InvalidSignature')
        .withArgs(account);
    });
  });

  describe('who signs for whom', () => {
    it("a provider cannot grant themselves access to a patient's data with their own signature", async () => {
      const f = await load(deployFixture);
      const { contract, patient, provider } = f;
      const expiresAt = (await time.latest()) + DAY;
      const signature = await signGrant(provider, f.domain, {
        patient: patient.address,
        provider: provider.address,
        category: LAB_RESULTS,
        expiresAt,
        nonce: 0n,
        deadline: expiresAt,
      });
      await expect(
        contract
          .connect(provider)
          .grantAccessWithSig(
            patient.address,
            provider.address,
            LAB_RESULTS,
            expiresAt,
            expiresAt,
            signature,
          ),
      )
        .to.be.revertedWithCustomError(contract, 'InvalidSignature')
        .withArgs(patient.address);
      expect(await contract.hasRole(ROLES.PROVIDER, provider.address)).to.equal(true);
      expect(await contract.hasActiveAccess(patient.address, provider.address, LAB_RESULTS)).to.equal(false);
    });
  });
});
