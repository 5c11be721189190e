import { Module } from '@nestjs/common';
import { AuditAccessDecisionRecorder, AuditRecorder } from './audit-recorder';
import { AuditController } from './audit.controller';
import { AUDIT_QUERY_HANDLERS } from './audit.queries';

@Module({
  controllers: [AuditController],
  providers: [AuditRecorder, AuditAccessDecisionRecorder, ...AUDIT_QUERY_HANDLERS],
  exports: [AuditRecorder, AuditAccessDecisionRecorder],
})
export class AuditModule {}
