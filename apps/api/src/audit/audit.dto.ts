import { Transform } from 'class-transformer';
import { IsIn, IsISO8601, IsOptional, Matches } from 'class-validator';
import { ADDRESS_PATTERN, lowerCase } from '../core/address';
import { PageQuery } from '../core/page-query';

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
  @IsISO8601({ strict: true }, { message: 'from must be an ISO-8601 time' })
  from?: string;

  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'to must be an ISO-8601 time' })
  to?: string;

  @IsOptional()
  @IsIn(['json', 'csv', 'fhir'])
  format?: 'json' | 'csv' | 'fhir';
}

export class ReplayQuery {
  @IsISO8601({ strict: true }, { message: 'asOf must be an ISO-8601 time' })
  asOf!: string;

  @Matches(ADDRESS_PATTERN, { message: 'patient must be a 0x-prefixed 20-byte hex address' })
  @Transform(lowerCase)
  patient!: string;
}
