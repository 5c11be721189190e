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

/**
 * A labelled line of a known resource type (or several with one label, e.g. one per attachment), and
 * the elements it shows: those are left out of "other details".
 */
interface FieldSpec {
  readonly lines: (resource: Json) => readonly (readonly [string, string])[];
  readonly shows: (resource: Json) => readonly string[];
}

/** How a known resource type is shown: its heading, then its fields in order (empty ones left out). */
interface ResourceSpec {
  readonly heading: (resource: Json) => string;
  readonly fields: readonly FieldSpec[];
}

const KNOWN_RESOURCES: Readonly<Record<string, ResourceSpec>> = {
  Observation: {
    heading: (r) => `Observation: ${concept(r['code']) || 'untitled'}`,
    fields: [
      field('Test', 'code', concept),
      derived('Value', observationValue, ['value[x]', 'dataAbsentReason']),
      each('component', (c) => [concept(c['code']) || 'Component', observationValue(c)]),
      field('When', 'effective[x]'),
      field('Normal range', 'referenceRange', referenceRange),
      field('Interpretation', 'interpretation', concepts),
      field('Status', 'status'),
      field('Category', 'category', concepts),
      field('Performed by', 'performer', references),
      field('Note', 'note', notes),
    ],
  },
  DocumentReference: {
    heading: (r) => `Document: ${text(r['description']) || concept(r['type']) || 'untitled'}`,
    fields: [
      field('Description', 'description'),
      field('Type', 'type', concept),
      field('Category', 'category', concepts),
      field('Date', 'date', date),
      field('Author', 'author', references),
      field('Custodian', 'custodian', reference),
      derived('Status', (r) => [text(r['status']), text(r['docStatus'])].filter(Boolean).join(', '), [
        'status',
        'docStatus',
      ]),
      each('content', (c) => ['Attachment', attachment(c['attachment'])]),
    ],
  },
  Condition: {
    heading: (r) => `Condition: ${concept(r['code']) || 'untitled'}`,
    fields: [
      field('Condition', 'code', concept),
      field('Clinical status', 'clinicalStatus', concept),
      field('Verification', 'verificationStatus', concept),
      field('Category', 'category', concepts),
      field('Severity', 'severity', concept),
      field('Body site', 'bodySite', concepts),
      field('Onset', 'onset[x]'),
      field('Resolved', 'abatement[x]'),
      field('Recorded', 'recordedDate', date),
      field('Note', 'note', notes),
    ],
  },
  MedicationStatement: {
    heading: (r) => `Medication: ${medication(r) || 'untitled'}`,
    fields: [
      derived('Medication', medication, ['medication[x]']),
      field('Status', 'status'),
      field('Dosage', 'dosage', dosages),
      field('Taken', 'effective[x]'),
      field('Reason', 'reasonCode', concepts),
      field('Recorded', 'dateAsserted', date),
      field('Note', 'note', notes),
    ],
  },
  MedicationRequest: {
    heading: (r) => `Prescription: ${medication(r) || 'untitled'}`,
    fields: [
      derived('Medication', medication, ['medication[x]']),
      field('Status', 'status'),
      field('Intent', 'intent'),
      field('Dosage', 'dosageInstruction', dosages),
      field('Prescribed on', 'authoredOn', date),
      field('Prescribed by', 'requester', reference),
      field('Reason', 'reasonCode', concepts),
      field('Dispense', 'dispenseRequest', dispense),
      field('Note', 'note', notes),
    ],
  },
  AllergyIntolerance: {
    heading: (r) => `Allergy: ${concept(r['code']) || 'untitled'}`,
    fields: [
      field('Substance', 'code', concept),
      field('Clinical status', 'clinicalStatus', concept),
      field('Verification', 'verificationStatus', concept),
      field('Type', 'type'),
      field('Category', 'category', listOf(text, ', ')),
      field('Criticality', 'criticality'),
      each('reaction', (reaction) => ['Reaction', allergyReaction(reaction)]),
      field('Onset', 'onset[x]'),
      field('Recorded', 'recordedDate', date),
      field('Note', 'note', notes),
    ],
  },
  Patient: {
    heading: (r) => `Patient: ${asArray(r['name']).map(humanName).filter(Boolean)[0] ?? 'unnamed'}`,
    fields: [
      field('Name', 'name', listOf(humanName)),
      field('Gender', 'gender'),
      field('Born', 'birthDate', date),
      field('Identifier', 'identifier', listOf(identifier)),
      field('Contact', 'telecom', listOf(contactPoint)),
      field('Address', 'address', listOf(address)),
      field('Marital status', 'maritalStatus', concept),
      field('Deceased', 'deceased[x]'),
    ],
  },
};

/** The element `element` as text (`format`); `<name>[x]`: a choice element, whichever type it has. */
function field(label: string, element: string, format: (value: unknown) => string = text): FieldSpec {
  const prefix = choicePrefix(element);
  return prefix === null
    ? { lines: (r) => [[label, format(r[element])]], shows: () => [element] }
    : { lines: (r) => [[label, choice(r, prefix)]], shows: (r) => prefixed(r, prefix) };
}

/** A line worked out from the whole resource, showing `elements` (`<name>[x]` as in `field`). */
function derived(label: string, show: (resource: Json) => string, elements: readonly string[]): FieldSpec {
  return {
    lines: (r) => [[label, show(r)]],
    shows: (r) =>
      elements.flatMap((element) => {
        const prefix = choicePrefix(element);
        return prefix === null ? [element] : prefixed(r, prefix);
      }),
  };
}

/** One line per object of the list `element` (e.g. each attachment), labelled by `line`. */
function each(element: string, line: (item: Json) => readonly [string, string]): FieldSpec {
  return { lines: (r) => asArray(r[element]).filter(isObject).map(line), shows: () => [element] };
}

/** `onset` for `onset[x]`, else null. */
function choicePrefix(element: string): string | null {
  return element.endsWith('[x]') ? element.slice(0, -'[x]'.length) : null;
}

/** Not shown among "other details": bookkeeping, and the narrative (XHTML we never render). */
const HIDDEN = new Set(['resourceType', 'id', 'meta', 'text']);

function summarizeResource(resource: Json): FhirSection {
  const resourceType = String(resource['resourceType'] ?? 'Resource');
  const spec = Object.hasOwn(KNOWN_RESOURCES, resourceType) ? KNOWN_RESOURCES[resourceType] : undefined;
  if (!spec) {
    const { resourceType: _type, ...rest } = resource;
    return treeSection(resourceType, resourceType, rest);
  }
  const shown = spec.fields
    .flatMap((f) => f.lines(resource))
    .filter(([, value]) => value !== '')
    .map(([label, value]) => ({ label, value }));
  const used = new Set(spec.fields.flatMap((f) => f.shows(resource)));
  const rest = Object.fromEntries(
    Object.entries(resource).filter(([key]) => !used.has(key) && !HIDDEN.has(key)),
  );
  return { kind: 'fields', resourceType, heading: spec.heading(resource), fields: shown, rest: toTree(rest) };
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

/** A list's items as text, the empty ones left out. */
function listOf(format: (value: unknown) => string, separator = '; '): (value: unknown) => string {
  return (value) => asArray(value).map(format).filter(Boolean).join(separator);
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
