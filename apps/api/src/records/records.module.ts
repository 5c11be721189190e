import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { BlobStoreModule } from '../blob-store/blob-store.module';
import { RelayModule } from '../relay/relay.module';
import { RecordAccess } from './record-access';
import { RecordsController } from './records.controller';
import { RecordsReader } from './records.reader';
import { RecordsService } from './records.service';
import { UploadSweeper } from './upload-sweeper.job';

/**
 * End-to-end encrypted health records (`/records`): ciphertext in the blob store (fs or Kubo),
 * records and wrapped keys in the event store (`records-<patient>`), registration on-chain through
 * the relay, key release behind the record access rule. The `records` projection is in the
 * projections list (projections/read-models.ts); the octet-stream upload and its size limit
 * (RECORD_MAX_BYTES) are set up with the other body limits (security/body-limits.ts). Uploads no
 * record refers to count against their uploader's allowance (`uploads` projection) and are removed
 * after UPLOADS_UNCLAIMED_FOR (UploadSweeper).
 */
@Module({
  imports: [AuditModule, RelayModule, BlobStoreModule],
  controllers: [RecordsController],
  providers: [RecordsService, RecordsReader, RecordAccess, UploadSweeper],
})
export class RecordsModule {}
