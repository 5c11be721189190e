// The load generator of the reliability suites: a process of its own (forked with @swc-node/register),
// so that the API it loads can be killed under it and the measurements are not taken inside the
// API's event loop. The parent sends a plan; the generator sends requests until told to stop and
// writes one JSON line per request to the plan's record file: what it sent (with the ids the client
// chose, such as a message's id or a consent's signature) and the answer (status and the ids the API
// gave), or the network error when there was none.
//
//   mixed:  `lanes` loops, each sending its next command as soon as the last one was answered (a
//           closed loop), for as long as it runs. Used under a crash (and to measure the maximum).
//   paced:  requests started at a fixed rate whatever the answers (an open loop: a slow API does not
//           slow the arrivals down, so its latency shows), for the soak.
import { randomBytes, randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { CategoryName } from '../../libs/chain/src';
import { HttpClient, type Person, signGrant, sleep } from './client';

export interface Conversation {
  id: string;
  patient: Person;
  provider: Person;
}

export interface Plan {
  baseUrl: string;
  recordFile: string;
  /** Relative weights of the operations (missing: 0). */
  weights: Partial<Record<Operation, number>>;
  patients: Person[];
  providers: Person[];
  conversations: Conversation[];
  /** Patients who each relay one signed grant (nonce 0), taken in turn; for `grant`. */
  grantPatients: Person[];
  /** The contract the grants are signed for; for `grant`. */
  contract?: string;
  mode: { kind: 'mixed'; lanes: number } | { kind: 'paced'; ratePerSecond: number; maxInFlight: number };
}

export type Operation =
  | 'grant'
  | 'request'
  | 'decline'
  | 'message'
  | 'readConsents'
  | 'readPatients'
  | 'readMessages'
  | 'readRequests'
  | 'readNotifications'
  | 'health';

/** One line of the record file. */
export interface RequestRecord {
  op: Operation;
  /** When the request was sent and when it was answered: epoch milliseconds, to the microsecond. */
  sentAt: number;
  answeredAt: number;
  /** 0: no answer (the error says why). */
  status: number;
  error?: string;
  /** What the client chose: a message id, a consent signature, the request declined. */
  sent?: Record<string, string>;
  /** The id the API answered with (consent request, relay). */
  id?: string;
  /** Code of a refusal (`concurrent_update`, `request_already_pending`, ...). */
  code?: string;
}

export type ToGenerator = { type: 'start'; plan: Plan } | { type: 'stop' };
export type FromGenerator =
  { type: 'ready' } | { type: 'stopped'; sent: number } | { type: 'failed'; error: string };

const GRANT_CATEGORIES: CategoryName[] = ['lab_results', 'imaging', 'vitals', 'allergies', 'medications'];
const REQUEST_CATEGORIES: CategoryName[] = ['general', 'lab_results', 'imaging', 'vitals', 'immunizations'];
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const base64url = (bytes: number) => randomBytes(bytes).toString('base64url');

class Generator {
  private readonly client: HttpClient;
  private stopped = false;
  private sent = 0;
  private nextGrantPatient = 0;
  /** Grant patients whose request never reached the API (connection refused): theirs to send again. */
  private readonly refusedGrantPatients: Person[] = [];
  /** Pending requests the generator made, by patient, for `decline`. */
  private readonly pending: { id: string; patient: Person }[] = [];
  private readonly ops: Operation[];
  private readonly cumulative: number[];
  private total = 0;

  constructor(private readonly plan: Plan) {
    this.client = new HttpClient(
      plan.baseUrl,
      plan.mode.kind === 'mixed' ? plan.mode.lanes : plan.mode.maxInFlight,
    );
    this.ops = Object.keys(plan.weights) as Operation[];
    this.cumulative = this.ops.map((op) => (this.total += plan.weights[op] ?? 0));
  }

  private now(): number {
    return Math.round((performance.timeOrigin + performance.now()) * 1000) / 1000;
  }

  private chooseOperation(): Operation {
    const r = Math.random() * this.total;
    let op = this.ops[this.cumulative.findIndex((c) => r < c)] ?? this.ops[0]!;
    const grantsLeft =
      this.refusedGrantPatients.length > 0 || this.nextGrantPatient < this.plan.grantPatients.length;
    if (op === 'grant' && !grantsLeft) op = 'request';
    if (op === 'decline' && this.pending.length === 0) op = 'request';
    return op;
  }

  async run(): Promise<void> {
    const { mode } = this.plan;
    if (mode.kind === 'mixed') {
      await Promise.all(
        Array.from({ length: mode.lanes }, async () => {
          while (!this.stopped) {
            const record = await this.send(this.chooseOperation());
            // The API is away (killed): do not spin on refused connections.
            if (record.status === 0) await sleep(100);
          }
        }),
      );
      return;
    }
    const interval = 1000 / mode.ratePerSecond;
    const inFlight = new Set<Promise<unknown>>();
    let next = performance.now();
    while (!this.stopped) {
      const wait = next - performance.now();
      if (wait > 1) await sleep(wait);
      next += interval;
      // Never more than maxInFlight at once: past that, the arrivals are counted as dropped.
      if (inFlight.size >= mode.maxInFlight) {
        this.write({
          op: 'health',
          sentAt: this.now(),
          answeredAt: this.now(),
          status: 0,
          error: 'dropped: too many in flight',
        });
        continue;
      }
      const request = this.send(this.chooseOperation()).finally(() => inFlight.delete(request));
      inFlight.add(request);
    }
    await Promise.all(inFlight);
  }

  stop(): number {
    this.stopped = true;
    return this.sent;
  }

  close(): void {
    this.client.close();
  }

  private write(record: RequestRecord): void {
    appendFileSync(this.plan.recordFile, `${JSON.stringify(record)}\n`);
  }

  private async send(op: Operation): Promise<RequestRecord> {
    this.sent++;
    const sentAt = this.now();
    const record: RequestRecord = { op, sentAt, answeredAt: sentAt, status: 0 };
    try {
      const answer = await this.request(op, record);
      record.status = answer.status;
      if (answer.status >= 400) {
        try {
          record.code = answer.json<{ code?: string }>().code;
        } catch {
          record.code = answer.body.slice(0, 100);
        }
      }
    } catch (error) {
      record.error = (error as Error).message.slice(0, 200);
    }
    record.answeredAt = this.now();
    this.write(record);
    return record;
  }

  private async request(op: Operation, record: RequestRecord) {
    const { patients, providers, conversations } = this.plan;
    switch (op) {
      case 'grant': {
        const patient =
          this.refusedGrantPatients.shift() ?? this.plan.grantPatients[this.nextGrantPatient++]!;
        const body = await signGrant(
          this.plan.contract!,
          patient,
          pick(providers).address,
          pick(GRANT_CATEGORIES),
          0,
        );
        record.sent = {
          patient: patient.address,
          provider: body.provider,
          category: body.category,
          signature: body.signature,
        };
        const answer = await this.client
          .post('/consents/grants', body, patient.token)
          .catch((error: NodeJS.ErrnoException) => {
            // Never reached the API: the patient signs again later. (A reset connection is ambiguous: not.)
            if (error.code === 'ECONNREFUSED') this.refusedGrantPatients.push(patient);
            throw error;
          });
        if (answer.status === 202) record.id = answer.json<{ id: string }>().id;
        return answer;
      }
      case 'request': {
        const provider = pick(providers);
        const patient = pick(patients);
        const category = pick(REQUEST_CATEGORIES);
        record.sent = { provider: provider.address, patient: patient.address, category };
        const answer = await this.client.post(
          '/consent-requests',
          {
            patient: patient.address,
            category,
            purpose: 'Follow-up after the last visit',
            durationSeconds: 7 * 24 * 3600,
          },
          provider.token,
        );
        if (answer.status === 201) {
          record.id = answer.json<{ id: string }>().id;
          this.pending.push({ id: record.id, patient });
        }
        return answer;
      }
      case 'decline': {
        const { id, patient } = this.pending.splice(Math.floor(Math.random() * this.pending.length), 1)[0]!;
        record.sent = { requestId: id, patient: patient.address };
        return this.client.request('POST', `/consent-requests/${id}/decline`, { token: patient.token });
      }
      case 'message': {
        const conversation = pick(conversations);
        const sender = Math.random() < 0.5 ? conversation.patient : conversation.provider;
        const messageId = randomUUID();
        record.sent = { conversation: conversation.id, messageId, sender: sender.address };
        return this.client.post(
          `/conversations/${conversation.id}/messages`,
          {
            messageId,
            kind: 'text',
            ciphertext: base64url(256),
            iv: base64url(12),
            wrappedKeys: {
              [conversation.patient.address]: base64url(92),
              [conversation.provider.address]: base64url(92),
            },
          },
          sender.token,
        );
      }
      case 'readConsents':
        return this.client.get('/patients/me/consents', pick(patients).token);
      case 'readPatients':
        return this.client.get('/providers/me/patients', pick(providers).token);
      case 'readMessages': {
        const conversation = pick(conversations);
        return this.client.get(
          `/conversations/${conversation.id}/messages?order=desc&limit=20`,
          conversation.patient.token,
        );
      }
      case 'readRequests':
        return this.client.get('/consent-requests?status=pending&limit=20', pick(patients).token);
      case 'readNotifications':
        return this.client.get('/notifications/me?limit=20', pick(patients).token);
      case 'health':
        return this.client.get('/health');
    }
  }
}

if (require.main === module) {
  let generator: Generator | null = null;
  let running: Promise<void> | null = null;
  const reply = (message: FromGenerator) => process.send?.(message);
  process.on('message', (message: ToGenerator) => {
    if (message.type === 'start') {
      generator = new Generator(message.plan);
      running = generator.run().catch((error: unknown) => {
        reply({ type: 'failed', error: String(error) });
      });
    } else if (message.type === 'stop') {
      const sent = generator?.stop() ?? 0;
      void (running ?? Promise.resolve()).then(() => {
        generator?.close();
        reply({ type: 'stopped', sent });
      });
    }
  });
  // The test went away: do not linger.
  process.on('disconnect', () => process.exit(0));
  reply({ type: 'ready' });
}
