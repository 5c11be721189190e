// Consents exported as FHIR R4: GET /consents/fhir answers a searchset Bundle of Consent resources, one
// per consent document, status as of the request. A patient gets their own; an auditor names a patient
// with ?patient=; anyone else naming someone is refused (403) on that patient's audit trail.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type AccessAuditedData, consentStream, type RecordedEvent } from '@custos/domain';
import { consentResource } from '../../apps/api/src/audit/fhir';
import { stamp } from '../../apps/api/src/core/aggregate-repository';
import type { ConsentDocument } from '../../apps/api/src/projections/read-models';
import { addressesIn, DAY, randomAddress, type Response, TestApi, type User } from './harness';

// ---------------------------------------------------------------------------------------------------
// A small R4 checker: the rules of Bundle and Consent that an importer relies on (elements allowed,
// cardinalities, required elements, code systems and their codes, primitive formats, invariants).
// ---------------------------------------------------------------------------------------------------
type Json = Record<string, unknown>;

const ID = /^[A-Za-z0-9\-.]{1,64}$/;
const CODE = /^[^\s]+(\s[^\s]+)*$/;
const ABSOLUTE_URI = /^[a-z][a-z0-9+.-]*:\S+$/i;
const UUID_URN = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const YEAR = '([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)';
const TIME =
  'T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))';
const DATE_TIME = new RegExp(`^${YEAR}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(${TIME})?)?)?$`);
const INSTANT = new RegExp(`^${YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])${TIME}$`);

/** Code systems used here and the codes R4 defines in them. */
const CODE_SYSTEMS: Record<string, readonly string[]> = {
  'http://terminology.hl7.org/CodeSystem/consentscope': ['adr', 'research', 'patient-privacy', 'treatment'],
  'http://terminology.hl7.org/CodeSystem/consentaction': ['collect', 'access', 'use', 'disclose', 'correct'],
  'http://terminology.hl7.org/CodeSystem/v3-ParticipationType': ['IRCP', 'PRCP', 'AUT', 'CST', 'INF'],
  'http://terminology.hl7.org/CodeSystem/v3-ActCode': ['OPTIN', 'OPTINR', 'OPTOUT', 'OPTOUTE'],
};
const CONSENT_STATUS = ['draft', 'proposed', 'active', 'rejected', 'inactive', 'entered-in-error'];
const BUNDLE_TYPES = [
  'document',
  'message',
  'transaction',
  'transaction-response',
  'batch',
  'batch-response',
  'history',
  'searchset',
  'collection',
];
const CONSENT_ELEMENTS = [
  'resourceType',
  'id',
  'meta',
  'implicitRules',
  'language',
  'text',
  'contained',
  'extension',
  'modifierExtension',
  'identifier',
  'status',
  'scope',
  'category',
  'patient',
  'dateTime',
  'performer',
  'organization',
  'sourceAttachment',
  'sourceReference',
  'policy',
  'policyRule',
  'verification',
  'provision',
];
const PROVISION_ELEMENTS = [
  'type',
  'period',
  'actor',
  'action',
  'securityLabel',
  'purpose',
  'class',
  'code',
  'dataPeriod',
  'data',
  'provision',
];

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

class Checker {
  readonly problems: string[] = [];

  fail(path: string, what: string) {
    this.problems.push(`${path}: ${what}`);
  }

  /** ele-1 and FHIR JSON: no null, no empty string, object or array anywhere. */
  noEmpties(value: unknown, path: string) {
    if (value === null || value === '') this.fail(path, 'empty value');
    else if (Array.isArray(value)) {
      if (value.length === 0) this.fail(path, 'empty array');
      value.forEach((v, i) => this.noEmpties(v, `${path}[${i}]`));
    } else if (isObject(value)) {
      if (Object.keys(value).length === 0) this.fail(path, 'empty object');
      for (const [k, v] of Object.entries(value)) this.noEmpties(v, `${path}.${k}`);
    }
  }

  only(value: Json, allowed: readonly string[], path: string) {
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) this.fail(`${path}.${key}`, 'not an element of this type');
    }
  }

  /** `min..max` occurrences of an element; a `*` element must be an array, a `..1` one must not. */
  card(value: Json, key: string, min: 0 | 1, max: 1 | '*', path: string): unknown[] {
    const v = value[key];
    if (v === undefined) {
      if (min === 1) this.fail(`${path}.${key}`, 'required, missing');
      return [];
    }
    if (max === 1) {
      if (Array.isArray(v)) this.fail(`${path}.${key}`, 'at most one, got an array');
      return [v];
    }
    if (!Array.isArray(v)) {
      this.fail(`${path}.${key}`, 'repeats: must be an array');
      return [v];
    }
    if (v.length < min) this.fail(`${path}.${key}`, `at least ${min}`);
    return v;
  }

  matches(value: unknown, pattern: RegExp, what: string, path: string): value is string {
    if (typeof value !== 'string' || !pattern.test(value)) {
      this.fail(path, `not a valid ${what}: ${JSON.stringify(value)}`);
      return false;
    }
    return true;
  }

  coding(value: unknown, path: string) {
    if (!isObject(value)) return this.fail(path, 'Coding must be an object');
    this.only(value, ['id', 'extension', 'system', 'version', 'code', 'display', 'userSelected'], path);
    this.matches(value.system, ABSOLUTE_URI, 'absolute URI (system)', `${path}.system`);
    this.matches(value.code, CODE, 'code', `${path}.code`);
    const known = CODE_SYSTEMS[String(value.system)];
    if (known && !known.includes(String(value.code))) {
      this.fail(`${path}.code`, `${String(value.code)} is not a code of ${String(value.system)}`);
    }
  }

  codeableConcept(value: unknown, path: string) {
    if (!isObject(value)) return this.fail(path, 'CodeableConcept must be an object');
    this.only(value, ['id', 'extension', 'coding', 'text'], path);
    this.card(value, 'coding', 0, '*', path).forEach((c, i) => this.coding(c, `${path}.coding[${i}]`));
    if (value.coding === undefined && value.text === undefined) this.fail(path, 'neither coding nor text');
  }

  identifier(value: unknown, path: string) {
    if (!isObject(value)) return this.fail(path, 'Identifier must be an object');
    this.only(value, ['id', 'extension', 'use', 'type', 'system', 'value', 'period', 'assigner'], path);
    this.matches(value.system, ABSOLUTE_URI, 'absolute URI (system)', `${path}.system`);
    if (typeof value.value !== 'string') this.fail(`${path}.value`, 'missing');
  }

  reference(value: unknown, path: string) {
    if (!isObject(value)) return this.fail(path, 'Reference must be an object');
    this.only(value, ['id', 'extension', 'reference', 'type', 'identifier', 'display'], path);
    if (value.reference === undefined && value.identifier === undefined && value.display === undefined) {
      this.fail(path, 'a Reference needs a reference, an identifier or a display');
    }
    if (value.identifier !== undefined) this.identifier(value.identifier, `${path}.identifier`);
  }

  /** per-1: start <= end. */
  period(value: unknown, path: string) {
    if (!isObject(value)) return this.fail(path, 'Period must be an object');
    this.only(value, ['id', 'extension', 'start', 'end'], path);
    const start =
      value.start === undefined || this.matches(value.start, DATE_TIME, 'dateTime', `${path}.start`);
    const end = value.end === undefined || this.matches(value.end, DATE_TIME, 'dateTime', `${path}.end`);
    if (
      start &&
      end &&
      value.start &&
      value.end &&
      Date.parse(String(value.start)) > Date.parse(String(value.end))
    ) {
      this.fail(path, 'per-1: start after end');
    }
  }

  consent(r: Json, path: string) {
    this.only(r, CONSENT_ELEMENTS, path);
    this.matches(r.id, ID, 'id', `${path}.id`);
    this.card(r, 'identifier', 0, '*', path).forEach((v, i) =>
      this.identifier(v, `${path}.identifier[${i}]`),
    );
    this.card(r, 'status', 1, 1, path);
    if (!CONSENT_STATUS.includes(String(r.status)))
      this.fail(`${path}.status`, `unknown ${String(r.status)}`);
    this.card(r, 'scope', 1, 1, path).forEach((v) => this.codeableConcept(v, `${path}.scope`));
    this.card(r, 'category', 1, '*', path).forEach((v, i) =>
      this.codeableConcept(v, `${path}.category[${i}]`),
    );
    this.card(r, 'patient', 0, 1, path).forEach((v) => this.reference(v, `${path}.patient`));
    this.card(r, 'dateTime', 0, 1, path).forEach((v) =>
      this.matches(v, DATE_TIME, 'dateTime', `${path}.dateTime`),
    );
    this.card(r, 'performer', 0, '*', path).forEach((v, i) => this.reference(v, `${path}.performer[${i}]`));
    this.card(r, 'sourceReference', 0, 1, path).forEach((v) => this.reference(v, `${path}.sourceReference`));
    this.card(r, 'policy', 0, '*', path);
    this.card(r, 'policyRule', 0, 1, path).forEach((v) => this.codeableConcept(v, `${path}.policyRule`));
    // ppc-1: either a policy or a policyRule.
    if (r.policy === undefined && r.policyRule === undefined)
      this.fail(path, 'ppc-1: no policy or policyRule');
    // ppc-2..5: a privacy, research, adr or treatment consent names its patient.
    const scopes = ((r.scope as Json | undefined)?.coding as Json[] | undefined) ?? [];
    if (scopes.length > 0 && r.patient === undefined)
      this.fail(path, 'ppc-2: a scoped consent without a patient');
    for (const [i, p] of this.card(r, 'provision', 0, 1, path).entries()) {
      this.provision(p, `${path}.provision${i ? `[${i}]` : ''}`);
    }
  }

  provision(p: unknown, path: string) {
    if (!isObject(p)) return this.fail(path, 'provision must be an object');
    this.only(p, PROVISION_ELEMENTS, path);
    if (p.type !== undefined && p.type !== 'deny' && p.type !== 'permit') {
      this.fail(`${path}.type`, `not deny or permit: ${String(p.type)}`);
    }
    this.card(p, 'period', 0, 1, path).forEach((v) => this.period(v, `${path}.period`));
    this.card(p, 'actor', 0, '*', path).forEach((actor, i) => {
      const at = `${path}.actor[${i}]`;
      if (!isObject(actor)) return this.fail(at, 'must be an object');
      this.only(actor, ['id', 'extension', 'modifierExtension', 'role', 'reference'], at);
      this.card(actor, 'role', 1, 1, at).forEach((v) => this.codeableConcept(v, `${at}.role`));
      this.card(actor, 'reference', 1, 1, at).forEach((v) => this.reference(v, `${at}.reference`));
    });
    this.card(p, 'action', 0, '*', path).forEach((v, i) => this.codeableConcept(v, `${path}.action[${i}]`));
    this.card(p, 'class', 0, '*', path).forEach((v, i) => this.coding(v, `${path}.class[${i}]`));
    this.card(p, 'code', 0, '*', path).forEach((v, i) => this.codeableConcept(v, `${path}.code[${i}]`));
  }

  bundle(b: Json) {
    this.noEmpties(b, 'Bundle');
    this.only(
      b,
      [
        'resourceType',
        'id',
        'meta',
        'implicitRules',
        'language',
        'identifier',
        'type',
        'timestamp',
        'total',
        'link',
        'entry',
        'signature',
      ],
      'Bundle',
    );
    if (b.resourceType !== 'Bundle') this.fail('Bundle.resourceType', String(b.resourceType));
    this.card(b, 'type', 1, 1, 'Bundle');
    if (!BUNDLE_TYPES.includes(String(b.type))) this.fail('Bundle.type', `unknown ${String(b.type)}`);
    if (b.timestamp !== undefined) this.matches(b.timestamp, INSTANT, 'instant', 'Bundle.timestamp');
    // bdl-1: total only when a search or history.
    if (b.total !== undefined && b.type !== 'searchset' && b.type !== 'history') {
      this.fail('Bundle.total', 'bdl-1: total on a bundle that is not a searchset or history');
    }
    if (b.total !== undefined && (!Number.isInteger(b.total) || (b.total as number) < 0)) {
      this.fail('Bundle.total', 'not an unsignedInt');
    }
    const fullUrls = new Set<string>();
    this.card(b, 'entry', 0, '*', 'Bundle').forEach((entry, i) => {
      const at = `Bundle.entry[${i}]`;
      if (!isObject(entry)) return this.fail(at, 'must be an object');
      this.only(
        entry,
        ['id', 'extension', 'link', 'fullUrl', 'resource', 'search', 'request', 'response'],
        at,
      );
      // bdl-2: entry.search only when a search.
      if (entry.search !== undefined && b.type !== 'searchset')
        this.fail(`${at}.search`, 'bdl-2: not a searchset');
      if (isObject(entry.search) && !['match', 'include', 'outcome'].includes(String(entry.search.mode))) {
        this.fail(`${at}.search.mode`, `unknown ${String(entry.search.mode)}`);
      }
      const resource = entry.resource;
      if (!isObject(resource)) return this.fail(`${at}.resource`, 'missing');
      if (this.matches(entry.fullUrl, ABSOLUTE_URI, 'absolute URI (fullUrl)', `${at}.fullUrl`)) {
        // bdl-7: unique fullUrls; a urn:uuid fullUrl is a UUID, and it agrees with the resource id.
        if (fullUrls.has(entry.fullUrl)) this.fail(`${at}.fullUrl`, 'bdl-7: fullUrl not unique');
        fullUrls.add(entry.fullUrl);
        if (entry.fullUrl.startsWith('urn:uuid:')) {
          this.matches(entry.fullUrl, UUID_URN, 'urn:uuid', `${at}.fullUrl`);
          if (entry.fullUrl !== `urn:uuid:${String(resource.id)}`)
            this.fail(`${at}.fullUrl`, 'disagrees with the id');
        }
      }
      if (resource.resourceType === 'Consent') this.consent(resource, `${at}.resource`);
    });
  }
}

function r4Problems(bundle: unknown): string[] {
  const checker = new Checker();
  if (!isObject(bundle)) return ['not a JSON object'];
  checker.bundle(bundle);
  return checker.problems;
}

// ---------------------------------------------------------------------------------------------------

interface Coding {
  system: string;
  code: string;
  display?: string;
}
interface Concept {
  coding: Coding[];
}
interface IdentifiedReference {
  identifier: { system: string; value: string };
}
interface Consent {
  resourceType: 'Consent';
  id: string;
  identifier?: { system: string; value: string }[];
  status: string;
  scope: Concept;
  category: Concept[];
  patient: IdentifiedReference;
  dateTime: string;
  policyRule: Concept;
  provision: {
    type: string;
    period: { start: string; end: string };
    actor: { role: Concept; reference: IdentifiedReference }[];
    action: Concept[];
    code: Concept[];
  };
}
interface Bundle {
  resourceType: 'Bundle';
  type: string;
  total: number;
  entry?: { fullUrl: string; resource: Consent }[];
}

const ethereum = (address: string) => ({ system: 'urn:ietf:rfc:3986', value: `urn:ethereum:${address}` });
const iso = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString();

describe('consents as FHIR R4 Consent resources: GET /consents/fhir', () => {
  let api: TestApi;
  let patient: User;
  let otherPatient: User;
  let provider: User;
  let otherProvider: User;
  let auditor: User;
  // Whole seconds, so that the expected instants are exact.
  const now = Math.floor(Date.now() / 1000);
  const at = (seconds: number) => new Date((now + seconds) * 1000);
  /** category → what the export must say about it. */
  const expected: Record<string, { status: string; provider: () => string; start: string; end: string }> = {};

  before(async () => {
    api = await TestApi.start();
    patient = await api.newUser();
    otherPatient = await api.newUser();
    provider = await api.newUser('provider');
    otherProvider = await api.newUser('provider');
    auditor = await api.newUser('auditor');

    // Active: granted two days ago for thirty days.
    await api.grant(patient.address, provider.address, 'lab_results', at(30 * DAY), at(-2 * DAY));
    expected.lab_results = {
      status: 'active',
      provider: () => provider.address,
      start: iso(now - 2 * DAY),
      end: iso(now + 30 * DAY),
    };
    // Revoked yesterday, well before its expiry: the period ends at the revocation.
    await api.grant(patient.address, provider.address, 'imaging', at(30 * DAY), at(-3 * DAY));
    await api.revoke(patient.address, provider.address, 'imaging', at(-DAY));
    expected.imaging = {
      status: 'inactive',
      provider: () => provider.address,
      start: iso(now - 3 * DAY),
      end: iso(now - DAY),
    };
    // Expired an hour ago, never revoked: the period ends at the expiry.
    await api.grant(patient.address, otherProvider.address, 'vitals', at(-3600), at(-10 * DAY));
    expected.vitals = {
      status: 'inactive',
      provider: () => otherProvider.address,
      start: iso(now - 10 * DAY),
      end: iso(now - 3600),
    };
    // Someone else's, which the patient's export must not show.
    await api.grant(otherPatient.address, provider.address, 'medications', at(30 * DAY), at(-DAY));
  });
  after(() => api.close());

  const consentsOf = (res: Response) => (res.json<Bundle>().entry ?? []).map((e) => e.resource);

  test('a patient gets a Bundle of their three consents, with the status and period of each as of now', async () => {
    const res = await api.get('/consents/fhir', patient.token);
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^application\/fhir\+json/);
    const bundle = res.json<Bundle>();
    assert.equal(bundle.resourceType, 'Bundle');
    assert.equal(bundle.type, 'searchset');
    assert.equal(bundle.total, 3);

    const consents = consentsOf(res);
    assert.deepEqual(consents.map((c) => c.provision.code[0]!.coding[0]!.code).sort(), [
      'imaging',
      'lab_results',
      'vitals',
    ]);
    for (const consent of consents) {
      const category = consent.provision.code[0]!.coding[0]!;
      const want = expected[category.code]!;
      const label = `${category.code}:`;
      assert.equal(category.system, 'urn:custos:category', label);
      assert.equal(consent.status, want.status, `${label} status`);
      assert.deepEqual(consent.patient.identifier, ethereum(patient.address), `${label} patient`);
      assert.equal(consent.dateTime, want.start, `${label} dateTime is the grant`);
      assert.deepEqual(consent.provision.period, { start: want.start, end: want.end }, `${label} period`);
      assert.equal(consent.provision.type, 'permit');
      assert.deepEqual(
        consent.provision.actor.map((a) => [a.role.coding[0]!.code, a.reference.identifier]),
        [['IRCP', ethereum(want.provider())]],
        `${label} actor`,
      );
      assert.deepEqual(consent.provision.action[0]!.coding[0], {
        system: 'http://terminology.hl7.org/CodeSystem/consentaction',
        code: 'access',
        display: 'Access',
      });
      assert.equal(consent.identifier, undefined, `${label} no chain transaction is known for it`);
    }
    // Nothing about anyone else, and nothing beyond the consent: the addresses are its parties only.
    assert.deepEqual(
      [...new Set(addressesIn(res.body))].sort(),
      [patient.address, provider.address, otherProvider.address].sort(),
    );
    assert.doesNotMatch(res.body, /medications/);
  });

  test('each resource passes the R4 structural rules (checked here, not by a validator package)', async () => {
    const res = await api.get('/consents/fhir', patient.token);
    assert.deepEqual(r4Problems(res.json()), []);
    for (const consent of consentsOf(res)) {
      assert.deepEqual(consent.scope.coding, [
        {
          system: 'http://terminology.hl7.org/CodeSystem/consentscope',
          code: 'patient-privacy',
          display: 'Privacy Consent',
        },
      ]);
      assert.deepEqual(consent.category[0]!.coding, [
        { system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' },
      ]);
      assert.deepEqual(consent.policyRule.coding[0], {
        system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
        code: 'OPTIN',
        display: 'opt-in',
      });
    }
    // The same export twice names each consent the same way (the id is derived, not random).
    const again = consentsOf(await api.get('/consents/fhir', patient.token));
    assert.deepEqual(
      again.map((c) => c.id).sort(),
      consentsOf(res)
        .map((c) => c.id)
        .sort(),
    );
  });

  test('the checker itself finds what breaks R4 (so that passing it means something)', async () => {
    const bundle = (await api.get('/consents/fhir', patient.token)).json<Json>();
    const broken = structuredClone(bundle) as unknown as Bundle & { total?: number };
    const [first, second] = broken.entry!;
    delete (first!.resource as Partial<Consent>).policyRule;
    first!.resource.status = 'revoked';
    (first!.resource.provision.actor[0] as Partial<Consent['provision']['actor'][0]>).role = undefined;
    second!.resource.provision.period = { start: '2025-02-01T00:00:00Z', end: '2025-01-01' };
    second!.resource.scope.coding[0]!.code = 'privacy';
    broken.entry![2]!.fullUrl = first!.fullUrl;
    const problems = r4Problems(broken).join('\n');
    for (const rule of ['ppc-1', 'unknown revoked', 'role: required', 'per-1', 'not a code of', 'bdl-7']) {
      assert.match(problems, new RegExp(rule), `the checker misses ${rule}:\n${problems}`);
    }
    assert.match(r4Problems({ ...bundle, type: 'collection' }).join('\n'), /bdl-1/);
    assert.match(r4Problems({ ...bundle, entry: [] }).join('\n'), /empty array/);
  });

  test('status is decided by the time given, not by the clock: the mapping of one grant before and after its expiry', () => {
    const grant: ConsentDocument = {
      id: `${patient.address}|${provider.address}|imaging`,
      patient: patient.address,
      provider: provider.address,
      category: 'imaging',
      expiresAt: 2_000_000_000,
      status: 'granted',
      grantedAt: '2033-05-01T00:00:00.000Z',
      revokedAt: null,
      updatedAt: '2033-05-01T00:00:00.000Z',
    };
    assert.equal(consentResource(grant, new Date(1_999_999_999_000)).status, 'active');
    assert.equal(consentResource(grant, new Date(2_000_000_000_000)).status, 'inactive');
    // Revoked after it had expired: the period still ends at the expiry, the earlier of the two.
    const late = consentResource(
      { ...grant, status: 'revoked', revokedAt: '2040-01-01T00:00:00.000Z' },
      new Date(1_000_000_000_000),
    ) as unknown as Consent;
    assert.equal(late.status, 'inactive');
    assert.equal(late.provision.period.end, iso(2_000_000_000));
  });

  test('a grant mirrored from the chain carries its transaction hash as the Consent identifier', async () => {
    const owner = randomAddress();
    const txHash = `0x${'ab'.repeat(32)}`;
    const [event] = stamp(
      [
        {
          type: 'ConsentGranted',
          version: 1,
          data: { patient: owner, provider: provider.address, category: 'allergies', expiresAt: now + DAY },
        },
      ],
      { actor: 'chain', correlationId: randomUUID(), now: new Date() },
    );
    const mirrored = {
      ...event!,
      id: `${txHash}:0`,
      metadata: {
        ...event!.metadata,
        chain: { chainId: 31337, blockNumber: 7, blockHash: `0x${'cd'.repeat(32)}`, txHash, logIndex: 0 },
      },
    };
    const { position } = await api.eventStore.append(consentStream(owner), [mirrored], 'any');
    await api.projections.caughtUp(position);

    const res = await api.get('/consents/fhir', auditor.token, { patient: owner });
    assert.equal(res.statusCode, 200, res.body);
    const [consent] = consentsOf(res);
    assert.deepEqual(consent!.identifier, [{ system: 'urn:custos:grant-transaction', value: txHash }]);
    assert.deepEqual(r4Problems(res.json()), []);
  });

  test('an auditor exports a named patient’s consents, and the export is on that patient’s audit trail', async () => {
    const own = consentsOf(await api.get('/consents/fhir', patient.token));
    const head = await api.eventStore.headPosition();
    const upperCase = `0x${patient.address.slice(2).toUpperCase()}`;
    const res = await api.get('/consents/fhir', auditor.token, { patient: upperCase });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json<Bundle>().total, 3);
    assert.deepEqual(consentsOf(res), own, 'the same resources the patient gets');

    const audited = (await api.events(head)).filter((e) => e.type === 'AccessAudited');
    assert.deepEqual(
      audited.map((e) => e.data),
      [
        {
          actor: auditor.address,
          patient: patient.address,
          resource: 'consents',
          action: 'export',
          purpose: 'compliance review',
          outcome: 'allowed',
          reason: 'auditor role',
        },
      ] satisfies AccessAuditedData[],
    );
  });

  test('an auditor with no parameter gets their own consents: none, as an empty searchset', async () => {
    const res = await api.get('/consents/fhir', auditor.token);
    assert.equal(res.statusCode, 200, res.body);
    const bundle = res.json<Bundle>();
    assert.equal(bundle.total, 0);
    assert.equal(bundle.entry, undefined, 'FHIR JSON has no empty arrays');
    assert.deepEqual(r4Problems(bundle), []);
  });

  test('a patient naming themselves is answered as without the parameter, and not audited', async () => {
    const head = await api.eventStore.headPosition();
    const res = await api.get('/consents/fhir', patient.token, { patient: patient.address });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json<Bundle>().total, 3);
    assert.deepEqual(await api.events(head), []);
  });

  for (const who of ['a provider', 'another patient'] as const) {
    test(`${who} asking for the patient’s consents gets 403, naming no one, on the patient’s audit trail`, async () => {
      const caller = who === 'a provider' ? provider : otherPatient;
      const head = await api.eventStore.headPosition();
      const res = await api.get('/consents/fhir', caller.token, { patient: patient.address });
      assert.equal(res.statusCode, 403, res.body);
      assert.deepEqual(res.json(), {
        statusCode: 403,
        error: 'Forbidden',
        code: 'auditor_role_required',
        message: "exporting another patient's consents requires the auditor role",
      });
      assert.deepEqual(addressesIn(res.body), []);

      const appended: RecordedEvent[] = await api.events(head);
      assert.deepEqual(
        appended.map((e) => [e.type, e.data]),
        [
          [
            'AccessAudited',
            {
              actor: caller.address,
              patient: patient.address,
              resource: 'consents',
              action: 'export',
              purpose: null,
              outcome: 'denied',
              reason: "exporting another patient's consents requires the auditor role",
            },
          ],
        ],
      );
      // The patient sees the attempt in their own audit trail.
      const trail = (await api.get('/audit/me', patient.token)).json<{ items: AccessAuditedData[] }>();
      assert.ok(trail.items.some((e) => e.actor === caller.address && e.outcome === 'denied'));
    });
  }

  test('a malformed patient parameter is 400 naming it, before any decision on who may ask', async () => {
    for (const [caller, value] of [
      [auditor, '0x1234'],
      [auditor, 'alice.eth'],
      [patient, `0x${'g'.repeat(40)}`],
      [provider, patient.address.slice(2)],
    ] as const) {
      const before = await api.eventCount();
      const res = await api.get('/consents/fhir', caller.token, { patient: value });
      assert.equal(res.statusCode, 400, `${value}: ${res.body}`);
      assert.match(String(res.json<{ message: unknown }>().message), /\bpatient\b/);
      assert.equal(await api.eventCount(), before, 'nothing appended');
    }
    const twice = await api.get('/consents/fhir', auditor.token, {
      patient: [patient.address, otherPatient.address],
    });
    assert.equal(twice.statusCode, 400, twice.body);
    assert.match(twice.body, /\bpatient\b/);
    const unknown = await api.get('/consents/fhir', patient.token, { limit: '10' });
    assert.equal(unknown.statusCode, 400, unknown.body);
    assert.match(unknown.body, /\blimit\b/);
  });

  test('the export is the whole set: more consents than one read-model page (1,000) all come out', async () => {
    const owner = randomAddress();
    const count = 1_005;
    const drafts = Array.from({ length: count }, (_, i) => ({
      type: 'ConsentGranted',
      version: 1,
      data: {
        patient: owner,
        provider: `0x${(i + 1).toString(16).padStart(40, '0')}`,
        category: 'general',
        // Many share an expiry, the field the export sorts by: paging must not lose or repeat any.
        expiresAt: now + DAY + (i % 3),
      },
    }));
    const { position } = await api.eventStore.append(
      consentStream(owner),
      stamp(drafts, { actor: 'chain', correlationId: randomUUID(), now: new Date() }),
      'any',
    );
    await api.projections.caughtUp(position);

    const res = await api.get('/consents/fhir', auditor.token, { patient: owner });
    assert.equal(res.statusCode, 200);
    const consents = consentsOf(res);
    assert.equal(res.json<Bundle>().total, count);
    assert.equal(consents.length, count);
    assert.equal(new Set(consents.map((c) => c.id)).size, count, 'no consent twice');
    assert.equal(
      new Set(consents.map((c) => c.provision.actor[0]!.reference.identifier.value)).size,
      count,
      'every provider once',
    );
    assert.deepEqual(r4Problems(res.json()), []);
  });
});
