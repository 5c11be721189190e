// Suite 5: a provider asks a patient for access; the patient sees it and declines it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type {
  ConsentRequestDocument,
  NotificationDocument,
} from '../../apps/api/src/projections/read-models';
import { DAY, TestApi, type User } from './harness';

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

describe('consent requests: a provider asks, the patient declines', () => {
  let api: TestApi;
  let patient: User;
  let otherPatient: User;
  let provider: User;
  let requestId: string;
  const body = () => ({
    patient: patient.address,
    category: 'medications',
    purpose: '  Adjust the dosage after the new prescription  ',
    durationSeconds: 14 * DAY,
  });

  before(async () => {
    api = await TestApi.start();
    patient = await api.newUser();
    otherPatient = await api.newUser();
    provider = await api.newUser('provider');
  });
  after(() => api.close());

  test('a provider asks a patient for a category: 201 with the request id', async () => {
    // Upper-case hex is the same address.
    const res = await api.post(
      '/consent-requests',
      { ...body(), patient: `0x${patient.address.slice(2).toUpperCase()}` },
      provider.token,
    );
    assert.equal(res.statusCode, 201, res.body);
    requestId = res.json<{ id: string }>().id;
    assert.match(requestId, /^[0-9a-f-]{36}$/);
  });

  test('the patient sees it pending, with the purpose and duration the provider gave', async () => {
    const page = (await api.get('/consent-requests', patient.token, { status: 'pending' })).json<
      Page<ConsentRequestDocument>
    >();
    assert.equal(page.items.length, 1);
    const [request] = page.items;
    assert.equal(request!.id, requestId);
    assert.equal(request!.provider, provider.address);
    assert.equal(request!.patient, patient.address);
    assert.equal(request!.category, 'medications');
    assert.equal(request!.purpose, 'Adjust the dosage after the new prescription');
    assert.equal(request!.durationSeconds, 14 * DAY);
    assert.equal(request!.status, 'pending');
  });

  test('the patient is notified of the request', async () => {
    await api.settle();
    const page = (await api.get('/notifications/me', patient.token)).json<Page<NotificationDocument>>();
    assert.deepEqual(
      page.items.map((n) => [n.kind, n.subject.requestId]),
      [['consent_requested', requestId]],
    );
  });

  test('asking again for the same category while the first request is pending is refused (409)', async () => {
    const before = await api.eventCount();
    const res = await api.post('/consent-requests', body(), provider.token);
    assert.equal(res.statusCode, 409);
    assert.equal(res.json<{ code: string }>().code, 'request_already_pending');
    assert.equal(await api.eventCount(), before);
  });

  test('another patient cannot decline it: 404, as if it did not exist', async () => {
    const before = await api.eventCount();
    const res = await api.request('POST', `/consent-requests/${requestId}/decline`, {
      token: otherPatient.token,
    });
    assert.equal(res.statusCode, 404);
    assert.doesNotMatch(res.body, new RegExp(patient.address, 'i'));
    assert.equal(await api.eventCount(), before);
  });

  test('the provider who asked cannot decline it on the patient’s behalf (404)', async () => {
    const res = await api.request('POST', `/consent-requests/${requestId}/decline`, {
      token: provider.token,
    });
    assert.equal(res.statusCode, 404);
  });

  test('the patient declines: 204, and the provider sees it declined', async () => {
    const res = await api.request('POST', `/consent-requests/${requestId}/decline`, { token: patient.token });
    assert.equal(res.statusCode, 204);
    assert.equal(res.body, '');
    const page = (await api.get('/consent-requests', provider.token, { as: 'provider' })).json<
      Page<ConsentRequestDocument>
    >();
    assert.deepEqual(
      page.items.map((r) => [r.id, r.status]),
      [[requestId, 'declined']],
    );
    const pending = (await api.get('/consent-requests', patient.token, { status: 'pending' })).json<
      Page<ConsentRequestDocument>
    >();
    assert.deepEqual(pending.items, []);
  });

  test('the provider is notified of the decline', async () => {
    await api.settle();
    const page = (await api.get('/notifications/me', provider.token)).json<Page<NotificationDocument>>();
    assert.deepEqual(
      page.items.map((n) => [n.kind, n.subject.patient, n.subject.category]),
      [['consent_request_declined', patient.address, 'medications']],
    );
  });

  test('declining the same request again is refused (409) and appends nothing', async () => {
    const before = await api.eventCount();
    const res = await api.request('POST', `/consent-requests/${requestId}/decline`, { token: patient.token });
    assert.equal(res.statusCode, 409);
    assert.equal(res.json<{ code: string }>().code, 'request_not_pending');
    assert.equal(await api.eventCount(), before);
  });

  test('once declined, the provider may ask again', async () => {
    const res = await api.post('/consent-requests', body(), provider.token);
    assert.equal(res.statusCode, 201, res.body);
    assert.notEqual(res.json<{ id: string }>().id, requestId);
  });

  test('a grant on the chain answers the pending request: the provider sees it granted', async () => {
    await api.grant(patient.address, provider.address, 'medications', new Date(Date.now() + 14 * DAY * 1000));
    const page = (await api.get('/consent-requests', provider.token, { as: 'provider' })).json<
      Page<ConsentRequestDocument>
    >();
    assert.deepEqual(page.items.map((r) => r.status).sort(), ['declined', 'granted']);
  });
});
