// Shared by the telehealth suites: scheduling through the API, consultations written straight into the
// event store (for windows in the past), and the audit events a gate appended.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  type AccessAuditedData,
  type ConsultationEvent,
  type ConsultationMode,
  consultationStream,
} from '@custos/domain';
import type { TestApi, User } from '../api/harness';

export const MINUTE = 60;

/** RFC 3339 `seconds` from now. */
export const startsIn = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();

export interface ScheduleOptions {
  category?: string;
  startsAt?: string;
  durationMinutes?: number;
  mode?: ConsultationMode;
}

/** Schedules through `POST /sessions` (which must succeed) and returns the id. */
export async function schedule(
  api: TestApi,
  provider: User,
  patient: User,
  options: ScheduleOptions = {},
): Promise<string> {
  const res = await api.post(
    '/sessions',
    {
      patient: patient.address,
      category: options.category ?? 'general',
      startsAt: options.startsAt ?? startsIn(0),
      durationMinutes: options.durationMinutes ?? 30,
      ...(options.mode ? { mode: options.mode } : {}),
    },
    provider.token,
  );
  assert.equal(res.statusCode, 201, res.body);
  return res.json<{ id: string }>().id;
}

/**
 * A consultation whose history is written straight into its stream as it would have happened at
 * `startsAt` (unix seconds): for windows in the past, which the API refuses to schedule.
 */
export async function pastConsultation(
  api: TestApi,
  provider: string,
  patient: string,
  startsAt: number,
  durationMinutes: number,
  then: (id: string) => ConsultationEvent[] = () => [],
): Promise<string> {
  const id = randomUUID();
  const events: ConsultationEvent[] = [
    {
      type: 'ConsultationScheduled',
      version: 1,
      data: {
        id,
        provider,
        patient,
        category: 'general',
        mode: 'video',
        startsAt,
        endsAt: startsAt + durationMinutes * 60,
      },
    },
    ...then(id),
  ];
  await api.append(consultationStream(id), events, new Date(startsAt * 1000), provider);
  return id;
}

/**
 * A consultation in category `general` written straight into its stream, without the API's checks
 * (it may have no grant behind it), recorded at the earlier of now and `startsAt` (unix seconds).
 */
export async function consultationAt(
  api: TestApi,
  provider: string,
  patient: string,
  startsAt: number,
  durationMinutes = 30,
): Promise<string> {
  const id = randomUUID();
  const scheduled: ConsultationEvent = {
    type: 'ConsultationScheduled',
    version: 1,
    data: {
      id,
      provider,
      patient,
      category: 'general',
      mode: 'video',
      startsAt,
      endsAt: startsAt + durationMinutes * 60,
    },
  };
  const at = new Date(Math.min(startsAt * 1000, Date.now()));
  await api.append(consultationStream(id), [scheduled], at, provider);
  return id;
}

/** The AccessAudited events appended after `position`. */
export async function auditsSince(api: TestApi, position: number): Promise<AccessAuditedData[]> {
  return (await api.events(position))
    .filter((e) => e.type === 'AccessAudited')
    .map((e) => e.data as AccessAuditedData);
}

/** Asks for credentials and checks that exactly one audit event, of the expected outcome, was appended. */
export async function credentials(
  api: TestApi,
  user: User,
  id: string,
  expected: { status: number; outcome: 'allowed' | 'denied'; code?: string },
) {
  const before = await api.eventStore.headPosition();
  const res = await api.request('POST', `/sessions/${id}/credentials`, { token: user.token });
  assert.equal(res.statusCode, expected.status, res.body);
  if (expected.code) assert.equal(res.json<{ code: string }>().code, expected.code, res.body);
  const audits = await auditsSince(api, before);
  assert.equal(audits.length, 1, `one audit event, got ${audits.length}`);
  const [audit] = audits as [AccessAuditedData];
  assert.equal(audit.actor, user.address);
  assert.equal(audit.resource, `session:${id}/credentials`);
  assert.equal(audit.action, 'issue_credentials');
  assert.equal(audit.outcome, expected.outcome);
  assert.ok(audit.reason.length > 10, 'a reason in words');
  return { res, audit };
}
