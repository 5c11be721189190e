import { CATEGORY_NAMES, type CategoryName } from '@custos/chain';
import { MAX_GRANT_SECONDS, MIN_REQUEST_SECONDS, PURPOSE_MAX_LENGTH } from '@custos/domain';
import { Transform } from 'class-transformer';
import { PageQuery } from '../core/page-query';
import { ADDRESS_PATTERN, lowerCase } from '../core/address';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';

export class ConsentRequestBody {
  @Matches(ADDRESS_PATTERN, { message: 'patient must be a 0x-prefixed 20-byte hex address' })
  @Transform(lowerCase)
  patient!: string;

  @IsIn(CATEGORY_NAMES, { message: `category must be one of: ${CATEGORY_NAMES.join(', ')}` })
  category!: CategoryName;

  @IsString()
  @MinLength(3)
  @MaxLength(PURPOSE_MAX_LENGTH)
  purpose!: string;

  @IsInt()
  @Min(MIN_REQUEST_SECONDS)
  @Max(MAX_GRANT_SECONDS)
  durationSeconds!: number;
}

export class ConsentRequestListQuery extends PageQuery {
  /** `patient` (default): requests made to me. `provider`: requests I made. */
  @IsOptional()
  @IsIn(['patient', 'provider'])
  as?: 'patient' | 'provider';

  @IsOptional()
  @IsIn(['pending', 'declined', 'granted'])
  status?: 'pending' | 'declined' | 'granted';
}

/** `GET /consents/fhir`: my consents, or (auditors only) the named patient's. */
export class ConsentFhirQuery {
  @IsOptional()
  @Matches(ADDRESS_PATTERN, { message: 'patient must be a 0x-prefixed 20-byte hex address' })
  @Transform(lowerCase)
  patient?: string;
}
