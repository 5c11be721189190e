import { Inject, Injectable } from '@nestjs/common';
import { forbidden, unixSeconds } from '@custos/domain';
import { AuditRecorder } from '../audit/audit-recorder';
import { isConsentActive } from '../consent/consent.queries';
import type { CommandContext } from '../core/aggregate-repository';
import { findAll } from '../core/find-all';
import {
  type ConsentDocument,
  consentId,
  type DirectoryDocument,
  type EmergencyWindowDocument,
} from '../projections/read-models';
import type { ReadModelStore } from '../read-models/read-model.port';
import { READ_MODEL_STORE } from '../read-models/read-models.module';

/** Why a reader may read a patient's records: their own, an active grant, or an open emergency window. */
export type RecordAccessBasis = 'owner' | 'consent' | 'emergency';

export type RecordAccessDecision = { basis: RecordAccessBasis } | { basis: null; reason: string };

/** Why a reader may not read a category now, in words the reader can act on (no health data). */
function refusalReason(
  category: string,
  consent: ConsentDocument | null,
  directory: DirectoryDocument | null,
  window: EmergencyWindowDocument | null,
  now: number,
): string {
  const grant = !consent
    ? `the patient has given you no grant for ${category}`
    : consent.status === 'revoked'
      ? `the patient revoked your grant for ${category}`
      : consent.expiresAt <= now
        ? `your grant for ${category} expired at ${new Date(consent.expiresAt * 1000).toISOString()}`
        : `you no longer hold the provider role`;
  const emergency =
    directory?.isEmergency !== true
      ? ''
      : window === null || window.endedAt !== null || window.expiresAt <= now
        ? ', and no emergency window of yours is open for this patient'
        : '';
  return `no access to this patient's ${category} records: ${grant}${emergency}`;
}

/** What a reader may read of one patient now: every category, or the listed ones. */
export interface ReadableCategories {
  basis: RecordAccessBasis | null;
  all: boolean;
  categories: ReadonlySet<string>;
}

const PURPOSE = 'health record access';

/** The act in the audit trail: whose records, which resource, what was done (never the content). */
export interface AuditGate {
  patient: string | null;
  resource: string;
  action: string;
}

/** True while an emergency window opened by this account for this patient is open at `now` (seconds). */
export function isEmergencyWindowOpen(
  window: Pick<EmergencyWindowDocument, 'endedAt' | 'expiresAt'> | null,
  directory: Pick<DirectoryDocument, 'isEmergency'> | null,
  now: number,
): boolean {
  return (
    window !== null && window.endedAt === null && window.expiresAt > now && directory?.isEmergency === true
  );
}

/**
 * THE RECORD ACCESS RULE. A record's ciphertext, metadata and wrapped key are released to:
 * the patient it belongs to; a provider while the consent projection shows the patient's grant for
 * the record's category active at this second (granted, not revoked, `expiresAt` after now, the
 * provider role still held); an emergency staff member while their break-glass window for the
 * patient is open (every category, as on-chain). Others are refused with 403 and the reason. Every
 * decision, allowed or denied, is an `AccessAudited` event appended before the answer, so each
 * release is in the next anchored Merkle root.
 */
@Injectable()
export class RecordAccess {
  constructor(
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
    private readonly audit: AuditRecorder,
  ) {}

  /** The basis on which `reader` may read `patient`'s records of `category` at `now`, or why not. */
  async decide(reader: string, patient: string, category: string, now: Date): Promise<RecordAccessDecision> {
    if (reader === patient) return { basis: 'owner' };
    const seconds = unixSeconds(now);
    const [directory, consent, window] = await Promise.all([
      this.readModels.get<DirectoryDocument>('directory', reader),
      this.readModels.get<ConsentDocument>('consents', consentId(patient, reader, category)),
      this.readModels.get<EmergencyWindowDocument>('emergency_windows', `${patient}|${reader}`),
    ]);
    if (isConsentActive(consent, directory, seconds)) return { basis: 'consent' };
    if (isEmergencyWindowOpen(window, directory, seconds)) return { basis: 'emergency' };
    return { basis: null, reason: refusalReason(category, consent, directory, window, seconds) };
  }

  /** The categories of `patient` that `reader` may read at `now`. */
  async readable(reader: string, patient: string, now: Date): Promise<ReadableCategories> {
    if (reader === patient) return { basis: 'owner', all: true, categories: new Set() };
    const seconds = unixSeconds(now);
    const [directory, window] = await Promise.all([
      this.readModels.get<DirectoryDocument>('directory', reader),
      this.readModels.get<EmergencyWindowDocument>('emergency_windows', `${patient}|${reader}`),
    ]);
    if (isEmergencyWindowOpen(window, directory, seconds)) {
      return { basis: 'emergency', all: true, categories: new Set() };
    }
    const consents = await findAll<ConsentDocument>(this.readModels, 'consents', {
      where: { patient, provider: reader, status: 'granted' },
    });
    const categories = new Set(
      consents.filter((c) => isConsentActive(c, directory, seconds)).map((c) => c.category),
    );
    return { basis: categories.size > 0 ? 'consent' : null, all: false, categories };
  }

  /** Audits the refusal and throws 403 `no_record_access` with the reason. */
  async refuse(context: CommandContext, gate: AuditGate, reason: string): Promise<never> {
    await this.deny(context, gate, reason);
    throw forbidden('no_record_access', reason);
  }

  allow(context: CommandContext, gate: AuditGate, basis: RecordAccessBasis): Promise<number> {
    const reason =
      basis === 'owner'
        ? "the patient's own record"
        : basis === 'consent'
          ? "the patient's grant for the category is active"
          : 'an emergency access window is open';
    return this.audit.record(
      { ...gate, actor: context.actor, purpose: PURPOSE, outcome: 'allowed', reason },
      context,
    );
  }

  deny(context: CommandContext, gate: AuditGate, reason: string): Promise<number> {
    return this.audit.record(
      { ...gate, actor: context.actor, purpose: PURPOSE, outcome: 'denied', reason },
      context,
    );
  }
}
