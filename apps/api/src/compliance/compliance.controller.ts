import { Controller, Get } from '@nestjs/common';
import { AuditRecorder } from '../audit/audit-recorder';
import { Roles } from '../auth/roles.decorator';
import type { CommandContext } from '../core/aggregate-repository';
import { Context } from '../core/request-context';
import { type DriftReport, DriftService } from './drift.service';

/** Compliance officers' checks of the API's views against the chain. */
@Controller('compliance')
export class ComplianceController {
  constructor(
    private readonly drift: DriftService,
    private readonly recorder: AuditRecorder,
  ) {}

  /**
   * Reconciles the consent projection with the contract now: every difference, new ones appended as
   * `ConsentDriftDetected`. 503 without a contract. The read is audited once it has succeeded.
   */
  @Get('drift')
  @Roles('auditor')
  async driftReport(@Context() context: CommandContext): Promise<DriftReport> {
    const report = await this.drift.reconcile(context);
    await this.recorder.record(
      {
        actor: context.actor,
        patient: null,
        resource: 'compliance/drift',
        action: 'read',
        purpose: 'compliance review',
        outcome: 'allowed',
        reason: 'auditor role',
      },
      context,
    );
    return report;
  }
}
