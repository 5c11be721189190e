import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { RelayModule } from '../relay/relay.module';
import { AnchoringController } from './anchoring.controller';
import { AuditAnchorService } from './audit-anchor.service';

/**
 * The audit log anchored on-chain: the periodic anchor (audit-anchor.service.ts), inclusion proofs and
 * the verification of every anchored range (`GET /audit/proof/:id`, `GET /audit/verification`,
 * `npm run audit:verify`).
 */
@Module({
  imports: [RelayModule, AuditModule],
  controllers: [AnchoringController],
  providers: [AuditAnchorService],
  exports: [AuditAnchorService],
})
export class AnchoringModule {}
