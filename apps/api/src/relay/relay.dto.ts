import { CATEGORY_NAMES, type CategoryName } from '@custos/chain';
import { MAX_BATCH_GRANTS, type RelayKind } from '@custos/domain';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { ADDRESS_PATTERN, lowerCase } from '../core/address';

/** A 64- or 65-byte ECDSA signature, 0x-prefixed hex. */
export const SIGNATURE_PATTERN = /^0x[0-9a-fA-F]{128}([0-9a-fA-F]{2})?$/;
/** Unix seconds fit in a uint64 on-chain; JSON numbers are exact up to 2^53 - 1. */
const MAX_UNIX = Number.MAX_SAFE_INTEGER;

const address = (field: string) =>
  Matches(ADDRESS_PATTERN, { message: `${field} must be a 0x-prefixed 20-byte hex address` });
const category = () =>
  IsIn(CATEGORY_NAMES, { message: `category must be one of: ${CATEGORY_NAMES.join(', ')}` });

class SignedBody {
  @address('patient')
  @Transform(lowerCase)
  patient!: string;

  /** Unix seconds: the last second the signature may be used. */
  @IsInt()
  @Min(0)
  @Max(MAX_UNIX)
  deadline!: number;

  @Matches(SIGNATURE_PATTERN, { message: 'signature must be a 0x-prefixed 65-byte hex signature' })
  signature!: string;
}

export class GrantItemBody {
  @address('provider')
  @Transform(lowerCase)
  provider!: string;

  @category()
  category!: CategoryName;

  /** Unix seconds. */
  @IsInt()
  @Min(0)
  @Max(MAX_UNIX)
  expiresAt!: number;
}

/** `POST /consents/grants`: one EIP-712 `Grant` signed by the patient. */
export class SignedGrantBody extends SignedBody {
  @address('provider')
  @Transform(lowerCase)
  provider!: string;

  @category()
  category!: CategoryName;

  @IsInt()
  @Min(0)
  @Max(MAX_UNIX)
  expiresAt!: number;
}

/** `POST /consents/grants/batch`: one EIP-712 `GrantBatch` covering several grants. */
export class SignedGrantBatchBody extends SignedBody {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCH_GRANTS)
  @ValidateNested({ each: true })
  @Type(() => GrantItemBody)
  items!: GrantItemBody[];
}

/** `POST /consents/revocations`: one EIP-712 `Revoke`. */
export class SignedRevokeBody extends SignedBody {
  @address('provider')
  @Transform(lowerCase)
  provider!: string;

  @category()
  category!: CategoryName;
}

export interface RelayAccepted {
  id: string;
  status: 'submitted';
}

export interface RelayView {
  id: string;
  kind: RelayKind;
  status: 'submitted' | 'mined' | 'confirmed' | 'failed';
  txHash: string | null;
  blockNumber: number | null;
  reason: string | null;
}
