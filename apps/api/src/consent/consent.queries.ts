import { Inject } from '@nestjs/common';
import { type IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { unixSeconds } from '@custos/domain';
import { bundle, consentResource, type FhirBundle } from '../audit/fhir';
import { findAll } from '../core/find-all';
import { READ_MODEL_STORE } from '../read-models/read-models.module';
import type { Page, ReadModelStore } from '../read-models/read-model.port';
import type { ConsentDocument, ConsentRequestDocument, DirectoryDocument } from '../projections/read-models';

export interface ConsentView {
  provider: string;
  providerName: string | null;
  providerSpecialty: string | null;
  category: string;
  /** Unix seconds. */
  expiresAt: number;
  status: 'active' | 'expired' | 'revoked';
  grantedAt: string;
  revokedAt: string | null;
}

export interface PatientGrantView {
  patient: string;
  category: string;
  expiresAt: number;
  grantedAt: string;
}

export class ListConsentRequestsQuery extends Query<Page<ConsentRequestDocument>> {
  constructor(
    readonly actor: string,
    readonly as: 'patient' | 'provider',
    readonly status: ConsentRequestDocument['status'] | undefined,
    readonly cursor: string | undefined,
    readonly limit: number | undefined,
  ) {
    super();
  }
}

export class MyConsentsQuery extends Query<ConsentView[]> {
  constructor(
    readonly patient: string,
    readonly now: Date,
  ) {
    super();
  }
}

export class ProviderPatientsQuery extends Query<Page<PatientGrantView>> {
  constructor(
    readonly provider: string,
    readonly now: Date,
    readonly cursor: string | undefined,
    readonly limit: number | undefined,
  ) {
    super();
  }
}

/** Every consent document of one patient as a FHIR R4 Bundle of Consent resources, status as of `now`. */
export class ConsentsAsFhirQuery extends Query<FhirBundle> {
  constructor(
    readonly patient: string,
    readonly now: Date,
  ) {
    super();
  }
}

/**
 * Whether a consent is active at `now` (unix seconds), from the projection: granted, not yet expired,
 * and its provider currently holds the provider role. Computed at read time, never stored.
 */
export function isConsentActive(
  consent: Pick<ConsentDocument, 'status' | 'expiresAt'> | null | undefined,
  directory: Pick<DirectoryDocument, 'isProvider'> | null | undefined,
  now: number,
): boolean {
  return consent?.status === 'granted' && consent.expiresAt > now && directory?.isProvider === true;
}

@QueryHandler(ListConsentRequestsQuery)
export class ListConsentRequestsHandler implements IQueryHandler<ListConsentRequestsQuery> {
  constructor(@Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore) {}

  execute(query: ListConsentRequestsQuery): Promise<Page<ConsentRequestDocument>> {
    return this.readModels.find<ConsentRequestDocument>('consent_requests', {
      where: { [query.as]: query.actor, ...(query.status ? { status: query.status } : {}) },
      sort: { field: 'requestedAt', direction: 'desc' },
      cursor: query.cursor,
      limit: query.limit,
    });
  }
}

@QueryHandler(MyConsentsQuery)
export class MyConsentsHandler implements IQueryHandler<MyConsentsQuery> {
  constructor(@Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore) {}

  async execute(query: MyConsentsQuery): Promise<ConsentView[]> {
    const consents = await findAll<ConsentDocument>(this.readModels, 'consents', {
      where: { patient: query.patient },
      sort: { field: 'expiresAt', direction: 'desc' },
    });
    const profiles = new Map<string, DirectoryDocument | null>();
    for (const provider of new Set(consents.map((c) => c.provider))) {
      profiles.set(provider, await this.readModels.get<DirectoryDocument>('directory', provider));
    }
    const now = unixSeconds(query.now);
    return consents.map((c) => {
      const profile = profiles.get(c.provider);
      // Active is computed now, from the expiry and the provider's current role, never stored.
      const active = isConsentActive(c, profile, now);
      return {
        provider: c.provider,
        providerName: profile?.name ?? null,
        providerSpecialty: profile?.specialty ?? null,
        category: c.category,
        expiresAt: c.expiresAt,
        status: c.status === 'revoked' ? 'revoked' : active ? 'active' : 'expired',
        grantedAt: c.grantedAt,
        revokedAt: c.revokedAt,
      };
    });
  }
}

@QueryHandler(ProviderPatientsQuery)
export class ProviderPatientsHandler implements IQueryHandler<ProviderPatientsQuery> {
  constructor(@Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore) {}

  async execute(query: ProviderPatientsQuery): Promise<Page<PatientGrantView>> {
    const page = await this.readModels.find<ConsentDocument>('consents', {
      where: { provider: query.provider, status: 'granted' },
      range: { field: 'expiresAt', gte: unixSeconds(query.now) + 1 },
      sort: { field: 'expiresAt', direction: 'asc' },
      cursor: query.cursor,
      limit: query.limit,
    });
    return {
      items: page.items.map(({ patient, category, expiresAt, grantedAt }) => ({
        patient,
        category,
        expiresAt,
        grantedAt,
      })),
      nextCursor: page.nextCursor,
    };
  }
}

@QueryHandler(ConsentsAsFhirQuery)
export class ConsentsAsFhirHandler implements IQueryHandler<ConsentsAsFhirQuery> {
  constructor(@Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore) {}

  async execute(query: ConsentsAsFhirQuery): Promise<FhirBundle> {
    // The whole set, page by page: an export that silently stopped at a page would misstate the consents.
    const consents = await findAll<ConsentDocument>(this.readModels, 'consents', {
      where: { patient: query.patient },
      sort: { field: 'expiresAt', direction: 'desc' },
    });
    return bundle(
      consents.map((c) => consentResource(c, query.now)),
      query.now,
    );
  }
}

export const CONSENT_QUERY_HANDLERS = [
  ListConsentRequestsHandler,
  MyConsentsHandler,
  ProviderPatientsHandler,
  ConsentsAsFhirHandler,
];
