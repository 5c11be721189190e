import { createHash } from 'node:crypto';
import { unixSeconds } from '@custos/domain';
import type { AuditDocument, ConsentDocument } from '../projections/read-models';

/**
 * FHIR R4 mappings for export. Wallet addresses are identifiers in the `urn:ethereum:` namespace
 * (CAIP-10 style); categories are Custos codes.
 */

const ETHEREUM = 'urn:ietf:rfc:3986';
const CATEGORY_SYSTEM = 'urn:custos:category';
/** The transaction that put a grant on-chain, as the chain mirror saw it. */
const GRANT_TRANSACTION_SYSTEM = 'urn:custos:grant-transaction';
/** Namespace of the name-based UUIDs given to resources that have no UUID of their own. */
const CUSTOS_UUID_NAMESPACE = Buffer.from('85e4c816b9394ba882d3075e3e661610', 'hex');

const identifier = (address: string) => ({
  identifier: { system: ETHEREUM, value: `urn:ethereum:${address}` },
});

const coding = (system: string, code: string, display?: string) => ({
  system,
  code,
  ...(display ? { display } : {}),
});

/** A UUID (RFC 9562 version 5) named by `name`: the same name always gives the same id. */
function nameBasedUuid(name: string): string {
  const hash = createHash('sha1').update(CUSTOS_UUID_NAMESPACE).update(name).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A FHIR resource as exported; every `id` is a UUID, so a Bundle can name it `urn:uuid:<id>`. */
export interface FhirResource {
  resourceType: string;
  id: string;
  [element: string]: unknown;
}

/**
 * What an export matched. R4 allows `total` on searchset (and history) Bundles only (bdl-1), and FHIR
 * JSON has no empty arrays, so an export that matched nothing has no `entry`.
 */
export interface FhirBundle {
  resourceType: 'Bundle';
  type: 'searchset';
  timestamp: string;
  total: number;
  entry?: { fullUrl: string; resource: FhirResource; search: { mode: 'match' } }[];
}

export function auditEventResource(entry: AuditDocument): FhirResource {
  return {
    resourceType: 'AuditEvent',
    id: entry.id,
    type: {
      system: 'http://terminology.hl7.org/CodeSystem/audit-event-type',
      code: 'rest',
      display: 'RESTful Operation',
    },
    subtype: [{ system: 'urn:custos:action', code: entry.action }],
    action: entry.action === 'read' || entry.action === 'export' ? 'R' : 'E',
    recorded: entry.occurredAt,
    // 0 success, 4 minor failure: a refused request is a denial, not an error.
    outcome: entry.outcome === 'allowed' ? '0' : '4',
    outcomeDesc: entry.reason,
    ...(entry.purpose ? { purposeOfEvent: [{ text: entry.purpose }] } : {}),
    agent: [
      {
        who: entry.actor === 'anonymous' ? { display: 'anonymous' } : identifier(entry.actor),
        requestor: true,
      },
    ],
    source: { observer: { display: 'Custos' } },
    entity: [
      { what: { identifier: { system: 'urn:custos:resource', value: entry.resource } } },
      ...(entry.patient
        ? [{ what: identifier(entry.patient), role: { code: '1', display: 'Patient' } }]
        : []),
    ],
    extension: [{ url: 'urn:custos:audit-sequence', valueInteger: entry.sequence }],
  };
}

/**
 * One consent document as an R4 Consent: the patient permits the provider to access one category, from
 * the grant until its expiry or its revocation, whichever came first. Active or inactive is decided at
 * `now`, the time of the request: a grant expires without any event.
 */
export function consentResource(consent: ConsentDocument, now: Date): FhirResource {
  const active = consent.status === 'granted' && consent.expiresAt > unixSeconds(now);
  const expiresAt = new Date(consent.expiresAt * 1000).toISOString();
  const end =
    consent.revokedAt !== null && Date.parse(consent.revokedAt) < consent.expiresAt * 1000
      ? consent.revokedAt
      : expiresAt;
  const patient = { type: 'Patient', ...identifier(consent.patient) };
  return {
    resourceType: 'Consent',
    // One document per (patient, provider, category), so one stable id per triple.
    id: nameBasedUuid(`consent:${consent.id}`),
    ...(consent.grantTxHash
      ? { identifier: [{ system: GRANT_TRANSACTION_SYSTEM, value: consent.grantTxHash }] }
      : {}),
    status: active ? 'active' : 'inactive',
    scope: {
      coding: [
        coding('http://terminology.hl7.org/CodeSystem/consentscope', 'patient-privacy', 'Privacy Consent'),
      ],
    },
    category: [{ coding: [coding('http://loinc.org', '59284-0', 'Patient Consent')] }],
    patient,
    dateTime: consent.grantedAt,
    performer: [patient],
    policyRule: { coding: [coding('http://terminology.hl7.org/CodeSystem/v3-ActCode', 'OPTIN', 'opt-in')] },
    provision: {
      type: 'permit',
      period: { start: consent.grantedAt, end },
      actor: [
        {
          role: {
            coding: [
              coding(
                'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
                'IRCP',
                'information recipient',
              ),
            ],
          },
          reference: identifier(consent.provider),
        },
      ],
      action: [
        { coding: [coding('http://terminology.hl7.org/CodeSystem/consentaction', 'access', 'Access')] },
      ],
      code: [{ coding: [coding(CATEGORY_SYSTEM, consent.category)] }],
    },
  };
}

/** A searchset Bundle of everything an export matched, stamped with the time of the request. */
export function bundle(resources: readonly FhirResource[], now: Date): FhirBundle {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    timestamp: now.toISOString(),
    total: resources.length,
    ...(resources.length > 0
      ? {
          entry: resources.map((resource) => ({
            fullUrl: `urn:uuid:${resource.id}`,
            resource,
            search: { mode: 'match' as const },
          })),
        }
      : {}),
  };
}

const CSV_COLUMNS = [
  'sequence',
  'occurredAt',
  'actor',
  'patient',
  'resource',
  'action',
  'purpose',
  'outcome',
  'reason',
] as const;

/** RFC 4180 CSV; cells that a spreadsheet would run as a formula are prefixed with a quote. */
export function auditCsv(entries: readonly AuditDocument[]): string {
  const cell = (value: unknown) => {
    let text = value === null || value === undefined ? '' : String(value);
    if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const lines = [CSV_COLUMNS.join(','), ...entries.map((e) => CSV_COLUMNS.map((c) => cell(e[c])).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}
