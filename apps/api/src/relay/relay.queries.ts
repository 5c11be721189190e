import { Inject } from '@nestjs/common';
import { type IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { notFound } from '@custos/domain';
import type { ConsentRelayDocument } from '../projections/read-models';
import type { ReadModelStore } from '../read-models/read-model.port';
import { READ_MODEL_STORE } from '../read-models/read-models.module';
import type { RelayView } from './relay.dto';

export class GetRelayQuery extends Query<RelayView> {
  constructor(
    readonly id: string,
    readonly actor: string,
    readonly isAuditor: boolean,
  ) {
    super();
  }
}

@QueryHandler(GetRelayQuery)
export class GetRelayHandler implements IQueryHandler<GetRelayQuery> {
  constructor(@Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore) {}

  async execute(query: GetRelayQuery): Promise<RelayView> {
    const relay = await this.readModels.get<ConsentRelayDocument>('consent_relays', query.id);
    // Someone else's relay is as invisible as one that does not exist (auditors see every relay).
    if (!relay || (relay.patient !== query.actor && !query.isAuditor)) {
      throw notFound('relay_not_found', `no relay ${query.id} of yours`);
    }
    return {
      id: relay.id,
      kind: relay.kind,
      status: relay.status,
      txHash: relay.txHash ?? null,
      blockNumber: relay.blockNumber ?? null,
      reason: relay.reason,
    };
  }
}

export const RELAY_QUERY_HANDLERS = [GetRelayHandler];
