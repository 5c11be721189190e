import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AUDIT_STREAM, type AccessAuditedData, accessAudited } from '@custos/domain';
import { type AccessDecision, AccessDecisionRecorder } from '../auth/access-decision-recorder';
import { AggregateRepository, type CommandContext } from '../core/aggregate-repository';

/** Appends one AccessAudited event per gate decision to the audit stream. */
@Injectable()
export class AuditRecorder {
  constructor(private readonly aggregates: AggregateRepository) {}

  async record(decision: AccessAuditedData, context: Omit<CommandContext, 'actor'>): Promise<number> {
    return this.aggregates.record(AUDIT_STREAM, [accessAudited(decision)], {
      ...context,
      actor: decision.actor,
    });
  }
}

/** Binds the auth guards' refusals (401/403) to the audit stream. */
@Injectable()
export class AuditAccessDecisionRecorder extends AccessDecisionRecorder {
  constructor(private readonly recorder: AuditRecorder) {
    super();
  }

  async record(decision: AccessDecision): Promise<void> {
    await this.recorder.record(decision, { correlationId: randomUUID(), now: new Date() });
  }
}
