import { Transform } from 'class-transformer';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { ADDRESS_PATTERN, lowerCase } from '../core/address';
import { PageQuery } from '../core/page-query';
import { IsRfc3339 } from '../core/rfc3339';

export class AuditSearchQuery extends PageQuery {
  @IsOptional()
  @Matches(ADDRESS_PATTERN, { message: 'patient must be a 0x-prefixed 20-byte hex address' })
  @Transform(lowerCase)
  patient?: string;

  @IsOptional()
  @Matches(ADDRESS_PATTERN, { message: 'actor must be a 0x-prefixed 20-byte hex address' })
  @Transform(lowerCase)
  actor?: string;

  @IsOptional()
  @IsRfc3339()
  from?: string;

  @IsOptional()
  @IsRfc3339()
  to?: string;

  @IsOptional()
  @IsIn(['json', 'csv', 'fhir'])
  format?: 'json' | 'csv' | 'fhir';
}

export class ReplayQuery {
  @IsRfc3339()
  asOf!: string;

  @Matches(ADDRESS_PATTERN, { message: 'patient must be a 0x-prefixed 20-byte hex address' })
  @Transform(lowerCase)
  patient!: string;
}
