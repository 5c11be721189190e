import { type MessageKind, PROVIDER_ONLY_KINDS } from '@custos/domain/messaging';

/**
 * Structured medical messages (providers only): one simple form per kind. The filled-in fields are
 * serialised as JSON (`{ "format": "custos-medical/1", "kind", "fields" }`) and encrypted like any text;
 * after decryption they are shown as labelled lines. Only the kind travels in clear (the API needs it
 * for triage).
 */
export type StructuredKind = 'lab_result' | 'prescription' | 'referral' | 'care_plan' | 'imaging';

export interface FieldSpec {
  readonly name: string;
  readonly label: string;
  readonly type: 'text' | 'textarea' | 'select' | 'date';
  readonly required?: boolean;
  readonly options?: readonly string[];
}

export interface KindSpec {
  readonly kind: StructuredKind;
  /** What the kind is called, e.g. "Lab result". */
  readonly label: string;
  readonly fields: readonly FieldSpec[];
}

const NOTES: FieldSpec = { name: 'notes', label: 'Notes for the patient', type: 'textarea' };

const SPECS: Readonly<Record<StructuredKind, KindSpec>> = {
  lab_result: {
    kind: 'lab_result',
    label: 'Lab result',
    fields: [
      { name: 'test', label: 'Test', type: 'text', required: true },
      { name: 'result', label: 'Result', type: 'text', required: true },
      { name: 'unit', label: 'Unit', type: 'text' },
      { name: 'referenceRange', label: 'Normal range', type: 'text' },
      { name: 'flag', label: 'Interpretation', type: 'select', options: ['Normal', 'Abnormal', 'Critical'] },
      { name: 'collectedOn', label: 'Sample taken on', type: 'date' },
      NOTES,
    ],
  },
  prescription: {
    kind: 'prescription',
    label: 'Prescription',
    fields: [
      { name: 'medication', label: 'Medication', type: 'text', required: true },
      { name: 'dose', label: 'Dose', type: 'text', required: true },
      { name: 'frequency', label: 'How often', type: 'text', required: true },
      { name: 'duration', label: 'For how long', type: 'text' },
      { name: 'refills', label: 'Refills', type: 'text' },
      { name: 'instructions', label: 'Instructions', type: 'textarea' },
    ],
  },
  referral: {
    kind: 'referral',
    label: 'Referral',
    fields: [
      { name: 'to', label: 'Referred to', type: 'text', required: true },
      { name: 'specialty', label: 'Specialty', type: 'text' },
      { name: 'reason', label: 'Reason', type: 'textarea', required: true },
      { name: 'urgency', label: 'Urgency', type: 'select', options: ['Routine', 'Soon', 'Urgent'] },
      NOTES,
    ],
  },
  care_plan: {
    kind: 'care_plan',
    label: 'Care plan',
    fields: [
      { name: 'goal', label: 'Goal', type: 'text', required: true },
      { name: 'steps', label: 'Steps (one per line)', type: 'textarea', required: true },
      { name: 'followUp', label: 'Follow-up on', type: 'date' },
      NOTES,
    ],
  },
  imaging: {
    kind: 'imaging',
    label: 'Imaging report',
    fields: [
      { name: 'study', label: 'Study', type: 'text', required: true },
      { name: 'bodyPart', label: 'Body part', type: 'text' },
      { name: 'findings', label: 'Findings', type: 'textarea', required: true },
      { name: 'impression', label: 'Conclusion', type: 'textarea' },
      { name: 'performedOn', label: 'Performed on', type: 'date' },
    ],
  },
};

/** The structured kinds, in the domain's order. */
export const STRUCTURED_KINDS: readonly KindSpec[] = PROVIDER_ONLY_KINDS.map(
  (kind) => SPECS[kind as StructuredKind],
);

export function isStructuredKind(kind: string): kind is StructuredKind {
  return Object.hasOwn(SPECS, kind);
}

export function kindSpec(kind: StructuredKind): KindSpec {
  return SPECS[kind];
}

/** "Message", "Lab result", … */
export function kindLabel(kind: MessageKind): string {
  if (isStructuredKind(kind)) return SPECS[kind].label;
  return kind === 'attachment' ? 'Attachment' : 'Message';
}

const FORMAT = 'custos-medical/1';

/** The labels of required fields left empty. */
export function missingFields(kind: StructuredKind, values: Readonly<Record<string, string>>): string[] {
  return SPECS[kind].fields
    .filter((field) => field.required && !(values[field.name] ?? '').trim())
    .map((field) => field.label);
}

/** The content to encrypt for a structured message: the filled-in fields as JSON. */
export function serializeStructured(kind: StructuredKind, values: Readonly<Record<string, string>>): string {
  const fields: Record<string, string> = {};
  for (const field of SPECS[kind].fields) {
    const value = (values[field.name] ?? '').trim();
    if (value) fields[field.name] = value;
  }
  return JSON.stringify({ format: FORMAT, kind, fields });
}

export interface StructuredLine {
  readonly label: string;
  readonly value: string;
  /** Multi-line values (steps, findings) keep their line breaks. */
  readonly multiline: boolean;
}

/**
 * The decrypted content of a structured message as labelled lines, in the form's order (unknown fields
 * last), or null when it is not a structured message of this kind (then it is shown as plain text).
 */
export function readStructured(kind: MessageKind, content: string): StructuredLine[] | null {
  if (!isStructuredKind(kind)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const { format, fields } = parsed as { format?: unknown; fields?: unknown };
  if (format !== FORMAT || typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
    return null;
  }
  const values = fields as Record<string, unknown>;
  const lines: StructuredLine[] = [];
  const known = new Set<string>();
  for (const field of SPECS[kind].fields) {
    known.add(field.name);
    const value = values[field.name];
    if (typeof value === 'string' && value) {
      lines.push({ label: field.label, value, multiline: field.type === 'textarea' });
    }
  }
  for (const [name, value] of Object.entries(values)) {
    if (!known.has(name) && typeof value === 'string' && value) {
      lines.push({ label: name, value, multiline: value.includes('\n') });
    }
  }
  return lines;
}
