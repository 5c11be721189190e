import { applyDecorators } from '@nestjs/common';
import { CATEGORY_NAMES, type CategoryName } from '@custos/chain';
import {
  MAX_RECORD_KEYS,
  MAX_RECORD_METADATA_BYTES,
  type RecordKeyGrant,
  type SealedRecordMetadata,
  WRAPPED_RECORD_KEY_LENGTH,
} from '@custos/domain';
import { isContentAddress } from '@custos/records';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateBy,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { ADDRESS_PATTERN, lowerCase } from '../core/address';
import { PageQuery } from '../core/page-query';
import { SIGNATURE_PATTERN } from '../relay/relay.dto';
import type { RecordStatus } from './records.projection';

const BYTES32 = /^0x[0-9a-fA-F]{64}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const address = (field: string) =>
  Matches(ADDRESS_PATTERN, { message: `${field} must be a 0x-prefixed 20-byte hex address` });
const category = () =>
  IsIn(CATEGORY_NAMES, { message: `category must be one of: ${CATEGORY_NAMES.join(', ')}` });
const lowerCaseHex = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? value.toLowerCase() : value;

export class RecordIdParam {
  @Matches(BYTES32, { message: 'id must be a record id: 0x-prefixed 32-byte hex' })
  @Transform(lowerCaseHex)
  id!: string;
}

export class SealedMetadataBody implements SealedRecordMetadata {
  /** 12 bytes, base64url. */
  @Matches(/^[A-Za-z0-9_-]{16}$/, { message: 'iv must be 12 bytes of unpadded base64url' })
  iv!: string;

  @Matches(BASE64URL, { message: 'ciphertext must be unpadded base64url' })
  @MaxLength(Math.ceil((MAX_RECORD_METADATA_BYTES * 4) / 3), {
    message: `ciphertext is at most ${MAX_RECORD_METADATA_BYTES} bytes`,
  })
  ciphertext!: string;
}

export class WrappedKeyBody implements RecordKeyGrant {
  @address('recipient')
  @Transform(lowerCase)
  recipient!: string;

  @Matches(new RegExp(`^[A-Za-z0-9_-]{${WRAPPED_RECORD_KEY_LENGTH}}$`), {
    message: `wrappedKey must be a record key wrapped with wrapKey: ${WRAPPED_RECORD_KEY_LENGTH} characters of base64url`,
  })
  wrappedKey!: string;
}

const wrappedKeys = () =>
  applyDecorators(
    IsArray(),
    ArrayMinSize(1),
    ArrayMaxSize(MAX_RECORD_KEYS),
    // One key per reader (recipients are lower-cased by then): the decider would refuse it later,
    // without naming the field, and only after the blob and consent checks.
    ArrayUnique((key: WrappedKeyBody | null) => key?.recipient, {
      message: 'keys must give each recipient one key',
    }),
    ValidateNested({ each: true }),
    Type(() => WrappedKeyBody),
  );

/**
 * `POST /records`: a record whose ciphertext was uploaded to `POST /records/blobs`, its sealed
 * metadata, its key wrapped for each reader, and the patient's EIP-712 `RegisterRecord` signature
 * (recordId = `recordIdOf(cid)`, category id, supersedes or zero, nonce, deadline).
 */
export class RecordSubmissionBody {
  @ValidateBy({
    name: 'isContentAddress',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && isContentAddress(value),
      defaultMessage: () =>
        'cid must be an IPFS CIDv1 (sha2-256, raw or dag-pb), as POST /records/blobs answers',
    },
  })
  cid!: string;

  @category()
  category!: CategoryName;

  /** The record id of the version this one amends; null for a new record. */
  @ValidateIf((_, value) => value !== null)
  @Matches(BYTES32, { message: 'supersedes must be null or a record id: 0x-prefixed 32-byte hex' })
  @Transform(lowerCaseHex)
  supersedes!: string | null;

  // ValidateNested alone lets a missing metadata or an array through.
  @IsObject({ message: 'metadata must be an object: the sealed { iv, ciphertext }' })
  @ValidateNested()
  @Type(() => SealedMetadataBody)
  metadata!: SealedMetadataBody;

  @wrappedKeys()
  keys!: WrappedKeyBody[];

  /** Unix seconds: the last second the signature may be used. */
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  deadline!: number;

  @Matches(SIGNATURE_PATTERN, { message: 'signature must be a 0x-prefixed 65-byte hex signature' })
  signature!: string;
}

/** `POST /records/:id/keys`: the record key wrapped for more readers. */
export class RecordKeysBody {
  @wrappedKeys()
  keys!: WrappedKeyBody[];
}

/** `GET /records`: mine, or `?patient=` for a provider or emergency staff. */
export class RecordListQuery extends PageQuery {
  @IsOptional()
  @address('patient')
  @Transform(lowerCase)
  patient?: string;
}

/** `GET /records/recipients?category=`. */
export class RecipientsQuery {
  @category()
  category!: CategoryName;
}

export interface RecordView {
  id: string;
  patient: string;
  cid: string;
  category: string;
  size: number;
  supersedes: string | null;
  supersededBy: string | null;
  status: RecordStatus;
  submittedAt: string;
  registeredAt: string | null;
  metadata: SealedRecordMetadata;
}

export interface RecordDetailView extends RecordView {
  /** The amendment chain this version belongs to, oldest first (ids). */
  history: string[];
}

export interface RecordKeyView {
  recordId: string;
  recipient: string;
  wrappedKey: string;
}

/** Someone who should hold the record key: their registered messaging key to wrap it for. */
export interface RecordRecipientView {
  recipient: string;
  publicKey: string;
  role: 'patient' | 'provider' | 'emergency';
}

export interface KeyRequestView {
  recordId: string;
  category: string;
  recipient: string;
  publicKey: string;
}

export interface RecordAccepted {
  id: string;
  relayId: string;
}
