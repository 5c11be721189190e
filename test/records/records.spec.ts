// Encrypted records end to end, against a real node (anvil) and the real API on its embedded defaults
// (SQLite event store and read models, fs blob store): what the patient's browser does (libs/e2ee and
// libs/records, the code the web app runs), what the server stores (ciphertext only), the registration
// relayed on-chain, and the record access rule at the moment of each read, with its audit trail.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type AccessAuditedData, recordsStream } from '@custos/domain';
import {
  IntegrityError,
  openRecord,
  openRecordMetadata,
  type RecordMetadata,
  sealRecord,
  sealRecordMetadata,
  unwrapKey,
  utf8,
  wrapKey,
} from '@custos/e2ee';
import { contentAddress, recordIdOf } from '@custos/records';
import { ZeroHash } from 'ethers';
import { categoryId, consentDomain, consentTypedData, verifyAuditProof } from '../../libs/chain/src';
import type { AuditProof } from '../../apps/api/src/anchoring/anchoring.controller';
import { AuditAnchorService } from '../../apps/api/src/anchoring/audit-anchor.service';
import type { RelayView } from '../../apps/api/src/relay/relay.dto';
import type {
  KeyRequestView,
  RecordDetailView,
  RecordRecipientView,
  RecordView,
} from '../../apps/api/src/records/records.dto';
import { ANVIL_CHAIN_ID, type Anvil, type Deployed, deployContract, startAnvil } from '../chain/anvil';
import { DAY, TestApi, until as waitUntil, type User } from '../api/harness';
import { type MessagingUser, withMessagingKey } from '../messaging/e2e-crypto';

const until = <T>(what: string, probe: () => Promise<T | undefined | null | false>) =>
  waitUntil(what, probe, 20_000);
const nowSeconds = () => Math.floor(Date.now() / 1000);
const inAMonth = () => new Date(Date.now() + 30 * DAY * 1000);

let anvil: Anvil;
let d: Deployed;
let api: TestApi;

/** A person with a wallet, a session and a registered messaging key. */
const person = async (...roles: Parameters<TestApi['newUser']>): Promise<MessagingUser> =>
  withMessagingKey(api, await api.newUser(...roles));

const OBSERVATION = {
  resourceType: 'Bundle',
  type: 'collection',
  entry: [
    {
      resource: {
        resourceType: 'Observation',
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '3016-3', display: 'TSH' }] },
        valueQuantity: { value: 2.1, unit: 'mIU/L' },
        effectiveDateTime: '2026-11-20',
      },
    },
  ],
};
const METADATA: RecordMetadata = {
  title: 'Thyroid panel, November',
  mediaType: 'application/fhir+json',
  format: 'fhir',
};

interface Upload {
  id: string;
  cid: string;
  key: Uint8Array;
  plaintext: Uint8Array;
  relayId: string;
}

async function uploadBlob(patient: User, blob: Uint8Array) {
  return api.request('POST', '/records/blobs', {
    token: patient.token,
    headers: { 'content-type': 'application/octet-stream' },
    payload: Buffer.from(blob),
  });
}

async function signRegistration(
  patient: User,
  recordId: string,
  category: string,
  supersedes: string | null,
  deadline = nowSeconds() + 3600,
) {
  const nonce = Number(await d.contract.nonces(patient.address));
  const data = consentTypedData('RegisterRecord', consentDomain(ANVIL_CHAIN_ID, d.address), {
    patient: patient.address,
    recordId,
    category: categoryId(category as 'lab_results'),
    supersedes: supersedes ?? ZeroHash,
    nonce,
    deadline,
  });
  return { deadline, signature: await patient.wallet.signTypedData(data.domain, data.types, data.message) };
}

/** What the patient's browser does: encrypt, upload, wrap for the listed recipients, sign, submit. */
async function submitRecord(
  patient: MessagingUser,
  options: { category?: string; supersedes?: string | null; text?: string } = {},
): Promise<Upload> {
  const category = options.category ?? 'lab_results';
  const plaintext = utf8.encode(options.text ?? JSON.stringify(OBSERVATION));
  const { blob, key } = await sealRecord(plaintext, patient.address);
  const cid = await contentAddress(blob);
  const uploaded = await uploadBlob(patient, blob);
  assert.equal(uploaded.statusCode, 201, uploaded.body);
  assert.deepEqual(uploaded.json(), { cid, size: blob.length });

  const recipients = await api.get(`/records/recipients?category=${category}`, patient.token);
  assert.equal(recipients.statusCode, 200, recipients.body);
  const keys = [];
  for (const r of recipients.json<{ items: RecordRecipientView[] }>().items) {
    keys.push({ recipient: r.recipient, wrappedKey: await wrapKey(key, r.publicKey) });
  }
  const id = recordIdOf(cid);
  const supersedes = options.supersedes ?? null;
  const res = await api.post(
    '/records',
    {
      cid,
      category,
      supersedes,
      metadata: await sealRecordMetadata(METADATA, key, cid),
      keys,
      ...(await signRegistration(patient, id, category, supersedes)),
    },
    patient.token,
  );
  assert.equal(res.statusCode, 202, res.body);
  const accepted = res.json<{ id: string; relayId: string }>();
  assert.equal(accepted.id, id);
  return { id, cid, key, plaintext, relayId: accepted.relayId };
}

async function registered(patient: User, id: string): Promise<RecordDetailView> {
  return until(`record ${id} registered`, async () => {
    const res = await api.get(`/records/${id}`, patient.token);
    const view = res.json<RecordDetailView>();
    return res.statusCode === 200 && view.status === 'registered' ? view : undefined;
  });
}

/** What a reader's browser does: fetch key and ciphertext, check the address, unwrap, decrypt. */
async function readAs(reader: MessagingUser, record: { id: string; cid: string }) {
  const keyRes = await api.get(`/records/${record.id}/key`, reader.token);
  assert.equal(keyRes.statusCode, 200, keyRes.body);
  const blobRes = await api.get(`/records/${record.id}/blob`, reader.token);
  assert.equal(blobRes.statusCode, 200, blobRes.body);
  assert.equal(blobRes.headers['content-type'], 'application/octet-stream');
  const blob = new Uint8Array(blobRes.rawPayload);
  const key = await unwrapKey(
    keyRes.json<{ wrappedKey: string }>().wrappedKey,
    reader.privateKey,
    reader.publicKey,
  );
  return { blob, key, addressMatches: (await contentAddress(blob)) === record.cid };
}

/** What the patient's app does for a reader granted after the upload: unwraps its own copy, wraps it for them. */
async function shareKey(
  patient: MessagingUser,
  record: { id: string },
  recipient: string,
  publicKey: string,
): Promise<void> {
  const own = await api.get(`/records/${record.id}/key`, patient.token);
  const key = await unwrapKey(
    own.json<{ wrappedKey: string }>().wrappedKey,
    patient.privateKey,
    patient.publicKey,
  );
  const share = await api.post(
    `/records/${record.id}/keys`,
    { keys: [{ recipient, wrappedKey: await wrapKey(key, publicKey) }] },
    patient.token,
  );
  assert.equal(share.statusCode, 204, share.body);
}

async function auditOf(actor: string, resource: string): Promise<AccessAuditedData[]> {
  return (await api.events())
    .filter((e) => e.type === 'AccessAudited')
    .map((e) => e.data as AccessAuditedData)
    .filter((a) => a.actor === actor && a.resource === resource);
}

before(async () => {
  anvil = await startAnvil();
  d = await deployContract(anvil.url);
  // The relayer (account #0, the deployer) also anchors the audit log; granted before it starts sending.
  await (await d.contract.grantRole(await d.contract.ANCHOR_ROLE(), d.admin.address)).wait();
  api = await TestApi.start({
    CHAIN_RPC_URL: anvil.url,
    CONTRACT_ADDRESS: d.address,
    CHAIN_ID: String(ANVIL_CHAIN_ID),
    CHAIN_POLL_INTERVAL: '100ms',
    CHAIN_CONFIRMATIONS: '1',
    // Scheduled, but the anchoring test anchors when it chooses.
    AUDIT_ANCHOR_INTERVAL: '1h',
  });
});

after(async () => {
  await api?.close();
  d?.close();
  await anvil?.close();
});

describe('records: upload, registration and reading under consent', () => {
  let patient: MessagingUser;
  let granted: MessagingUser;
  let otherCategory: MessagingUser;
  let revoked: MessagingUser;
  let expired: MessagingUser;
  let stranger: MessagingUser;
  let emergency: MessagingUser;
  let record: Upload;

  before(async () => {
    patient = await person();
    [granted, otherCategory, revoked, expired, stranger] = await Promise.all([
      person('provider'),
      person('provider'),
      person('provider'),
      person('provider'),
      person('provider'),
    ]);
    emergency = await person('emergency');
    await api.grant(patient.address, granted.address, 'lab_results', inAMonth());
    await api.grant(patient.address, otherCategory.address, 'imaging', inAMonth());
    await api.grant(patient.address, revoked.address, 'lab_results', inAMonth());
    await api.revoke(patient.address, revoked.address, 'lab_results');
    await api.grant(
      patient.address,
      expired.address,
      'lab_results',
      new Date(Date.now() - DAY * 1000),
      new Date(Date.now() - 30 * DAY * 1000),
    );
  });

  test('the recipients of a new lab_results record: the patient, the active grantee, emergency staff', async () => {
    const res = await api.get('/records/recipients?category=lab_results', patient.token);
    assert.equal(res.statusCode, 200, res.body);
    const items = res.json<{ items: RecordRecipientView[] }>().items;
    const mine = items.filter((r) =>
      [patient, granted, otherCategory, revoked, expired, stranger, emergency].some(
        (p) => p.address === r.recipient,
      ),
    );
    assert.deepEqual(
      mine.map((r) => [r.recipient, r.role]).sort(),
      [
        [patient.address, 'patient'],
        [granted.address, 'provider'],
        [emergency.address, 'emergency'],
      ].sort(),
    );
  });

  test('the patient uploads: the CID is computed by the server and equals the browser’s; registered on-chain', async () => {
    record = await submitRecord(patient);
    const relay = await until('the registration relay', async () => {
      const res = await api.get(`/consents/relays/${record.relayId}`, patient.token);
      const view = res.json<RelayView>();
      return view.status === 'confirmed' || view.status === 'failed' ? view : undefined;
    });
    assert.equal(relay.status, 'confirmed', JSON.stringify(relay));
    assert.equal(relay.kind, 'register_record');
    const view = await registered(patient, record.id);
    assert.equal(view.cid, record.cid);
    assert.equal(view.category, 'lab_results');
    assert.deepEqual(view.history, [record.id]);
    assert.equal(await d.contract.recordCategory(patient.address, record.id), categoryId('lab_results'));
  });

  test('the server holds ciphertext only: the plaintext appears in no event and no stored file', async () => {
    const needle = 'mIU/L';
    const events = JSON.stringify(await api.events());
    assert.equal(events.includes(needle), false);
    assert.equal(events.includes(METADATA.title), false);
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const full = path.join(dir, name);
        return statSync(full).isDirectory() ? files(full) : [full];
      });
    for (const file of files(api.dataDir)) {
      const text = readFileSync(file).toString('latin1');
      assert.equal(text.includes(needle), false, `${file} holds plaintext`);
      assert.equal(text.includes(METADATA.title), false, `${file} holds the title`);
    }
  });

  test('the patient reads their own record back', async () => {
    const { blob, key, addressMatches } = await readAs(patient, record);
    assert.equal(addressMatches, true);
    assert.deepEqual(await openRecord(blob, key, patient.address), record.plaintext);
  });

  test('a provider with an active grant for the category decrypts it; the release is audited', async () => {
    const list = await api.get(`/records?patient=${patient.address}`, granted.token);
    assert.equal(list.statusCode, 200, list.body);
    const items = list.json<{ items: RecordView[] }>().items;
    assert.deepEqual(
      items.map((r) => r.id),
      [record.id],
    );
    const { blob, key, addressMatches } = await readAs(granted, record);
    assert.equal(addressMatches, true);
    assert.equal(utf8.decode(await openRecord(blob, key, patient.address)), JSON.stringify(OBSERVATION));
    assert.deepEqual(await openRecordMetadata(items[0]!.metadata, key, record.cid), METADATA);
    const releases = await auditOf(granted.address, `record:${record.id}/key`);
    assert.equal(releases.length, 1);
    assert.equal(releases[0]!.outcome, 'allowed');
    assert.equal(releases[0]!.action, 'release_record_key');
    assert.equal(releases[0]!.patient, patient.address);
  });

  for (const [who, pick, wording] of [
    ['a grant for another category', () => otherCategory, /no grant for lab_results/],
    ['a revoked grant', () => revoked, /revoked/],
    ['an expired grant', () => expired, /expired/],
    ['no grant', () => stranger, /no grant/],
    ['the emergency role but no open window', () => emergency, /emergency window/],
  ] as const) {
    test(`a reader with ${who} is refused the key and the ciphertext (403 + audit)`, async () => {
      const reader = pick();
      for (const suffix of ['/key', '/blob', '']) {
        const res = await api.get(`/records/${record.id}${suffix}`, reader.token);
        assert.equal(res.statusCode, 403, `${suffix}: ${res.body}`);
        assert.match(res.json<{ message: string }>().message, wording);
      }
      const refusals = await auditOf(reader.address, `record:${record.id}/key`);
      assert.equal(refusals.length, 1);
      assert.equal(refusals[0]!.outcome, 'denied');
      assert.match(refusals[0]!.reason, wording);
      const list = await api.get(`/records?patient=${patient.address}`, reader.token);
      if (reader === otherCategory) {
        // An imaging grant lists imaging records only: none.
        assert.equal(list.statusCode, 200, list.body);
        assert.deepEqual(list.json<{ items: RecordView[] }>().items, []);
      } else {
        assert.equal(list.statusCode, 403, list.body);
      }
    });
  }

  test('emergency staff read it while their break-glass window is open, and not after it ends', async () => {
    const window = {
      patient: patient.address,
      provider: emergency.address,
      reasonHash: `0x${'12'.repeat(32)}`,
      expiresAt: nowSeconds() + DAY,
    };
    await api.append(`emergency-${patient.address}`, [
      { type: 'EmergencyAccessStarted', version: 1, data: window },
    ]);
    const { blob, key } = await readAs(emergency, record);
    assert.deepEqual(await openRecord(blob, key, patient.address), record.plaintext);
    await api.append(`emergency-${patient.address}`, [
      {
        type: 'EmergencyAccessEnded',
        version: 1,
        data: { patient: patient.address, provider: emergency.address, endedBy: emergency.address },
      },
    ]);
    assert.equal((await api.get(`/records/${record.id}/key`, emergency.token)).statusCode, 403);
  });

  test('revoking a grant stops the next release at once', async () => {
    const late = await person('provider');
    await api.grant(patient.address, late.address, 'lab_results', inAMonth());
    // Granted after the upload: no wrapped key yet; the patient's app is asked to share it.
    const missing = await api.get(`/records/${record.id}/key`, late.token);
    assert.equal(missing.statusCode, 404, missing.body);
    assert.equal(missing.json<{ code: string }>().code, 'record_key_not_shared');
    const requests = await api.get('/records/key-requests', patient.token);
    assert.equal(requests.statusCode, 200, requests.body);
    const wanted = requests
      .json<{ items: KeyRequestView[] }>()
      .items.filter((r) => r.recipient === late.address);
    assert.deepEqual(
      wanted.map((r) => r.recordId),
      [record.id],
    );
    await shareKey(patient, record, late.address, wanted[0]!.publicKey);
    const read = await readAs(late, record);
    assert.deepEqual(await openRecord(read.blob, read.key, patient.address), record.plaintext);
    const after = await api.get('/records/key-requests', patient.token);
    assert.equal(
      after.json<{ items: KeyRequestView[] }>().items.some((r) => r.recipient === late.address),
      false,
    );

    await api.revoke(patient.address, late.address, 'lab_results');
    assert.equal((await api.get(`/records/${record.id}/key`, late.token)).statusCode, 403);
  });

  test('a grant that expires stops the next release from its last second on, refused and audited', async () => {
    const shortLived = await person('provider');
    const endsAt = nowSeconds() + 3;
    await api.grant(patient.address, shortLived.address, 'lab_results', new Date(endsAt * 1000));
    await shareKey(patient, record, shortLived.address, shortLived.publicKey);
    const read = await readAs(shortLived, record);
    assert.deepEqual(await openRecord(read.blob, read.key, patient.address), record.plaintext);

    await until('the grant to expire', async () => nowSeconds() >= endsAt);
    const refused = await api.get(`/records/${record.id}/key`, shortLived.token);
    assert.equal(refused.statusCode, 403, refused.body);
    assert.match(refused.json<{ message: string }>().message, /expired/);
    const last = (await auditOf(shortLived.address, `record:${record.id}/key`)).at(-1);
    assert.deepEqual([last?.action, last?.outcome], ['release_record_key', 'denied']);
    assert.match(last?.reason ?? '', /expired/);
  });

  test('a key release is an audit event that the next anchored root on-chain includes', async () => {
    await readAs(granted, record);
    const release = (await api.events())
      .filter((e) => e.type === 'AccessAudited')
      .filter((e) => {
        const a = e.data as AccessAuditedData;
        return (
          a.actor === granted.address && a.resource === `record:${record.id}/key` && a.outcome === 'allowed'
        );
      })
      .at(-1);
    assert.ok(release, 'the release is on record');
    const anchored = await api.app.get(AuditAnchorService).anchorNow();
    assert.equal(anchored.status, 'anchored');

    const auditor = await api.newUser('auditor');
    const res = await until('the proof of the release', async () => {
      const answer = await api.get(`/audit/proof/${release.id}`, auditor.token);
      return answer.statusCode === 200 ? answer : undefined;
    });
    const proof = res.json<AuditProof>();
    assert.equal(proof.position, release.revision);
    assert.equal(proof.root, (await d.contract.auditAnchor(proof.fromPosition)).root);
    assert.equal(verifyAuditProof(proof.root, [proof.position, proof.eventHash], proof.proof), true);
  });

  test('a key cannot be shared with someone who may not read the category', async () => {
    const res = await api.post(
      `/records/${record.id}/keys`,
      { keys: [{ recipient: stranger.address, wrappedKey: await wrapKey(record.key, stranger.publicKey) }] },
      patient.token,
    );
    assert.equal(res.statusCode, 403, res.body);
    assert.equal(res.json<{ code: string }>().code, 'recipient_not_allowed');
  });

  test('another account submitting the record’s CID as its own is refused, and owner and readers keep it', async () => {
    // Any reader of a record sees its CID; the record id is the CID's hash, the same for everyone.
    const mallory = await person();
    await api.grant(mallory.address, granted.address, 'lab_results', inAMonth());
    const { key } = await sealRecord(utf8.encode('a decoy'), mallory.address);
    const eventsBefore = await api.eventCount();
    const res = await api.post(
      '/records',
      {
        cid: record.cid,
        category: 'lab_results',
        supersedes: null,
        metadata: await sealRecordMetadata(METADATA, key, record.cid),
        // A key for the patient's own reader too: it would replace theirs.
        keys: [
          { recipient: mallory.address, wrappedKey: await wrapKey(key, mallory.publicKey) },
          { recipient: granted.address, wrappedKey: await wrapKey(key, granted.publicKey) },
        ],
        ...(await signRegistration(mallory, record.id, 'lab_results', null)),
      },
      mallory.token,
    );
    assert.equal(res.statusCode, 409, res.body);
    assert.equal(res.json<{ code: string }>().code, 'record_exists');
    assert.equal(await api.eventCount(), eventsBefore, 'nothing was appended');
    const ownerAndReadersKeepIt = async (when: string) => {
      const mine = await api.get(`/records/${record.id}`, patient.token);
      assert.equal(mine.statusCode, 200, `${when}: ${mine.body}`);
      assert.equal(mine.json<RecordDetailView>().patient, patient.address, when);
      assert.equal((await api.get(`/records/${record.id}`, mallory.token)).statusCode, 403, when);
      const { blob, key: readerKey } = await readAs(granted, record);
      assert.deepEqual(await openRecord(blob, readerKey, patient.address), record.plaintext, when);
    };
    await ownerAndReadersKeepIt('after the refusal');

    // Two submissions racing past that check: the views keep the first owner and its readers' keys.
    await api.append(
      recordsStream(mallory.address),
      [
        {
          type: 'RecordSubmitted',
          version: 1,
          data: {
            recordId: record.id,
            patient: mallory.address,
            cid: record.cid,
            category: 'lab_results',
            size: 1,
            supersedes: null,
            metadata: { iv: 'AAAAAAAAAAAAAAAA', ciphertext: 'AAAA' },
            relayId: randomUUID(),
          },
        },
        {
          type: 'RecordKeyShared',
          version: 1,
          data: {
            recordId: record.id,
            patient: mallory.address,
            recipient: granted.address,
            wrappedKey: 'AAAA',
          },
        },
      ],
      new Date(),
      mallory.address,
    );
    await ownerAndReadersKeepIt('after a race');
  });

  test('a blob changed in transit fails the address check and decryption with an integrity error', async () => {
    const { blob, key, addressMatches } = await readAs(granted, record);
    assert.equal(addressMatches, true);
    const changed = blob.slice();
    changed[changed.length >> 1]! ^= 0x01;
    assert.notEqual(await contentAddress(changed), record.cid);
    await assert.rejects(openRecord(changed, key, patient.address), IntegrityError);
  });

  test('a blob changed at rest is not served: the store checks its address on every read', async () => {
    const stored = (function find(dir: string): string | undefined {
      for (const name of readdirSync(dir)) {
        const full = path.join(dir, name);
        if (statSync(full).isDirectory()) {
          const hit = find(full);
          if (hit) return hit;
        } else if (name.includes(record.cid)) return full;
      }
      return undefined;
    })(api.dataDir);
    assert.ok(stored, 'the fs blob store keeps the ciphertext under the data folder, named by its CID');
    const original = readFileSync(stored);
    const tampered = Buffer.from(original);
    tampered[tampered.length >> 1]! ^= 0x01;
    writeFileSync(stored, tampered);
    try {
      const res = await api.get(`/records/${record.id}/blob`, granted.token);
      assert.equal(res.statusCode, 500, res.body);
      assert.match(res.json<{ message: string }>().message, /no longer matches its content address/);
      assert.equal(res.body.includes(tampered.subarray(0, 16).toString('latin1')), false);
      // Nothing was served, so nothing was released: the last word on this read is a refusal.
      const reads = await auditOf(granted.address, `record:${record.id}`);
      assert.deepEqual(
        [reads.at(-1)?.action, reads.at(-1)?.outcome, reads.at(-1)?.reason],
        ['read_record_blob', 'denied', 'the stored ciphertext no longer matches its content address'],
      );
    } finally {
      writeFileSync(stored, original);
    }
  });
});

describe('records: amendments', () => {
  let patient: MessagingUser;
  let provider: MessagingUser;
  let first: Upload;
  let second: Upload;

  before(async () => {
    patient = await person();
    provider = await person('provider');
    await api.grant(patient.address, provider.address, 'lab_results', inAMonth());
    first = await submitRecord(patient, { text: 'version 1' });
    await registered(patient, first.id);
  });

  test('a new version supersedes the old one on-chain; the history shows both; the old stays readable', async () => {
    second = await submitRecord(patient, { text: 'version 2', supersedes: first.id });
    const view = await registered(patient, second.id);
    assert.deepEqual(view.history, [first.id, second.id]);
    const old = await until('the old version marked superseded', async () => {
      const res = await api.get(`/records/${first.id}`, provider.token);
      const v = res.json<RecordDetailView>();
      return v.supersededBy === second.id ? v : undefined;
    });
    assert.deepEqual(old.history, [first.id, second.id]);
    const read = await readAs(provider, first);
    assert.equal(utf8.decode(await openRecord(read.blob, read.key, patient.address)), 'version 1');
  });

  test('only the latest version can be amended', async () => {
    const { blob } = await sealRecord(utf8.encode('a fork'), patient.address);
    const cid = await contentAddress(blob);
    assert.equal((await uploadBlob(patient, blob)).statusCode, 201);
    const id = recordIdOf(cid);
    const res = await api.post(
      '/records',
      {
        cid,
        category: 'lab_results',
        supersedes: first.id,
        metadata: await sealRecordMetadata(METADATA, new Uint8Array(32), cid),
        keys: [
          { recipient: patient.address, wrappedKey: await wrapKey(new Uint8Array(32), patient.publicKey) },
        ],
        ...(await signRegistration(patient, id, 'lab_results', first.id)),
      },
      patient.token,
    );
    assert.equal(res.statusCode, 409, res.body);
    assert.equal(res.json<{ code: string }>().code, 'already_amended');
  });

  test('an amendment keeps the category', async () => {
    const { blob } = await sealRecord(utf8.encode('moved'), patient.address);
    const cid = await contentAddress(blob);
    await uploadBlob(patient, blob);
    const id = recordIdOf(cid);
    const res = await api.post(
      '/records',
      {
        cid,
        category: 'imaging',
        supersedes: second.id,
        metadata: await sealRecordMetadata(METADATA, new Uint8Array(32), cid),
        keys: [
          { recipient: patient.address, wrappedKey: await wrapKey(new Uint8Array(32), patient.publicKey) },
        ],
        ...(await signRegistration(patient, id, 'imaging', second.id)),
      },
      patient.token,
    );
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json<{ code: string }>().code, 'category_mismatch');
  });
});

describe('records: bad input changes nothing', () => {
  let patient: MessagingUser;

  before(async () => {
    patient = await person();
  });

  const attempt = async (change: Record<string, unknown>, upload = true) => {
    const { blob, key } = await sealRecord(utf8.encode('x'), patient.address);
    const cid = await contentAddress(blob);
    if (upload) assert.equal((await uploadBlob(patient, blob)).statusCode, 201);
    const id = recordIdOf(cid);
    const body = {
      cid,
      category: 'lab_results',
      supersedes: null,
      metadata: await sealRecordMetadata(METADATA, key, cid),
      keys: [{ recipient: patient.address, wrappedKey: await wrapKey(key, patient.publicKey) }],
      ...(await signRegistration(patient, id, 'lab_results', null)),
      ...change,
    };
    const before = await api.eventCount();
    const res = await api.post('/records', body, patient.token);
    // A refusal appends nothing but (at most) nothing: no record, no relay.
    const appended = (await api.events()).slice(before).filter((e) => e.type !== 'AccessAudited');
    assert.deepEqual(appended, []);
    return res;
  };

  test('a signature by someone else → 400 invalid_signature', async () => {
    const res = await attempt({ signature: `0x${'1b'.repeat(65)}` });
    assert.equal(res.statusCode, 400, res.body);
  });

  test('a CID that was never uploaded → 404 blob_not_found', async () => {
    const res = await attempt({}, false);
    assert.equal(res.statusCode, 404, res.body);
    assert.equal(res.json<{ code: string }>().code, 'blob_not_found');
  });

  test('no key for the patient → 400 own_key_required', async () => {
    const other = await person('provider');
    await api.grant(patient.address, other.address, 'lab_results', inAMonth());
    const res = await attempt({
      keys: [{ recipient: other.address, wrappedKey: await wrapKey(new Uint8Array(32), other.publicKey) }],
    });
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json<{ code: string }>().code, 'own_key_required');
  });

  test('not a CID → 400 naming cid', async () => {
    const res = await attempt({ cid: 'QmNotAV1Cid' });
    assert.equal(res.statusCode, 400, res.body);
    assert.match(res.body, /cid/);
  });

  test('a blob sent as JSON → 415; an empty blob → 400', async () => {
    const json = await api.post('/records/blobs', { bytes: 'abc' }, patient.token);
    assert.equal(json.statusCode, 415, json.body);
    const empty = await uploadBlob(patient, new Uint8Array(0));
    assert.equal(empty.statusCode, 400, empty.body);
  });

  test('a blob over 25 MiB → 413', async () => {
    const res = await uploadBlob(patient, new Uint8Array(25 * 1024 * 1024 + 1));
    assert.equal(res.statusCode, 413, res.body);
  });
});
