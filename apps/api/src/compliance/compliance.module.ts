import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { ChainModule } from '../chain/chain.module';
import { ComplianceController } from './compliance.controller';
import { DriftService } from './drift.service';

/**
 * Compliance checks against the chain: the consent drift reconciliation (`GET /compliance/drift` and
 * a periodic job every DRIFT_CHECK_INTERVAL_MS, see drift.service.ts; off without a contract).
 */
@Module({
  imports: [ChainModule, AuditModule],
  controllers: [ComplianceController],
  providers: [DriftService],
  exports: [DriftService],
})
export class ComplianceModule {}
