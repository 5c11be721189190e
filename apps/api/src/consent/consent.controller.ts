import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { Roles } from '../auth/roles.decorator';
import type { CommandContext } from '../core/aggregate-repository';
import { IdParam } from '../core/id-param';
import { PageQuery } from '../core/page-query';
import { Context } from '../core/request-context';
import { DeclineConsentRequestCommand, RequestConsentCommand } from './consent.commands';
import { ConsentRequestBody, ConsentRequestListQuery } from './consent.dto';
import { ListConsentRequestsQuery, MyConsentsQuery, ProviderPatientsQuery } from './consent.queries';

@Controller()
export class ConsentController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
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

  /** The patients who granted me access now, by category and expiry. */
  @Get('providers/me/patients')
  @Roles('provider')
  myPatients(@Context() context: CommandContext, @Query() query: PageQuery) {
    return this.queries.execute(
      new ProviderPatientsQuery(context.actor, context.now, query.cursor, query.limit),
    );
  }
}
