import {
  GCM_TAG_BYTES,
  MAX_ATTACHMENT_BYTES,
  MAX_CARE_TEAM_SIZE,
  MAX_CIPHERTEXT_BYTES,
  MAX_WRAPPED_KEY_BYTES,
  MESSAGE_KINDS,
  type MessageKind,
} from '@custos/domain';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateBy,
  ValidateNested,
} from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { ADDRESS_PATTERN, lowerCase } from '../core/address';
import { IdParam } from '../core/id-param';
import { PageQuery } from '../core/page-query';

/** Characters of unpadded base64url for `bytes` bytes. */
const base64urlLength = (bytes: number) => Math.ceil((bytes * 4) / 3);
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const UUID_ANY_CASE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const ADDRESS_ANY_CASE = ADDRESS_PATTERN;
const address = (field: string) =>
  Matches(ADDRESS_PATTERN, { message: `${field} must be a 0x-prefixed 20-byte hex address` });

// ------------------------------------------------------------------------------------------- keys

/** `PUT /messaging/keys/me`: my X25519 public key, bound to my wallet by an EIP-191 signature. */
export class MessagingKeyBody {
  @Matches(/^[A-Za-z0-9_-]{43}$/, {
    message: 'publicKey must be a 32-byte X25519 public key in unpadded base64url (43 characters)',
  })
  publicKey!: string;

  /** The wallet's `personal_sign` over `messagingKeyStatement(address, publicKey)`. */
  @Matches(/^0x[0-9a-fA-F]{130}$/, { message: 'signature must be a 0x-prefixed 65-byte hex signature' })
  signature!: string;
}

export class AddressParam {
  @address('address')
  @Transform(lowerCase)
  address!: string;
}

// ------------------------------------------------------------------------------------ conversations

/** `POST /conversations`: one patient and their care team (the caller is one of them). */
export class StartConversationBody {
  @address('patient')
  @Transform(lowerCase)
  patient!: string;

  @IsArray({ message: 'providers must be an array of addresses' })
  @ArrayMinSize(1, { message: 'providers must name at least one provider' })
  @ArrayMaxSize(MAX_CARE_TEAM_SIZE, {
    message: `providers must name at most ${MAX_CARE_TEAM_SIZE} providers`,
  })
  @Matches(ADDRESS_PATTERN, { each: true, message: 'providers must be 0x-prefixed 20-byte hex addresses' })
  @ArrayUnique({ message: 'providers must not name a provider twice' })
  @Transform(({ value }: { value: unknown }) =>
    Array.isArray(value) ? value.map((v) => (typeof v === 'string' ? v.toLowerCase() : v)) : value,
  )
  providers!: string[];
}

export class ConversationListQuery extends PageQuery {
  /** `true`: hidden conversations are listed too. */
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'hidden must be true or false' })
  hidden?: 'true' | 'false';
}

export class MessageListQuery extends PageQuery {
  /** `asc` (default): oldest first. `desc`: newest first, to page back through a long history. */
  @IsOptional()
  @IsIn(['asc', 'desc'], { message: 'order must be asc or desc' })
  order?: 'asc' | 'desc';
}

export class AttachmentBody {
  @Matches(/^[A-Za-z0-9_.:-]{1,200}$/, {
    message: 'blobId must be 1 to 200 letters, digits or . _ : -',
  })
  blobId!: string;

  @IsInt({ message: 'size must be a whole number of bytes' })
  @Min(GCM_TAG_BYTES, { message: `size must be at least ${GCM_TAG_BYTES} bytes` })
  @Max(MAX_ATTACHMENT_BYTES, { message: `size must be at most ${MAX_ATTACHMENT_BYTES} bytes` })
  size!: number;
}

/** A participant address → that participant's wrapped content key, at most one per participant. */
const IsWrappedKeys = () =>
  ValidateBy({
    name: 'isWrappedKeys',
    validator: {
      validate: (value: unknown) => {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
        const entries = Object.entries(value as Record<string, unknown>);
        return (
          entries.length >= 1 &&
          entries.length <= MAX_CARE_TEAM_SIZE + 1 &&
          entries.every(
            ([participant, wrapped]) =>
              ADDRESS_ANY_CASE.test(participant) &&
              typeof wrapped === 'string' &&
              BASE64URL.test(wrapped) &&
              wrapped.length <= base64urlLength(MAX_WRAPPED_KEY_BYTES),
          )
        );
      },
      defaultMessage: () =>
        'wrappedKeys must map every participant address to the content key wrapped for them (base64url, ' +
        `at most ${MAX_WRAPPED_KEY_BYTES} bytes)`,
    },
  });

/** IsWrappedKeys as a schema: a map, where the declared type alone would give a `$ref` to Object. */
const wrappedKeysSchema = () =>
  JSONSchema(() => ({
    type: 'object',
    description: 'Each participant address (0x-prefixed 20-byte hex) → the content key wrapped for them',
    additionalProperties: {
      type: 'string',
      pattern: BASE64URL.source,
      maxLength: base64urlLength(MAX_WRAPPED_KEY_BYTES),
    },
    minProperties: 1,
    maxProperties: MAX_CARE_TEAM_SIZE + 1,
  }));

/**
 * `POST /conversations/:id/messages`: one ciphertext envelope. The browser encrypted the text with a
 * fresh AES-256-GCM content key and wrapped that key for every current participant (itself included).
 */
export class SendMessageBody {
  /** Generated by the client: resending the same envelope with the same id is a no-op. */
  @Matches(UUID_ANY_CASE, { message: 'messageId must be a UUID' })
  @Transform(lowerCase)
  messageId!: string;

  @IsIn(MESSAGE_KINDS, { message: `kind must be one of: ${MESSAGE_KINDS.join(', ')}` })
  kind!: MessageKind;

  @IsOptional()
  @IsBoolean({ message: 'requiresAcknowledgment must be true or false' })
  requiresAcknowledgment?: boolean;

  @IsOptional()
  @IsBoolean({ message: 'urgent must be true or false' })
  urgent?: boolean;

  @IsString({ message: 'ciphertext must be a base64url string' })
  @MinLength(base64urlLength(GCM_TAG_BYTES), { message: 'ciphertext is shorter than an AES-GCM tag' })
  @MaxLength(base64urlLength(MAX_CIPHERTEXT_BYTES), {
    message: `ciphertext must be at most ${MAX_CIPHERTEXT_BYTES} bytes`,
  })
  @Matches(BASE64URL, { message: 'ciphertext must be unpadded base64url' })
  ciphertext!: string;

  @Matches(/^[A-Za-z0-9_-]{16}$/, {
    message: 'iv must be a 12-byte AES-GCM nonce in base64url (16 characters)',
  })
  iv!: string;

  @IsWrappedKeys()
  @wrappedKeysSchema()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k.toLowerCase(), v as unknown]))
      : value,
  )
  wrappedKeys!: Record<string, string>;

  @IsOptional()
  @ValidateNested()
  @Type(() => AttachmentBody)
  attachment?: AttachmentBody;
}

export class MessageParams extends IdParam {
  @Matches(UUID_ANY_CASE, { message: 'messageId must be a UUID' })
  @Transform(lowerCase)
  messageId!: string;
}

export class ParticipantBody {
  @address('provider')
  @Transform(lowerCase)
  provider!: string;
}

export class ParticipantParams extends IdParam {
  @address('address')
  @Transform(lowerCase)
  address!: string;
}

// ------------------------------------------------------------------------------------------- views

export interface ConversationStarted {
  id: string;
}

export interface MessageAccepted {
  conversationId: string;
  messageId: string;
  /** Global position of the message: what a WebSocket `resume` continues after. */
  position: number;
  sentAt: string;
}

export interface MessagingKeyView {
  account: string;
  publicKey: string;
  /** EIP-191 signature over `messagingKeyStatement(account, publicKey)`: check it before wrapping. */
  signature: string;
  registeredAt: string;
}

export interface TriageView {
  priority: 'urgent' | 'high' | 'normal' | 'low';
  score: number;
  reasons: string[];
}

export interface ConversationView {
  id: string;
  patient: string;
  providers: string[];
  formerProviders: string[];
  startedBy: string;
  startedAt: string;
  lastMessageAt: string | null;
  lastActivityAt: string;
  messageCount: number;
  /** The caller's place in it. */
  role: 'patient' | 'provider';
  /** False for a provider who left or was removed (history stays readable). */
  active: boolean;
  hidden: boolean;
  unread: number;
  awaitingAcknowledgment: number;
  /** For providers' inboxes (current care team only): metadata-only triage at the time of the request. */
  triage: TriageView | null;
}

export interface MessageView {
  conversationId: string;
  messageId: string;
  position: number;
  sender: string;
  senderRole: 'patient' | 'provider';
  kind: MessageKind;
  urgent: boolean;
  requiresAcknowledgment: boolean;
  ciphertext: string;
  iv: string;
  /** The content key wrapped for the caller (each reader gets only their own). */
  wrappedKey: string;
  attachment: { blobId: string; size: number } | null;
  sentAt: string;
  acknowledgedBy: { by: string; at: string }[];
  readBy: { by: string; at: string }[];
}

export interface ChatCredentials {
  sdkAppId: number;
  /** Tencent Chat user id of the signed-in account (see chatUserId). */
  userId: string;
  userSig: string;
  /** Unix seconds. */
  expiresAt: number;
}
