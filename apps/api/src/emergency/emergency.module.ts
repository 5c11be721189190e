import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { EmergencyController, RecordEmergencyReasonHandler } from './emergency.controller';

@Module({
  imports: [AuditModule],
  controllers: [EmergencyController],
  providers: [RecordEmergencyReasonHandler],
})
export class EmergencyModule {}
