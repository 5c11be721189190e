import { Inject, Injectable } from '@nestjs/common';
import { unixSeconds } from '@custos/domain';
import { isConsentActive } from '../consent/consent.queries';
import { type ConsentDocument, consentId, type DirectoryDocument } from '../projections/read-models';
import { READ_MODEL_STORE } from '../read-models/read-models.module';
import type { ReadModelStore } from '../read-models/read-model.port';

/** A grant for this category lets a provider consult about it; so does a grant for telehealth itself. */
export const TELEHEALTH_CATEGORY = 'telehealth';

/**
 * The consent gate of telehealth: whether the patient's grant to the provider is active at `now`, for
 * the consultation's category or for `telehealth`. Reads the consent projection (two or three O(1)
 * reads), never the chain; expiry is compared with `now`, not with when the projection was written.
 */
@Injectable()
export class TelehealthConsent {
  constructor(@Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore) {}

  /**
   * `providerRoles`: the provider's roles when the caller read them in this request already (the
   * RolesGuard does on every request), which spares a second read of the same directory document.
   */
  async isActive(
    patient: string,
    provider: string,
    category: string,
    now: Date,
    providerRoles?: readonly string[],
  ): Promise<boolean> {
    const directory: Pick<DirectoryDocument, 'isProvider'> | null = providerRoles
      ? { isProvider: providerRoles.includes('provider') }
      : await this.readModels.get<DirectoryDocument>('directory', provider);
    // Without the provider role nothing counts: no need to read the grants.
    if (directory?.isProvider !== true) return false;
    const seconds = unixSeconds(now);
    for (const granted of new Set([category, TELEHEALTH_CATEGORY])) {
      const consent = await this.readModels.get<ConsentDocument>(
        'consents',
        consentId(patient, provider, granted),
      );
      if (isConsentActive(consent, directory, seconds)) return true;
    }
    return false;
  }
}
