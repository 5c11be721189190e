import type { AuditDocument, ConsentDocument } from '../projections/read-models';

/**
 * FHIR R4 mappings for export. Wallet addresses are identifiers in the `urn:ethereum:` namespace
 * (CAIP-10 style); categories are Custos codes.
 */

const ETHEREUM = 'urn:ietf:rfc:3986';
const CATEGORY_SYSTEM = 'urn:custos:category';

const identifier = (address: string) => ({
  identifier: { system: ETHEREUM, value: `urn:ethereum:${address}` },
});

export interface FhirBundle {
  resourceType: 'Bundle';
  type: 'collection';
  timestamp: string;
  total: number;
  entry: { fullUrl: string; resource: Record<string, unknown> }[];
}

export function auditEventResource(entry: AuditDocument): Record<string, unknown> {
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

export function consentResource(consent: ConsentDocument, now: Date): Record<string, unknown> {
  const active = consent.status === 'granted' && consent.expiresAt * 1000 > now.getTime();
  return {
    resourceType: 'Consent',
    id: Buffer.from(consent.id).toString('base64url').slice(0, 64),
    status: active ? 'active' : 'inactive',
    scope: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }],
    },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }] }],
    patient: identifier(consent.patient),
    dateTime: consent.grantedAt,
    performer: [identifier(consent.patient)],
    provision: {
      type: 'permit',
      period: {
        start: consent.grantedAt,
        end: consent.revokedAt ?? new Date(consent.expiresAt * 1000).toISOString(),
      },
      actor: [
        {
          role: {
            coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PRCP' }],
          },
          reference: identifier(consent.provider),
        },
      ],
      class: [{ system: CATEGORY_SYSTEM, code: consent.category }],
    },
  };
}

export function bundle(resources: Record<string, unknown>[], now: Date): FhirBundle {
  return {
    resourceType: 'Bundle',
    type: 'collection',
    timestamp: now.toISOString(),
    total: resources.length,
    entry: resources.map((resource) => ({
      fullUrl: `urn:uuid:${String(resource.resourceType)}/${String(resource.id)}`,
      resource,
    })),
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
