import { Global, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ProjectionsModule } from '../projections/projections.module';
import { AggregateRepository } from './aggregate-repository';
import { DomainErrorFilter } from './domain-error.filter';

/** What every command handler needs: load-decide-append, and the domain's errors answered as 4xx. */
@Global()
@Module({
  imports: [ProjectionsModule],
  providers: [AggregateRepository, { provide: APP_FILTER, useClass: DomainErrorFilter }],
  exports: [AggregateRepository, ProjectionsModule],
})
export class CoreModule {}
