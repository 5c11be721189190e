import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MessageKind } from './messaging';
import { type TriageInput, type TriagePriority, triagePriority, TRIAGE_KIND_POINTS } from './triage';

const input = (overrides: Partial<TriageInput> = {}): TriageInput => ({
  senderRole: 'patient',
  urgentFlag: false,
  hoursSinceLastReply: 0,
  hoursToNextAppointment: null,
  kind: 'text',
  ...overrides,
});

describe('triage: priority table', () => {
  const table: [string, Partial<TriageInput>, TriagePriority, number][] = [
    ['a fresh patient text', {}, 'normal', 40],
    ['an urgent patient text', { urgentFlag: true }, 'urgent', 240],
    [
      'an urgent patient text, appointment in 2 h',
      { urgentFlag: true, hoursToNextAppointment: 2 },
      'urgent',
      240,
    ],
    ['an urgent patient text waiting 3 days', { urgentFlag: true, hoursSinceLastReply: 80 }, 'urgent', 300],
    ['a patient text waiting 11.9 h', { hoursSinceLastReply: 11.9 }, 'normal', 40],
    ['a patient text waiting 12 h', { hoursSinceLastReply: 12 }, 'normal', 50],
    ['a patient text waiting 24 h', { hoursSinceLastReply: 24 }, 'high', 65],
    ['a patient text waiting 48 h', { hoursSinceLastReply: 48 }, 'high', 80],
    ['a patient text waiting 72 h', { hoursSinceLastReply: 72 }, 'high', 100],
    ['a patient text, appointment in 20 h', { hoursToNextAppointment: 20 }, 'low', 10],
    ['a patient text, appointment in exactly 24 h', { hoursToNextAppointment: 24 }, 'low', 10],
    ['a patient text, appointment in 25 h', { hoursToNextAppointment: 25 }, 'normal', 40],
    ['a patient text, appointment in the past', { hoursToNextAppointment: -3 }, 'normal', 40],
    [
      'a patient text waiting 24 h, appointment tomorrow',
      { hoursSinceLastReply: 24, hoursToNextAppointment: 18 },
      'normal',
      35,
    ],
    ['a patient attachment', { kind: 'attachment' }, 'normal', 45],
    ['a provider text', { senderRole: 'provider' }, 'normal', 30],
    ['a provider text, appointment in 1 h', { senderRole: 'provider', hoursToNextAppointment: 1 }, 'low', 0],
    ['a provider lab result', { senderRole: 'provider', kind: 'lab_result' }, 'normal', 50],
    [
      'a provider lab result waiting 24 h',
      { senderRole: 'provider', kind: 'lab_result', hoursSinceLastReply: 30 },
      'high',
      75,
    ],
    [
      'an urgent provider imaging result',
      { senderRole: 'provider', kind: 'imaging', urgentFlag: true },
      'urgent',
      250,
    ],
    [
      'a provider care plan, appointment in 3 h',
      { senderRole: 'provider', kind: 'care_plan', hoursToNextAppointment: 3 },
      'low',
      10,
    ],
    ['a negative wait (clock skew) counts as none', { hoursSinceLastReply: -2 }, 'normal', 40],
    ['a wait without end (never answered)', { hoursSinceLastReply: Infinity }, 'high', 100],
  ];
  for (const [name, overrides, priority, score] of table) {
    test(`${name} → ${priority} (${score})`, () => {
      const result = triagePriority(input(overrides));
      assert.equal(result.priority, priority);
      assert.equal(result.score, score);
    });
  }
});

describe('triage: rules', () => {
  test('every urgent-flagged patient message is urgent, whatever else holds', () => {
    for (const kind of ['text', 'attachment'] as MessageKind[]) {
      for (const hoursSinceLastReply of [0, 6, 12, 24, 48, 72, 500]) {
        for (const hoursToNextAppointment of [null, 0, 1, 24, 25, 200]) {
          const result = triagePriority(
            input({ urgentFlag: true, kind, hoursSinceLastReply, hoursToNextAppointment }),
          );
          assert.equal(result.priority, 'urgent');
        }
      }
    }
  });

  test('without the urgent flag nothing is urgent', () => {
    for (const senderRole of ['patient', 'provider'] as const) {
      for (const kind of Object.keys(TRIAGE_KIND_POINTS) as MessageKind[]) {
        const result = triagePriority(input({ senderRole, kind, hoursSinceLastReply: 10_000 }));
        assert.notEqual(result.priority, 'urgent');
      }
    }
  });

  test('waiting longer never lowers the score', () => {
    let previous = -1;
    for (let hours = 0; hours <= 100; hours += 0.5) {
      const { score } = triagePriority(input({ hoursSinceLastReply: hours }));
      assert.ok(score >= previous, `score at ${hours} h fell`);
      previous = score;
    }
  });

  test('the reasons say why, in order', () => {
    assert.deepEqual(triagePriority(input({ urgentFlag: true, hoursSinceLastReply: 30 })).reasons, [
      'flagged urgent by the patient',
      'from the patient',
      'waiting 24 h or more for a reply',
    ]);
    assert.deepEqual(
      triagePriority(input({ senderRole: 'provider', kind: 'referral', hoursToNextAppointment: 4 })).reasons,
      ['referral', 'appointment within 24 h: can be discussed then'],
    );
    assert.deepEqual(triagePriority(input({ senderRole: 'provider' })).reasons, []);
  });

  test('it is deterministic', () => {
    const one = input({ kind: 'attachment', hoursSinceLastReply: 49, hoursToNextAppointment: 5 });
    assert.deepEqual(triagePriority(one), triagePriority({ ...one }));
  });

  test('NaN hours and unknown kinds are programming errors', () => {
    assert.throws(() => triagePriority(input({ hoursSinceLastReply: NaN })), RangeError);
    assert.throws(() => triagePriority(input({ hoursToNextAppointment: NaN })), RangeError);
    assert.throws(() => triagePriority(input({ kind: 'voice' as MessageKind })), RangeError);
  });
});
