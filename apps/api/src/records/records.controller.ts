import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  Res,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CommandContext } from '../core/aggregate-repository';
import { BINARY_MEDIA_TYPE } from '../security/body-limits';
import { Context } from '../core/request-context';
import { RecordsReader } from './records.reader';
import {
  type KeyRequestView,
  RecipientsQuery,
  type RecordAccepted,
  type RecordDetailView,
  RecordIdParam,
  type RecordKeyView,
  RecordKeysBody,
  RecordListQuery,
  type RecordRecipientView,
  RecordSubmissionBody,
  type RecordView,
} from './records.dto';
import { RecordsService } from './records.service';
import type { Page } from '../read-models/read-model.port';

/**
 * End-to-end encrypted health records. The patient's browser encrypts, uploads the ciphertext,
 * registers the record on-chain (relayed) and wraps the record key for each reader; readers fetch the
 * ciphertext and their wrapped key while the record access rule (RecordAccess) lets them.
 */
@Controller('records')
export class RecordsController {
  constructor(
    private readonly records: RecordsService,
    private readonly reader: RecordsReader,
  ) {}

  /**
   * Stores a record's ciphertext (`application/octet-stream`); answers its IPFS CIDv1 and size. Kept
   * UPLOADS_UNCLAIMED_FOR unless a record (or a message) refers to it; 413 past the uploader's
   * UPLOADS_UNCLAIMED_MAX_BYTES of such uploads.
   */
  @Post('blobs')
  @HttpCode(201)
  upload(
    @Context() context: CommandContext,
    @Req() request: FastifyRequest,
  ): Promise<{ cid: string; size: number }> {
    const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== BINARY_MEDIA_TYPE || !Buffer.isBuffer(request.body)) {
      throw new UnsupportedMediaTypeException(
        `send the encrypted record bytes as ${BINARY_MEDIA_TYPE}, not ${type || 'no content type'}`,
      );
    }
    return this.records.storeBlob(context, new Uint8Array(request.body));
  }

  /** Submits an uploaded record: sealed metadata, wrapped keys, and the signed on-chain registration. */
  @Post()
  @HttpCode(202)
  submit(@Context() context: CommandContext, @Body() body: RecordSubmissionBody): Promise<RecordAccepted> {
    return this.records.submit(context, body);
  }

  /** My records (as a patient), or `?patient=`'s that I may read now. */
  @Get()
  list(@Context() context: CommandContext, @Query() query: RecordListQuery): Promise<Page<RecordView>> {
    return this.reader.list(context, query.patient ?? context.actor, query.cursor, query.limit);
  }

  /** Whom to wrap a new record's key for: me, providers with an active grant for the category, emergency staff. */
  @Get('recipients')
  async recipients(
    @Context() context: CommandContext,
    @Query() query: RecipientsQuery,
  ): Promise<{ items: RecordRecipientView[] }> {
    return { items: await this.records.recipients(context.actor, query.category, context.now) };
  }

  /** Readers of my records who have no wrapped key yet (a grant made after the upload). */
  @Get('key-requests')
  async keyRequests(@Context() context: CommandContext): Promise<{ items: KeyRequestView[] }> {
    return { items: await this.records.keyRequests(context.actor, context.now) };
  }

  /** One version, with its amendment history (ids, oldest first). */
  @Get(':id')
  detail(@Context() context: CommandContext, @Param() params: RecordIdParam): Promise<RecordDetailView> {
    return this.reader.detail(context, params.id);
  }

  /** The ciphertext: check its CID, then decrypt with the record key. */
  @Get(':id/blob')
  async blob(
    @Context() context: CommandContext,
    @Param() params: RecordIdParam,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Buffer> {
    const bytes = await this.reader.blob(context, params.id);
    reply.header('content-type', BINARY_MEDIA_TYPE);
    reply.header('cache-control', 'private, no-store');
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** The record key wrapped for me, while I may read the record. */
  @Get(':id/key')
  key(@Context() context: CommandContext, @Param() params: RecordIdParam): Promise<RecordKeyView> {
    return this.reader.key(context, params.id);
  }

  /** Shares a record's key with more readers (the patient's browser wrapped it for each). */
  @Post(':id/keys')
  @HttpCode(204)
  async share(
    @Context() context: CommandContext,
    @Param() params: RecordIdParam,
    @Body() body: RecordKeysBody,
  ): Promise<void> {
    await this.records.shareKeys(context, params.id, body.keys);
  }
}
