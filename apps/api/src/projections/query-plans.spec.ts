// The lists the screens page through filter on one field and sort on another. Served by single-field
// indexes, such a query reads every document matching the filter and sorts them for each page: in the
// soak (issue 8) a conversation's page of messages went from 0.3 to 9 ms in a minute as the conversation
// grew, and took half the API's CPU. Each must be a search through a compound index, with no sort step.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encodeCursor } from '../read-models/read-model.common';
import type { FindQuery } from '../read-models/read-model.port';
import { SqliteReadModelStore } from '../read-models/sqlite.read-model';
import { PROJECTIONS } from './read-models';

const A = '0x00000000000000000000000000000000000000aa';
const desc = (field: string) => ({ field, direction: 'desc' as const });
const asc = (field: string) => ({ field, direction: 'asc' as const });

/** Each as its query handler sends it (see the file named). */
const LISTS: [what: string, collection: string, query: FindQuery][] = [
  [
    'a conversation page (messaging.queries.ts)',
    'message_feed',
    { where: { recipient: A, conversationId: 'c', item: 'message' }, sort: desc('position'), limit: 20 },
  ],
  [
    'a connection replaying its feed (message-delivery.ts)',
    'message_feed',
    { where: { recipient: A }, range: { field: 'position', gte: 10 }, sort: asc('position'), limit: 100 },
  ],
  [
    'the inbox (messaging.queries.ts)',
    'conversation_members',
    { where: { participant: A, hidden: false }, sort: desc('lastActivityAt') },
  ],
  [
    'the inbox with hidden ones',
    'conversation_members',
    { where: { participant: A }, sort: desc('lastActivityAt') },
  ],
  [
    'notifications (notifications.controller.ts)',
    'notifications',
    { where: { recipient: A }, sort: desc('occurredAt') },
  ],
  [
    "a patient's requests (consent.queries.ts)",
    'consent_requests',
    { where: { patient: A }, sort: desc('requestedAt') },
  ],
  [
    "a patient's pending requests",
    'consent_requests',
    { where: { patient: A, status: 'pending' }, sort: desc('requestedAt') },
  ],
  ["a provider's requests", 'consent_requests', { where: { provider: A }, sort: desc('requestedAt') }],
  [
    "a provider's pending requests",
    'consent_requests',
    { where: { provider: A, status: 'pending' }, sort: desc('requestedAt') },
  ],
  [
    "a patient's consents (consent.queries.ts)",
    'consents',
    { where: { patient: A }, sort: desc('expiresAt') },
  ],
  [
    "a provider's patients (consent.queries.ts)",
    'consents',
    {
      where: { provider: A, status: 'granted' },
      range: { field: 'expiresAt', gte: 1 },
      sort: asc('expiresAt'),
    },
  ],
  [
    'relays to send (relay.worker.ts)',
    'consent_relays',
    { where: { status: 'submitted' }, sort: asc('submittedAt') },
  ],
  [
    'consultations to close (consultation-closing.job.ts)',
    'consultations',
    { where: { pendingOutcome: true }, range: { field: 'endsAt', lt: 100 }, sort: asc('endsAt') },
  ],
  [
    'my consultations (consultation.queries.ts)',
    'consultation_members',
    { where: { participant: A, admitted: true }, sort: desc('startsAt') },
  ],
  [
    'providers by name (directory.controller.ts)',
    'directory',
    { where: { isProvider: true }, sort: asc('name') },
  ],
  [
    'an audit search by patient (audit.queries.ts)',
    'audit',
    { where: { patient: A }, sort: desc('occurredAt') },
  ],
  ['an audit search by actor', 'audit', { where: { actor: A }, sort: desc('occurredAt') }],
  [
    'an audit search by both, in a period',
    'audit',
    {
      where: { patient: A, actor: A },
      range: { field: 'occurredAt', gte: '2026', lt: '2027' },
      sort: desc('occurredAt'),
    },
  ],
];

describe('the list queries of the screens are index searches with no sort step', () => {
  const folder = mkdtempSync(path.join(tmpdir(), 'custos-query-plans-'));
  const store = SqliteReadModelStore.open(folder);
  before(async () => {
    await store.register(PROJECTIONS.flatMap((projection) => projection.collections));
  });
  after(async () => {
    await store.close();
    rmSync(folder, { recursive: true, force: true });
  });

  for (const [what, collection, query] of LISTS) {
    test(what, () => {
      // The next page too: it resumes after the last item shown through the same index.
      const cursor = encodeCursor(query.sort!, 5, 'last-shown');
      for (const plan of [
        store.queryPlan(collection, query),
        store.queryPlan(collection, { ...query, cursor }),
      ]) {
        assert.match(plan, /SEARCH \S+ USING INDEX "?rm_[a-z_]+\.[A-Za-z]+\+/, plan);
        assert.doesNotMatch(plan, /TEMP B-TREE|SCAN /, plan);
      }
    });
  }
});
