import type { MessageKind, ParticipantRole } from './messaging';

/**
 * Triage of a message in a care-team inbox, from metadata only: the server never sees the content, so
 * the sender's role, the sender's urgent flag, the kind, how long the sender has waited for a reply and
 * when the next appointment is are all there is. Pure and deterministic; the caller computes the hours
 * from its own clock.
 *
 * Scoring (points add up; the score is never below 0):
 *
 * | input                                                   | points                |
 * |---------------------------------------------------------|-----------------------|
 * | every message                                           | +30                   |
 * | from the patient                                        | +10                   |
 * | kind lab_result or imaging                              | +20                   |
 * | kind prescription or referral                           | +15                   |
 * | kind care_plan                                          | +10                   |
 * | kind attachment                                         | +5                    |
 * | waiting ≥ 12 h / ≥ 24 h / ≥ 48 h / ≥ 72 h for a reply   | +10 / +25 / +40 / +60 |
 * | flagged urgent by the sender                            | +200                  |
 * | next appointment within 24 h (0 ≤ h ≤ 24), not urgent   | −30                   |
 *
 * Priority from the score: `urgent` ≥ 200, `high` ≥ 60, `normal` ≥ 25, else `low`. Without the urgent
 * flag the score is at most 120 (30 + 10 + 20 + 60), with it at least 230, so exactly the flagged
 * messages are `urgent`: an urgent patient message is always `urgent` (and the API notifies the
 * provider). Waiting raises the priority (a patient's text unanswered for a day is `high`); an
 * appointment within a day lowers it, because it can be discussed then, unless the message is flagged
 * urgent. The score orders messages of the same priority (longer waits first).
 */

export type TriagePriority = 'urgent' | 'high' | 'normal' | 'low';

export interface TriageInput {
  senderRole: ParticipantRole;
  /** The urgent flag the sender's client set. */
  urgentFlag: boolean;
  /** Hours since the other side last replied (or since the message, if nobody has); negative counts as 0. */
  hoursSinceLastReply: number;
  /** Hours until the patient's next appointment with this care team; null (or negative) when none is booked. */
  hoursToNextAppointment: number | null;
  kind: MessageKind;
}

export interface TriageResult {
  priority: TriagePriority;
  score: number;
  /** Why, in the order the points were given: shown to the provider next to the priority. */
  reasons: string[];
}

export const TRIAGE_BASE_POINTS = 30;
export const TRIAGE_PATIENT_POINTS = 10;
export const TRIAGE_URGENT_POINTS = 200;
export const TRIAGE_APPOINTMENT_POINTS = -30;
/** Within this many hours, an upcoming appointment lowers the priority. */
export const TRIAGE_APPOINTMENT_WINDOW_HOURS = 24;

export const TRIAGE_KIND_POINTS: Readonly<Record<MessageKind, number>> = {
  text: 0,
  attachment: 5,
  lab_result: 20,
  imaging: 20,
  prescription: 15,
  referral: 15,
  care_plan: 10,
};

/** Waiting steps, longest first: the first one reached gives its points. */
export const TRIAGE_WAITING_STEPS: readonly { hours: number; points: number }[] = [
  { hours: 72, points: 60 },
  { hours: 48, points: 40 },
  { hours: 24, points: 25 },
  { hours: 12, points: 10 },
];

/** Lowest score of each priority but `low`. */
export const TRIAGE_THRESHOLDS = { urgent: 200, high: 60, normal: 25 } as const;

const KIND_LABELS: Readonly<Record<MessageKind, string>> = {
  text: 'text message',
  attachment: 'attachment',
  lab_result: 'lab result',
  imaging: 'imaging',
  prescription: 'prescription',
  referral: 'referral',
  care_plan: 'care plan',
};

export function priorityOfScore(score: number): TriagePriority {
  if (score >= TRIAGE_THRESHOLDS.urgent) return 'urgent';
  if (score >= TRIAGE_THRESHOLDS.high) return 'high';
  if (score >= TRIAGE_THRESHOLDS.normal) return 'normal';
  return 'low';
}

export function triagePriority(input: TriageInput): TriageResult {
  const { senderRole, urgentFlag, hoursSinceLastReply, hoursToNextAppointment, kind } = input;
  if (Number.isNaN(hoursSinceLastReply)) throw new RangeError('hoursSinceLastReply is not a number');
  if (hoursToNextAppointment !== null && Number.isNaN(hoursToNextAppointment)) {
    throw new RangeError('hoursToNextAppointment is not a number');
  }
  const kindPoints = TRIAGE_KIND_POINTS[kind];
  if (kindPoints === undefined) throw new RangeError(`unknown message kind: ${String(kind)}`);

  let score = TRIAGE_BASE_POINTS;
  const reasons: string[] = [];

  if (urgentFlag) {
    score += TRIAGE_URGENT_POINTS;
    reasons.push(`flagged urgent by the ${senderRole}`);
  }
  if (senderRole === 'patient') {
    score += TRIAGE_PATIENT_POINTS;
    reasons.push('from the patient');
  }
  if (kindPoints > 0) {
    score += kindPoints;
    reasons.push(KIND_LABELS[kind]);
  }
  const waited = Math.max(0, hoursSinceLastReply);
  const step = TRIAGE_WAITING_STEPS.find((s) => waited >= s.hours);
  if (step) {
    score += step.points;
    reasons.push(`waiting ${step.hours} h or more for a reply`);
  }
  const appointmentSoon =
    hoursToNextAppointment !== null &&
    hoursToNextAppointment >= 0 &&
    hoursToNextAppointment <= TRIAGE_APPOINTMENT_WINDOW_HOURS;
  if (appointmentSoon && !urgentFlag) {
    score += TRIAGE_APPOINTMENT_POINTS;
    reasons.push(`appointment within ${TRIAGE_APPOINTMENT_WINDOW_HOURS} h: can be discussed then`);
  }

  score = Math.max(0, score);
  return { priority: priorityOfScore(score), score, reasons };
}
