import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { CONSENT_COMMAND_HANDLERS } from './consent.commands';
import { ConsentController } from './consent.controller';
import { CONSENT_QUERY_HANDLERS } from './consent.queries';

@Module({
  imports: [AuditModule],
  controllers: [ConsentController],
  providers: [...CONSENT_COMMAND_HANDLERS, ...CONSENT_QUERY_HANDLERS],
})
export class ConsentModule {}
