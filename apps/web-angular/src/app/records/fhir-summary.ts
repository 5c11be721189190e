import { formatDateTime } from '../shared/time-left';

/**
 * A FHIR R4 resource (or Bundle) turned into plain labelled text for display: nothing here is HTML,
 * and the templates only interpolate it (Angular escapes text), so a `<script>` in a field shows as
 * the characters it is.
 *
 * Known resource types become labelled fields (Observation, DocumentReference, Condition,
 * MedicationStatement, MedicationRequest, AllergyIntolerance, Patient); the Observations of a Bundle
 * become one table (test, value and unit, when, normal range); anything else is a key/value tree.
 */

/** One labelled line. */
export interface FhirField {
  readonly label: string;
  readonly value: string;
}

/** One line of an observations table (a component of a panel gets its own line). */
export interface ObservationRow {
  readonly test: string;
  readonly value: string;
  readonly effective: string;
  readonly range: string;
  readonly interpretation: string;
}

/** A key and either a text value or children. */
export interface FhirTreeNode {
  readonly key: string;
  readonly value?: string;
  readonly children?: readonly FhirTreeNode[];
}

export type FhirSection =
  | {
      readonly kind: 'fields';
      readonly resourceType: string;
      readonly heading: string;
      readonly fields: readonly FhirField[];
      /** Fields not shown above, as a tree (empty when none). */
      readonly rest: readonly FhirTreeNode[];
    }
  | { readonly kind: 'observations'; readonly heading: string; readonly rows: readonly ObservationRow[] }
  | {
      readonly kind: 'tree';
      readonly resourceType: string;
      readonly heading: string;
      readonly tree: readonly FhirTreeNode[];
    };

type Json = Record<string, unknown>;

/** Tree nodes shown at most per resource (a huge resource would freeze the page). */
const MAX_TREE_NODES = 2000;
const MAX_TREE_DEPTH = 12;
/** Bundle entries shown at most. */
const MAX_BUNDLE_ENTRIES = 500;

/** Why text is not a FHIR resource, or null when it is one (JSON object with a `resourceType`). */
export function fhirProblem(text: string): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'This is not valid JSON.';
  }
  if (!isObject(parsed)) return 'A FHIR resource is a JSON object.';
  const type = parsed['resourceType'];
  if (typeof type !== 'string' || !/^[A-Z][A-Za-z]{1,63}$/.test(type)) {
    return 'This JSON has no "resourceType", so it is not a FHIR resource.';
  }
  return null;
}

/** The sections that show `resource`; a Bundle's Observations come first, as one table. */
export function summarizeFhir(resource: unknown): FhirSection[] {
  if (!isObject(resource)) return [treeSection('Value', 'Content', resource)];
  if (resource['resourceType'] === 'Bundle') return summarizeBundle(resource);
  return [summarizeResource(resource)];
}

function summarizeBundle(bundle: Json): FhirSection[] {
  const resources = asArray(bundle['entry'])
    .slice(0, MAX_BUNDLE_ENTRIES)
    .map((entry) => (isObject(entry) ? entry['resource'] : undefined))
    .filter(isObject);
  const observations = resources.filter((r) => r['resourceType'] === 'Observation');
  const sections: FhirSection[] = [];
  if (observations.length > 0) {
    sections.push({
      kind: 'observations',
      heading: `Observations (${observations.length})`,
      rows: observations.flatMap(observationRows),
    });
  }
  for (const resource of resources) {
    if (resource['resourceType'] === 'Observation') continue;
    if (resource['resourceType'] === 'Bundle') sections.push(...summarizeBundle(resource));
    else sections.push(summarizeResource(resource));
  }
  if (sections.length === 0) {
    const { entry: _entries, ...rest } = bundle;
    sections.push(treeSection('Bundle', `Bundle (${text(bundle['type']) || 'empty'})`, rest));
  }
  return sections;
}

type Extractor = (resource: Json) => { heading: string; fields: FhirField[]; used: readonly string[] };

const EXTRACTORS: Readonly<Record<string, Extractor>> = {
  Observation: (r) => ({
    heading: `Observation: ${concept(r['code']) || 'untitled'}`,
    fields: fields([
      ['Test', concept(r['code'])],
      ['Value', observationValue(r)],
      ...asArray(r['component'])
        .filter(isObject)
        .map((c): [string, string] => [concept(c['code']) || 'Component', observationValue(c)]),
      ['When', effective(r)],
      ['Normal range', referenceRange(r['referenceRange'])],
      ['Interpretation', concepts(r['interpretation'])],
      ['Status', text(r['status'])],
      ['Category', concepts(r['category'])],
      ['Performed by', references(r['performer'])],
      ['Note', notes(r['note'])],
    ]),
    used: [
      'code',
      'component',
      'referenceRange',
      'interpretation',
      'status',
      'category',
      'performer',
      'note',
      ...valueKeys(r),
      ...prefixed(r, 'effective'),
    ],
  }),
  DocumentReference: (r) => ({
    heading: `Document: ${text(r['description']) || concept(r['type']) || 'untitled'}`,
    fields: fields([
      ['Description', text(r['description'])],
      ['Type', concept(r['type'])],
      ['Category', concepts(r['category'])],
      ['Date', date(r['date'])],
      ['Author', references(r['author'])],
      ['Custodian', reference(r['custodian'])],
      ['Status', [text(r['status']), text(r['docStatus'])].filter(Boolean).join(', ')],
      ...asArray(r['content'])
        .filter(isObject)
        .map((c): [string, string] => ['Attachment', attachment(c['attachment'])]),
    ]),
    used: [
      'description',
      'type',
      'category',
      'date',
      'author',
      'custodian',
      'status',
      'docStatus',
      'content',
    ],
  }),
  Condition: (r) => ({
    heading: `Condition: ${concept(r['code']) || 'untitled'}`,
    fields: fields([
      ['Condition', concept(r['code'])],
      ['Clinical status', concept(r['clinicalStatus'])],
      ['Verification', concept(r['verificationStatus'])],
      ['Category', concepts(r['category'])],
      ['Severity', concept(r['severity'])],
      ['Body site', concepts(r['bodySite'])],
      ['Onset', choice(r, 'onset')],
      ['Resolved', choice(r, 'abatement')],
      ['Recorded', date(r['recordedDate'])],
      ['Note', notes(r['note'])],
    ]),
    used: [
      'code',
      'clinicalStatus',
      'verificationStatus',
      'category',
      'severity',
      'bodySite',
      'recordedDate',
      'note',
      ...prefixed(r, 'onset'),
      ...prefixed(r, 'abatement'),
    ],
  }),
  MedicationStatement: (r) => ({
    heading: `Medication: ${medication(r) || 'untitled'}`,
    fields: fields([
      ['Medication', medication(r)],
      ['Status', text(r['status'])],
      ['Dosage', dosages(r['dosage'])],
      ['Taken', effective(r)],
      ['Reason', concepts(r['reasonCode'])],
      ['Recorded', date(r['dateAsserted'])],
      ['Note', notes(r['note'])],
    ]),
    used: [
      'status',
      'dosage',
      'reasonCode',
      'dateAsserted',
      'note',
      ...prefixed(r, 'medication'),
      ...prefixed(r, 'effective'),
    ],
  }),
  MedicationRequest: (r) => ({
    heading: `Prescription: ${medication(r) || 'untitled'}`,
    fields: fields([
      ['Medication', medication(r)],
      ['Status', text(r['status'])],
      ['Intent', text(r['intent'])],
      ['Dosage', dosages(r['dosageInstruction'])],
      ['Prescribed on', date(r['authoredOn'])],
      ['Prescribed by', reference(r['requester'])],
      ['Reason', concepts(r['reasonCode'])],
      ['Dispense', dispense(r['dispenseRequest'])],
      ['Note', notes(r['note'])],
    ]),
    used: [
      'status',
      'intent',
      'dosageInstruction',
      'authoredOn',
      'requester',
      'reasonCode',
      'dispenseRequest',
      'note',
      ...prefixed(r, 'medication'),
    ],
  }),
  AllergyIntolerance: (r) => ({
    heading: `Allergy: ${concept(r['code']) || 'untitled'}`,
    fields: fields([
      ['Substance', concept(r['code'])],
      ['Clinical status', concept(r['clinicalStatus'])],
      ['Verification', concept(r['verificationStatus'])],
      ['Type', text(r['type'])],
      ['Category', asArray(r['category']).map(text).filter(Boolean).join(', ')],
      ['Criticality', text(r['criticality'])],
      ...asArray(r['reaction'])
        .filter(isObject)
        .map((reaction): [string, string] => ['Reaction', allergyReaction(reaction)]),
      ['Onset', choice(r, 'onset')],
      ['Recorded', date(r['recordedDate'])],
      ['Note', notes(r['note'])],
    ]),
    used: [
      'code',
      'clinicalStatus',
      'verificationStatus',
      'type',
      'category',
      'criticality',
      'reaction',
      'recordedDate',
      'note',
      ...prefixed(r, 'onset'),
    ],
  }),
  Patient: (r) => ({
    heading: `Patient: ${asArray(r['name']).map(humanName).filter(Boolean)[0] ?? 'unnamed'}`,
    fields: fields([
      ['Name', asArray(r['name']).map(humanName).filter(Boolean).join('; ')],
      ['Gender', text(r['gender'])],
      ['Born', date(r['birthDate'])],
      ['Identifier', asArray(r['identifier']).map(identifier).filter(Boolean).join('; ')],
      ['Contact', asArray(r['telecom']).map(contactPoint).filter(Boolean).join('; ')],
      ['Address', asArray(r['address']).map(address).filter(Boolean).join('; ')],
      ['Marital status', concept(r['maritalStatus'])],
      ['Deceased', choice(r, 'deceased')],
    ]),
    used: [
      'name',
      'gender',
      'birthDate',
      'identifier',
      'telecom',
      'address',
      'maritalStatus',
      ...prefixed(r, 'deceased'),
    ],
  }),
};

/** Not shown among "other details": bookkeeping, and the narrative (XHTML we never render). */
const HIDDEN = new Set(['resourceType', 'id', 'meta', 'text']);

function summarizeResource(resource: Json): FhirSection {
  const resourceType = String(resource['resourceType'] ?? 'Resource');
  const extract = Object.hasOwn(EXTRACTORS, resourceType) ? EXTRACTORS[resourceType] : undefined;
  if (!extract) {
    const { resourceType: _type, ...rest } = resource;
    return treeSection(resourceType, resourceType, rest);
  }
  const { heading, fields: shown, used } = extract(resource);
  const usedKeys = new Set(used);
  const rest = Object.fromEntries(
    Object.entries(resource).filter(([key]) => !usedKeys.has(key) && !HIDDEN.has(key)),
  );
  return { kind: 'fields', resourceType, heading, fields: shown, rest: toTree(rest) };
}

function treeSection(resourceType: string, heading: string, value: unknown): FhirSection {
  return { kind: 'tree', resourceType, heading, tree: toTree(value) };
}

/** Any JSON as a key/value tree (arrays numbered from 1), bounded in size and depth. */
export function toTree(value: unknown): FhirTreeNode[] {
  const budget = { left: MAX_TREE_NODES };
  const root = isObject(value) || Array.isArray(value) ? value : { value };
  return children(root, 0, budget);
}

function children(value: Json | unknown[], depth: number, budget: { left: number }): FhirTreeNode[] {
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.map((item, i) => [String(i + 1), item])
    : Object.entries(value);
  const nodes: FhirTreeNode[] = [];
  for (const [key, item] of entries) {
    if (budget.left-- <= 0) {
      nodes.push({ key: '…', value: 'more not shown' });
      break;
    }
    if ((isObject(item) || Array.isArray(item)) && depth < MAX_TREE_DEPTH) {
      nodes.push({ key, children: children(item, depth + 1, budget) });
    } else {
      nodes.push({ key, value: isObject(item) || Array.isArray(item) ? JSON.stringify(item) : scalar(item) });
    }
  }
  return nodes;
}

// --------------------------------------------------------------------------------- observations

function observationRows(observation: Json): ObservationRow[] {
  const test = concept(observation['code']) || 'Observation';
  const when = effective(observation);
  const interpretation = concepts(observation['interpretation']);
  const components = asArray(observation['component']).filter(isObject);
  const own = observationValue(observation);
  const rows: ObservationRow[] = [];
  if (own || components.length === 0) {
    rows.push({
      test,
      value: own,
      effective: when,
      range: referenceRange(observation['referenceRange']),
      interpretation,
    });
  }
  for (const component of components) {
    rows.push({
      test: `${test}: ${concept(component['code']) || 'component'}`,
      value: observationValue(component),
      effective: when,
      range: referenceRange(component['referenceRange']),
      interpretation: concepts(component['interpretation']) || interpretation,
    });
  }
  return rows;
}

/** `value[x]` of an Observation or a component, or why it is absent. */
function observationValue(resource: Json): string {
  const quantityValue = resource['valueQuantity'];
  if (quantityValue !== undefined) return quantity(quantityValue);
  if (resource['valueCodeableConcept'] !== undefined) return concept(resource['valueCodeableConcept']);
  if (resource['valueString'] !== undefined) return text(resource['valueString']);
  if (typeof resource['valueBoolean'] === 'boolean') return resource['valueBoolean'] ? 'Yes' : 'No';
  if (resource['valueInteger'] !== undefined) return scalar(resource['valueInteger']);
  if (resource['valueRange'] !== undefined) return range(resource['valueRange']);
  if (isObject(resource['valueRatio'])) {
    const ratio = resource['valueRatio'];
    return `${quantity(ratio['numerator'])} / ${quantity(ratio['denominator'])}`;
  }
  if (resource['valuePeriod'] !== undefined) return period(resource['valuePeriod']);
  for (const key of ['valueDateTime', 'valueTime']) {
    if (resource[key] !== undefined) return date(resource[key]);
  }
  const absent = concept(resource['dataAbsentReason']);
  return absent ? `Not available (${absent})` : '';
}

function valueKeys(resource: Json): string[] {
  return [...prefixed(resource, 'value'), 'dataAbsentReason'];
}

function referenceRange(value: unknown): string {
  return asArray(value)
    .filter(isObject)
    .map((r) => {
      const bounds = range(r);
      const label = text(r['text']);
      return [bounds, label && label !== bounds ? label : ''].filter(Boolean).join(' ');
    })
    .filter(Boolean)
    .join('; ');
}

// --------------------------------------------------------------------------------- data types

function fields(pairs: readonly (readonly [string, string])[]): FhirField[] {
  return pairs.filter(([, value]) => value !== '').map(([label, value]) => ({ label, value }));
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** Keys of `resource` that are a choice type `<prefix>[x]` (e.g. `effectiveDateTime`). */
function prefixed(resource: Json, prefix: string): string[] {
  return Object.keys(resource).filter(
    (key) => key.startsWith(prefix) && /^[A-Z]/.test(key.slice(prefix.length)),
  );
}

function scalar(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

/** A CodeableConcept (or a Coding) as its text, else its codings' display (else code). */
function concept(value: unknown): string {
  if (!isObject(value)) return text(value);
  if (typeof value['text'] === 'string' && value['text']) return value['text'];
  const codings = isObject(value) && 'coding' in value ? asArray(value['coding']) : [value];
  const names = codings
    .filter(isObject)
    .map((c) => text(c['display']) || text(c['code']))
    .filter(Boolean);
  return [...new Set(names)].join(', ');
}

function concepts(value: unknown): string {
  return asArray(value).map(concept).filter(Boolean).join(', ');
}

function quantity(value: unknown): string {
  if (!isObject(value)) return scalar(value);
  const amount = scalar(value['value']);
  const unit = text(value['unit']) || text(value['code']);
  return [text(value['comparator']) + amount, unit].filter(Boolean).join(' ');
}

function range(value: unknown): string {
  if (!isObject(value)) return '';
  const low = isObject(value['low']) ? quantity(value['low']) : '';
  const high = isObject(value['high']) ? quantity(value['high']) : '';
  if (low && high) {
    const lowUnit = isObject(value['low']) ? text(value['low']['unit']) : '';
    const highUnit = isObject(value['high']) ? text(value['high']['unit']) : '';
    // "70–99 mg/dL" rather than "70 mg/dL–99 mg/dL" when both ends share the unit.
    if (lowUnit && lowUnit === highUnit) return `${low.slice(0, -lowUnit.length).trim()}–${high}`;
    return `${low}–${high}`;
  }
  if (low) return `≥ ${low}`;
  if (high) return `≤ ${high}`;
  return '';
}

/** A FHIR date or dateTime: a full moment in the reader's locale, a partial date (`2024-05`) as is. */
function date(value: unknown): string {
  const raw = text(value);
  return /T\d{2}:\d{2}/.test(raw) ? formatDateTime(raw) : raw;
}

function period(value: unknown): string {
  if (!isObject(value)) return '';
  const start = date(value['start']);
  const end = date(value['end']);
  if (start && end) return `${start} to ${end}`;
  return start ? `from ${start}` : end ? `until ${end}` : '';
}

/** `effective[x]` (dateTime, instant, period). */
function effective(resource: Json): string {
  return choice(resource, 'effective');
}

/** A choice-type element `<prefix>[x]` in words, whichever type it is. */
function choice(resource: Json, prefix: string): string {
  for (const key of prefixed(resource, prefix)) {
    const type = key.slice(prefix.length);
    const value = resource[key];
    switch (type) {
      case 'DateTime':
      case 'Instant':
      case 'Date':
        return date(value);
      case 'Period':
        return period(value);
      case 'Age':
      case 'Quantity':
        return quantity(value);
      case 'Range':
        return range(value);
      case 'Boolean':
        return value === true ? 'Yes' : value === false ? 'No' : '';
      case 'CodeableConcept':
        return concept(value);
      case 'Reference':
        return reference(value);
      default:
        return isObject(value) ? JSON.stringify(value) : scalar(value);
    }
  }
  return '';
}

function reference(value: unknown): string {
  if (!isObject(value)) return '';
  return text(value['display']) || text(value['reference']) || concept(value['identifier']);
}

function references(value: unknown): string {
  return asArray(value)
    .map((v) => (isObject(v) && isObject(v['actor']) ? reference(v['actor']) : reference(v)))
    .filter(Boolean)
    .join(', ');
}

function notes(value: unknown): string {
  return asArray(value)
    .filter(isObject)
    .map((n) => text(n['text']))
    .filter(Boolean)
    .join('\n');
}

function medication(resource: Json): string {
  return concept(resource['medicationCodeableConcept']) || reference(resource['medicationReference']);
}

function dosages(value: unknown): string {
  return asArray(value)
    .filter(isObject)
    .map((d) => {
      if (text(d['text'])) return text(d['text']);
      const dose = asArray(d['doseAndRate'])
        .filter(isObject)
        .map((r) => quantity(r['doseQuantity']))
        .filter(Boolean)
        .join(', ');
      return [dose, concept(d['route']), text(d['patientInstruction'])].filter(Boolean).join(', ');
    })
    .filter(Boolean)
    .join('; ');
}

function dispense(value: unknown): string {
  if (!isObject(value)) return '';
  const amount = quantity(value['quantity']);
  const repeats = value['numberOfRepeatsAllowed'];
  return [amount, typeof repeats === 'number' ? `${repeats} repeat${repeats === 1 ? '' : 's'}` : '']
    .filter(Boolean)
    .join(', ');
}

function attachment(value: unknown): string {
  if (!isObject(value)) return '';
  const size = typeof value['size'] === 'number' ? `${value['size']} bytes` : '';
  const details = [text(value['contentType']), size].filter(Boolean).join(', ');
  const name = text(value['title']) || text(value['url']) || 'untitled';
  return details ? `${name} (${details})` : name;
}

function allergyReaction(reaction: Json): string {
  const manifestation = concepts(reaction['manifestation']);
  const severity = text(reaction['severity']);
  return [manifestation, severity ? `(${severity})` : ''].filter(Boolean).join(' ');
}

function humanName(value: unknown): string {
  if (!isObject(value)) return '';
  if (text(value['text'])) return text(value['text']);
  return [
    ...asArray(value['prefix']).map(text),
    ...asArray(value['given']).map(text),
    text(value['family']),
    ...asArray(value['suffix']).map(text),
  ]
    .filter(Boolean)
    .join(' ');
}

function identifier(value: unknown): string {
  if (!isObject(value)) return '';
  const kind = concept(value['type']);
  return [kind ? `${kind}:` : '', text(value['value'])].filter(Boolean).join(' ');
}

function contactPoint(value: unknown): string {
  if (!isObject(value)) return '';
  return [text(value['system']) ? `${text(value['system'])}:` : '', text(value['value'])]
    .filter(Boolean)
    .join(' ');
}

function address(value: unknown): string {
  if (!isObject(value)) return '';
  if (text(value['text'])) return text(value['text']);
  return [
    ...asArray(value['line']).map(text),
    [text(value['postalCode']), text(value['city'])].filter(Boolean).join(' '),
    text(value['state']),
    text(value['country']),
  ]
    .filter(Boolean)
    .join(', ');
}
