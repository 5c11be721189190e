import { Inject } from '@nestjs/common';
import { type IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import type { ConsultationMode, ConsultationRole, ConsultationStatus, NoShowMissing } from '@custos/domain';
import { READ_MODEL_STORE } from '../read-models/read-models.module';
import type { Page, ReadModelStore } from '../read-models/read-model.port';
import { sessionNotFound } from './consultation.commands';
import type { ConsultationDocument, ConsultationMemberDocument } from './consultation.projection';

/** A consultation as its participants see it. Times are RFC 3339 (UTC). */
export interface SessionView {
  id: string;
  provider: string;
  patient: string;
  category: string;
  mode: ConsultationMode;
  startsAt: string;
  endsAt: string;
  status: ConsultationStatus;
  /** The caller's role in it. */
  role: ConsultationRole;
  participants: { address: string; role: ConsultationRole; admitted: boolean; joined: boolean }[];
  recordingConsent: boolean;
  /** Once ended: the provider's address or `time`. */
  endedBy: string | null;
  endReason: string | null;
  /** Once recorded as a no-show: who never joined. */
  missing: NoShowMissing | null;
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

export function sessionView(doc: ConsultationDocument, viewer: string): SessionView {
  return {
    id: doc.id,
    provider: doc.provider,
    patient: doc.patient,
    category: doc.category,
    mode: doc.mode,
    startsAt: iso(doc.startsAt),
    endsAt: iso(doc.endsAt),
    status: doc.status,
    role: doc.participants[viewer]?.role ?? 'patient',
    participants: Object.entries(doc.participants).map(([address, p]) => ({
      address,
      role: p.role,
      admitted: p.admitted,
      joined: p.joined,
    })),
    recordingConsent: doc.recordingConsent,
    endedBy: doc.endedBy,
    endReason: doc.endReason,
    missing: doc.missing,
  };
}

/** The consultations I take part in: as the provider, the patient or an admitted invitee. */
export class ListSessionsQuery extends Query<Page<SessionView>> {
  constructor(
    readonly participant: string,
    readonly cursor: string | undefined,
    readonly limit: number | undefined,
  ) {
    super();
  }
}

/** One consultation, for its participants only (invitees included, admitted or not). */
export class GetSessionQuery extends Query<SessionView> {
  constructor(
    readonly participant: string,
    readonly id: string,
  ) {
    super();
  }
}

@QueryHandler(ListSessionsQuery)
export class ListSessionsHandler implements IQueryHandler<ListSessionsQuery> {
  constructor(@Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore) {}

  async execute(query: ListSessionsQuery): Promise<Page<SessionView>> {
    const page = await this.readModels.find<ConsultationMemberDocument>('consultation_members', {
      where: { participant: query.participant, admitted: true },
      sort: { field: 'startsAt', direction: 'desc' },
      cursor: query.cursor,
      limit: query.limit,
    });
    const items: SessionView[] = [];
    for (const member of page.items) {
      const doc = await this.readModels.get<ConsultationDocument>('consultations', member.session);
      if (doc) items.push(sessionView(doc, query.participant));
    }
    return { items, nextCursor: page.nextCursor };
  }
}

@QueryHandler(GetSessionQuery)
export class GetSessionHandler implements IQueryHandler<GetSessionQuery> {
  constructor(@Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore) {}

  async execute(query: GetSessionQuery): Promise<SessionView> {
    const doc = await this.readModels.get<ConsultationDocument>('consultations', query.id);
    if (!doc?.participants[query.participant]) throw sessionNotFound(query.id);
    return sessionView(doc, query.participant);
  }
}

export const CONSULTATION_QUERY_HANDLERS = [ListSessionsHandler, GetSessionHandler];
