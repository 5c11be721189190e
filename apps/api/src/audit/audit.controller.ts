import { Controller, Get, Inject, Query, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type { FastifyReply } from 'fastify';
import { Roles } from '../auth/roles.decorator';
import type { CommandContext } from '../core/aggregate-repository';
import { PageQuery } from '../core/page-query';
import { Context } from '../core/request-context';
import { findAll } from '../core/find-all';
import type { AuditDocument, ConsentDocument } from '../projections/read-models';
import { READ_MODEL_STORE } from '../read-models/read-models.module';
import type { ReadModelStore } from '../read-models/read-model.port';
import { AuditRecorder } from './audit-recorder';
import { AuditSearchQuery, ReplayQuery } from './audit.dto';
import { auditFind, ReplayAccessQuery, SearchAuditQuery } from './audit.queries';
import { auditCsv, auditEventResource, bundle, consentResource } from './fhir';

/** Most rows one export carries; narrow the filter for more. */
export const EXPORT_MAX_ROWS = 50_000;

@Controller('audit')
export class AuditController {
  constructor(
    private readonly queries: QueryBus,
    private readonly recorder: AuditRecorder,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
  ) {}

  /** Who accessed my data, when and why (allowed and refused). */
  @Get('me')
  mine(@Context() context: CommandContext, @Query() query: PageQuery) {
    return this.queries.execute(new SearchAuditQuery({ patient: context.actor }, query.cursor, query.limit));
  }

  /** The audit trail for compliance officers, filtered and paginated, or exported as CSV or FHIR. */
  @Get()
  @Roles('auditor')
  async search(
    @Context() context: CommandContext,
    @Query() query: AuditSearchQuery,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const filter = { patient: query.patient, actor: query.actor, from: query.from, to: query.to };
    const format = query.format ?? 'json';
    // The read is audited once it has succeeded: a refused query (e.g. a bad cursor) appends nothing.
    const audited = <T>(result: T) =>
      this.auditRead(context, query.patient ?? null, 'audit', format === 'json' ? 'read' : 'export').then(
        () => result,
      );
    if (format === 'json') {
      return audited(await this.queries.execute(new SearchAuditQuery(filter, query.cursor, query.limit)));
    }

    const entries = await findAll<AuditDocument>(
      this.readModels,
      'audit',
      auditFind(filter),
      EXPORT_MAX_ROWS,
    );
    if (format === 'csv') {
      void reply.header('content-type', 'text/csv; charset=utf-8');
      void reply.header('content-disposition', 'attachment; filename="custos-audit.csv"');
      return audited(auditCsv(entries));
    }
    const consents = query.patient
      ? await findAll<ConsentDocument>(
          this.readModels,
          'consents',
          { where: { patient: query.patient } },
          EXPORT_MAX_ROWS,
        )
      : [];
    void reply.header('content-type', 'application/fhir+json; charset=utf-8');
    return audited(
      bundle(
        [...entries.map(auditEventResource), ...consents.map((c) => consentResource(c, context.now))],
        context.now,
      ),
    );
  }

  /** Who had access to a patient's data at a past moment, rebuilt from the events up to it. */
  @Get('replay')
  @Roles('auditor')
  async replay(@Context() context: CommandContext, @Query() query: ReplayQuery) {
    const replayed = await this.queries.execute(new ReplayAccessQuery(query.patient, new Date(query.asOf)));
    await this.auditRead(context, query.patient, 'audit/replay', 'read');
    return replayed;
  }

  private auditRead(context: CommandContext, patient: string | null, resource: string, action: string) {
    return this.recorder.record(
      {
        actor: context.actor,
        patient,
        resource,
        action,
        purpose: 'compliance review',
        outcome: 'allowed',
        reason: 'auditor role',
      },
      context,
    );
  }
}
