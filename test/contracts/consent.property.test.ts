import { expect } from 'chai';
import { ethers } from 'hardhat';
import { time } from '@nomicfoundation/hardhat-toolbox/network-helpers';
import fc from 'fast-check';
import type { ContractTransactionResponse } from 'ethers';
import {
  DAY,
  IMAGING,
  LAB_RESULTS,
  PRESCRIPTIONS,
  ROLES,
  YEAR,
  atNextBlock,
  deployFixture,
  mineAt,
  load,
} from './fixtures';

/**
 * Property: after any sequence of grants, revokes, role removals and re-admissions, emergency windows
 * and time jumps, `hasActiveAccess`, `accessExpiry` and `emergencyExpiry` agree with a plain model of
 * the rules of the issue, for every (accessor, category) pair.
 */

const CATEGORIES = [LAB_RESULTS, IMAGING, PRESCRIPTIONS];
const ACCESSORS = 3; // a provider, and two providers who are also emergency staff
type Role = 'provider' | 'emergency';

type Command =
  | { kind: 'grant'; who: number; cat: number; duration: number }
  | { kind: 'revoke'; who: number; cat: number }
  | { kind: 'removeRole'; who: number; role: Role }
  | { kind: 'addRole'; who: number; role: Role }
  | { kind: 'readmit'; who: number; role: Role }
  | { kind: 'openEmergency'; who: number }
  | { kind: 'endEmergency'; who: number; byPatient: boolean }
  | { kind: 'wait'; seconds: number }
  | { kind: 'waitForExpiry'; who: number; of: 'grant' | 'window'; cat: number; offset: -1 | 0 | 1 };

const who = fc.integer({ min: 0, max: ACCESSORS - 1 });
const cat = fc.integer({ min: 0, max: CATEGORIES.length - 1 });
const role = fc.constantFrom<Role>('provider', 'emergency');
const duration = fc.oneof(
  fc.constantFrom(-DAY, -1, 0, 1, 2, DAY, YEAR - 1, YEAR, YEAR + 1, 2 * YEAR),
  fc.integer({ min: 1, max: YEAR }),
);
// Mostly short waits, so grants and windows stay live long enough for other commands to matter.
const seconds = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(1, 59, 3600, DAY - 2, DAY - 1, DAY, 30 * DAY, YEAR) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 2 * DAY }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 * YEAR }) },
);

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('grant' as const), who, cat, duration }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('revoke' as const), who, cat }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('removeRole' as const), who, role }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('addRole' as const), who, role }) },
  // Removal then re-admission, two blocks apart: the case where old consents must stay void.
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('readmit' as const), who, role }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('openEmergency' as const), who }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('endEmergency' as const), who, byPatient: fc.boolean() }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('wait' as const), seconds }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('waitForExpiry' as const),
      who,
      of: fc.constantFrom<'grant' | 'window'>('grant', 'window'),
      cat,
      offset: fc.constantFrom<-1 | 0 | 1>(-1, 0, 1),
    }),
  },
);

// ------------------------------------------------------------------------------------------ the model

interface Consent {
  expiresAt: number;
  /** The provider (or staff member) lost the role after this was given. */
  voided: boolean;
  /** ...and was re-admitted since: the contract then reports no expiry for it. */
  readmitted: boolean;
}

class Model {
  now = 0;
  readonly roles: Record<Role, boolean[]> = {
    provider: [true, true, true],
    emergency: [false, true, true],
  };
  readonly grants = new Map<string, Consent>();
  readonly windows = new Map<number, Consent>();

  private key(w: number, c: number): string {
    return `${w}:${c}`;
  }

  grant(w: number, c: number, expiresAt: number, at: number): string {
    if (!this.roles.provider[w]) return 'NotAProvider';
    if (expiresAt <= at || expiresAt > at + YEAR) return 'InvalidExpiry';
    this.grants.set(this.key(w, c), { expiresAt, voided: false, readmitted: false });
    return 'ok';
  }

  revoke(w: number, c: number): string {
    if (!this.grants.delete(this.key(w, c))) return 'NoGrant';
    return 'ok';
  }

  removeRole(w: number, r: Role): string {
    if (this.roles[r][w]) {
      this.roles[r][w] = false;
      for (const consent of this.consentsOf(w, r)) consent.voided = true;
    }
    return 'ok';
  }

  addRole(w: number, r: Role): string {
    if (!this.roles[r][w]) {
      this.roles[r][w] = true;
      for (const consent of this.consentsOf(w, r)) if (consent.voided) consent.readmitted = true;
    }
    return 'ok';
  }

  openEmergency(w: number, at: number): string {
    if (!this.roles.emergency[w]) return 'AccessControlUnauthorizedAccount';
    this.windows.set(w, { expiresAt: at + DAY, voided: false, readmitted: false });
    return 'ok';
  }

  endEmergency(w: number, at: number): string {
    const window = this.windows.get(w);
    if (!window || window.expiresAt <= at) return 'NoEmergencyAccess';
    this.windows.delete(w);
    return 'ok';
  }

  grantOf(w: number, c: number): Consent | undefined {
    return this.grants.get(this.key(w, c));
  }

  /** The rules of the issue: an exact-category grant that has not expired while the provider holds
   * PROVIDER_ROLE (and held it continuously since the grant), or an open emergency window while
   * the staff member holds EMERGENCY_ROLE (likewise). */
  hasActiveAccess(w: number, c: number): boolean {
    const g = this.grantOf(w, c);
    const byGrant = !!g && !g.voided && g.expiresAt > this.now && this.roles.provider[w] === true;
    const e = this.windows.get(w);
    const byEmergency = !!e && !e.voided && e.expiresAt > this.now && this.roles.emergency[w] === true;
    return byGrant || byEmergency;
  }

  accessExpiry(w: number, c: number): number {
    const g = this.grantOf(w, c);
    return !g || g.readmitted ? 0 : g.expiresAt;
  }

  emergencyExpiry(w: number): number {
    return this.windows.get(w)?.expiresAt ?? 0;
  }

  private consentsOf(w: number, r: Role): Consent[] {
    if (r === 'emergency') return [this.windows.get(w)].filter((x): x is Consent => !!x);
    return CATEGORIES.map((_, c) => this.grantOf(w, c)).filter((x): x is Consent => !!x);
  }
}

// ------------------------------------------------------------------------------------------ the test

async function propertyFixture() {
  const f = await deployFixture();
  // Two accessors are both providers and emergency staff, so grants and windows interact.
  await f.contract.connect(f.admin).grantRole(ROLES.PROVIDER, f.emergency.address);
  await f.contract.connect(f.admin).grantRole(ROLES.EMERGENCY, f.provider2.address);
  return { ...f, accessors: [f.provider, f.provider2, f.emergency] };
}

/** Sends a transaction that is mined even when it reverts; returns 'ok' or the custom error's name. */
async function outcome(
  contract: Awaited<ReturnType<typeof propertyFixture>>['contract'],
  send: () => Promise<ContractTransactionResponse>,
): Promise<string> {
  try {
    const tx = await send();
    await tx.wait();
    return 'ok';
  } catch (error) {
    const data = findRevertData(error);
    if (!data) throw error;
    const parsed = contract.interface.parseError(data);
    if (!parsed) throw error;
    return parsed.name;
  }
}

function findRevertData(error: unknown, depth = 0): string | undefined {
  if (!error || typeof error !== 'object' || depth > 4) return undefined;
  const record = error as Record<string, unknown>;
  if (typeof record.data === 'string' && record.data.startsWith('0x') && record.data.length >= 10) {
    return record.data;
  }
  for (const key of ['error', 'info', 'cause']) {
    const found = findRevertData(record[key], depth + 1);
    if (found) return found;
  }
  return undefined;
}

const GAS = { gasLimit: 300_000 };

describe('HealthRecordAccessControl: consent model (property-based)', () => {
  it('hasActiveAccess always equals a plain model of grants, revokes, roles, emergencies and time', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 25 }), async (commands) => {
        const { contract, admin, patient, accessors } = await load(propertyFixture);
        const model = new Model();
        model.now = await time.latest();
        const account = (w: number) => accessors[w]!;
        const roleId = (r: Role) => (r === 'provider' ? ROLES.PROVIDER : ROLES.EMERGENCY);

        for (const cmd of commands) {
          if (cmd.kind === 'wait' || cmd.kind === 'waitForExpiry') {
            let target = model.now + (cmd.kind === 'wait' ? cmd.seconds : 0);
            if (cmd.kind === 'waitForExpiry') {
              const expiry =
                cmd.of === 'grant'
                  ? (model.grantOf(cmd.who, cmd.cat)?.expiresAt ?? 0)
                  : model.emergencyExpiry(cmd.who);
              target = Math.max(expiry + cmd.offset, model.now + 1);
            }
            await mineAt(target);
            model.now = target;
          } else {
            // Every transaction lands in its own block, one second after the previous one.
            let at = await atNextBlock(model.now + 1);
            let expected: string;
            let actual: string;
            switch (cmd.kind) {
              case 'grant': {
                const expiresAt = Math.max(0, at + cmd.duration);
                expected = model.grant(cmd.who, cmd.cat, expiresAt, at);
                actual = await outcome(contract, () =>
                  contract
                    .connect(patient)
                    .grantAccess(account(cmd.who).address, CATEGORIES[cmd.cat]!, expiresAt, GAS),
                );
                break;
              }
              case 'revoke':
                expected = model.revoke(cmd.who, cmd.cat);
                actual = await outcome(contract, () =>
                  contract.connect(patient).revokeAccess(account(cmd.who).address, CATEGORIES[cmd.cat]!, GAS),
                );
                break;
              case 'removeRole':
                expected = model.removeRole(cmd.who, cmd.role);
                actual = await outcome(contract, () =>
                  contract.connect(admin).revokeRole(roleId(cmd.role), account(cmd.who).address, GAS),
                );
                break;
              case 'addRole':
                expected = model.addRole(cmd.who, cmd.role);
                actual = await outcome(contract, () =>
                  contract.connect(admin).grantRole(roleId(cmd.role), account(cmd.who).address, GAS),
                );
                break;
              case 'readmit': {
                expected = model.removeRole(cmd.who, cmd.role);
                actual = await outcome(contract, () =>
                  contract.connect(admin).revokeRole(roleId(cmd.role), account(cmd.who).address, GAS),
                );
                expect(actual, `${JSON.stringify(cmd)}: removal`).to.equal(expected);
                at = await atNextBlock(at + 1);
                expected = model.addRole(cmd.who, cmd.role);
                actual = await outcome(contract, () =>
                  contract.connect(admin).grantRole(roleId(cmd.role), account(cmd.who).address, GAS),
                );
                break;
              }
              case 'openEmergency':
                expected = model.openEmergency(cmd.who, at);
                actual = await outcome(contract, () =>
                  contract
                    .connect(account(cmd.who))
                    .emergencyAccess(patient.address, ethers.id('reason'), GAS),
                );
                break;
              case 'endEmergency':
                expected = model.endEmergency(cmd.who, at);
                actual = await outcome(contract, () =>
                  contract
                    .connect(cmd.byPatient ? patient : account(cmd.who))
                    .endEmergencyAccess(patient.address, account(cmd.who).address, GAS),
                );
                break;
            }
            expect(actual, `${JSON.stringify(cmd)} at ${at}`).to.equal(expected);
            model.now = at;
          }

          expect(await time.latest()).to.equal(model.now);
          const checks: Promise<void>[] = [];
          for (let w = 0; w < ACCESSORS; w++) {
            const address = account(w).address;
            checks.push(
              contract.emergencyExpiry(patient.address, address).then((value) => {
                expect(value, `emergencyExpiry(${w}) after ${JSON.stringify(cmd)}`).to.equal(
                  model.emergencyExpiry(w),
                );
              }),
            );
            for (let c = 0; c < CATEGORIES.length; c++) {
              checks.push(
                contract.hasActiveAccess(patient.address, address, CATEGORIES[c]!).then((value) => {
                  expect(value, `hasActiveAccess(${w}, ${c}) after ${JSON.stringify(cmd)}`).to.equal(
                    model.hasActiveAccess(w, c),
                  );
                }),
                contract.accessExpiry(patient.address, address, CATEGORIES[c]!).then((value) => {
                  expect(value, `accessExpiry(${w}, ${c}) after ${JSON.stringify(cmd)}`).to.equal(
                    model.accessExpiry(w, c),
                  );
                }),
              );
            }
          }
          await Promise.all(checks);
        }
      }),
      { numRuns: 100 },
    );
  });
});
