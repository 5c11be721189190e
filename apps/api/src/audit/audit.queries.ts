import { Inject } from '@nestjs/common';
import { type IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import {
  activeGrants,
  consentDecider,
  consentStream,
  directoryDecider,
  directoryStream,
  emergencyDecider,
  emergencyStream,
  fold,
  isWindowOpen,
  type RecordedEvent,
} from '@custos/domain';
import { EVENT_STORE } from '../event-store/event-store.module';
import type { EventStore } from '../event-store/event-store.port';
import type { AuditDocument } from '../projections/read-models';
import { READ_MODEL_STORE } from '../read-models/read-models.module';
import type { FindQuery, Page, ReadModelStore } from '../read-models/read-model.port';

export interface AuditFilter {
  patient?: string;
  actor?: string;
  from?: string;
  to?: string;
}

export class SearchAuditQuery extends Query<Page<AuditDocument>> {
  constructor(
    readonly filter: AuditFilter,
    readonly cursor?: string,
    readonly limit?: number,
  ) {
    super();
  }
}

export interface ReplayedAccess {
  asOf: string;
  patient: string;
  grants: { provider: string; category: string; expiresAt: number }[];
  emergencyWindows: { provider: string; expiresAt: number; reasonHash: string; reason: string | null }[];
}

/** Who had access to a patient's data at `asOf`, rebuilt from the events up to that moment. */
export class ReplayAccessQuery extends Query<ReplayedAccess> {
  constructor(
    readonly patient: string,
    readonly asOf: Date,
  ) {
    super();
  }
}

export function auditFind(filter: AuditFilter): FindQuery {
  const iso = (value: string) => new Date(value).toISOString();
  return {
    where: {
      ...(filter.patient ? { patient: filter.patient } : {}),
      ...(filter.actor ? { actor: filter.actor } : {}),
    },
    ...(filter.from || filter.to
      ? {
          range: {
            field: 'occurredAt',
            ...(filter.from ? { gte: iso(filter.from) } : {}),
            ...(filter.to ? { lt: iso(filter.to) } : {}),
          },
        }
      : {}),
    sort: { field: 'occurredAt', direction: 'desc' },
  };
}

@QueryHandler(SearchAuditQuery)
export class SearchAuditHandler implements IQueryHandler<SearchAuditQuery> {
  constructor(@Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore) {}

  execute(query: SearchAuditQuery): Promise<Page<AuditDocument>> {
    return this.readModels.find<AuditDocument>('audit', {
      ...auditFind(query.filter),
      cursor: query.cursor,
      limit: query.limit,
    });
  }
}

@QueryHandler(ReplayAccessQuery)
export class ReplayAccessHandler implements IQueryHandler<ReplayAccessQuery> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  private async historyUntil(stream: string, asOf: string): Promise<RecordedEvent[]> {
    return (await this.store.readStream(stream)).filter((e) => e.metadata.occurredAt <= asOf);
  }

  async execute(query: ReplayAccessQuery): Promise<ReplayedAccess> {
    const asOf = query.asOf.toISOString();
    const consent = fold(
      consentDecider,
      (await this.historyUntil(consentStream(query.patient), asOf)) as never[],
    );
    const emergency = fold(
      emergencyDecider,
      (await this.historyUntil(emergencyStream(query.patient), asOf)) as never[],
    );
    // The contract honours a grant or a window only while the account holds the role, so replay does too.
    const rolesAt = new Map<string, readonly string[]>();
    const accounts = new Set([
      ...Object.values(consent.grants).map((g) => g.provider),
      ...Object.keys(emergency.windows),
    ]);
    for (const account of accounts) {
      const directory = fold(
        directoryDecider,
        (await this.historyUntil(directoryStream(account), asOf)) as never[],
      );
      rolesAt.set(account, directory.roles);
    }
    return {
      asOf,
      patient: query.patient,
      grants: activeGrants(consent, query.asOf)
        .filter((g) => rolesAt.get(g.provider)?.includes('provider'))
        .map(({ provider, category, expiresAt }) => ({ provider, category, expiresAt })),
      emergencyWindows: Object.values(emergency.windows)
        .filter((w) => isWindowOpen(w, query.asOf) && rolesAt.get(w.provider)?.includes('emergency'))
        .map(({ provider, expiresAt, reasonHash, reason }) => ({ provider, expiresAt, reasonHash, reason })),
    };
  }
}

export const AUDIT_QUERY_HANDLERS = [SearchAuditHandler, ReplayAccessHandler];
