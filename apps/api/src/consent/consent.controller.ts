import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { type AccessAuditedData, forbidden } from '@custos/domain';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuditRecorder } from '../audit/audit-recorder';
import type { FhirBundle } from '../audit/fhir';
import { Roles } from '../auth/roles.decorator';
import type { CommandContext } from '../core/aggregate-repository';
import { IdParam } from '../core/id-param';
import { PageQuery } from '../core/page-query';
import { Context } from '../core/request-context';
import { DeclineConsentRequestCommand, RequestConsentCommand } from './consent.commands';
import { ConsentFhirQuery, ConsentRequestBody, ConsentRequestListQuery } from './consent.dto';
import {
  ConsentsAsFhirQuery,
  ListConsentRequestsQuery,
  MyConsentsQuery,
  ProviderPatientsQuery,
} from './consent.queries';

@Controller()
export class ConsentController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    private readonly audit: AuditRecorder,
  ) {}

  /** A provider asks a patient for access to one category, saying why and for how long. */
  @Post('consent-requests')
  @Roles('provider')
  request(@Context() context: CommandContext, @Body() body: ConsentRequestBody) {
    return this.commands.execute(
      new RequestConsentCommand(
        context,
        body.patient,
        body.category,
        body.purpose.trim(),
        body.durationSeconds,
      ),
    );
  }

  /** Requests addressed to me (`as=patient`, default) or made by me (`as=provider`). */
  @Get('consent-requests')
  list(@Context() context: CommandContext, @Query() query: ConsentRequestListQuery) {
    return this.queries.execute(
      new ListConsentRequestsQuery(
        context.actor,
        query.as ?? 'patient',
        query.status,
        query.cursor,
        query.limit,
      ),
    );
  }

  /** The patient declines a request addressed to them. */
  @Post('consent-requests/:id/decline')
  @HttpCode(204)
  async decline(@Context() context: CommandContext, @Param() params: IdParam): Promise<void> {
    await this.commands.execute(new DeclineConsentRequestCommand(context, params.id));
  }

  /** Every grant I gave, with its status computed now. */
  @Get('patients/me/consents')
  myConsents(@Context() context: CommandContext) {
    return this.queries.execute(new MyConsentsQuery(context.actor, context.now));
  }

  /**
   * Every consent document as a FHIR R4 Bundle of Consent resources, status as of now: my own, or with
   * `?patient=` another patient's, for auditors only. Another caller naming someone else gets 403,
   * on that patient's audit trail; an auditor's export of someone else's is on it too.
   */
  @Get('consents/fhir')
  async fhir(
    @Context() context: CommandContext,
    @Query() query: ConsentFhirQuery,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirBundle> {
    const patient = query.patient ?? context.actor;
    const someoneElses = patient !== context.actor;
    const audit = (outcome: AccessAuditedData['outcome'], reason: string) =>
      this.audit.record(
        {
          actor: context.actor,
          patient,
          resource: 'consents',
          action: 'export',
          purpose: outcome === 'allowed' ? 'compliance review' : null,
          outcome,
          reason,
        },
        context,
      );
    if (someoneElses && !(request.principal?.roles.includes('auditor') ?? false)) {
      const reason = "exporting another patient's consents requires the auditor role";
      await audit('denied', reason);
      throw forbidden('auditor_role_required', reason);
    }
    const exported = await this.queries.execute(new ConsentsAsFhirQuery(patient, context.now));
    if (someoneElses) await audit('allowed', 'auditor role');
    void reply.header('content-type', 'application/fhir+json; charset=utf-8');
    return exported;
  }

  /** The patients who granted me access now, by category and expiry. */
  @Get('providers/me/patients')
  @Roles('provider')
  myPatients(@Context() context: CommandContext, @Query() query: PageQuery) {
    return this.queries.execute(
      new ProviderPatientsQuery(context.actor, context.now, query.cursor, query.limit),
    );
  }
}
