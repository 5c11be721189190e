import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { unixSeconds } from '@custos/domain';
import type { FastifyRequest } from 'fastify';
import { Roles } from '../auth/roles.decorator';
import type { CommandContext } from '../core/aggregate-repository';
import { IdParam } from '../core/id-param';
import { PageQuery } from '../core/page-query';
import { Context } from '../core/request-context';
import { type CallCredentials, CallCredentialsService } from './call-credentials.service';
import { RunConsultationCommand, ScheduleConsultationCommand } from './consultation.commands';
import { GetSessionQuery, ListSessionsQuery } from './consultation.queries';
import { AdmissionBody, InvitationBody, RecordingConsentBody, ScheduleSessionBody } from './telehealth.dto';

/**
 * Telehealth consultations ("sessions"). Someone else's consultation answers 404 like one that does
 * not exist; inside one, the domain decides who may do what (the provider invites and ends, the
 * patient admits and consents to recording).
 */
@Controller('sessions')
export class TelehealthController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    private readonly credentials: CallCredentialsService,
  ) {}

  /** A provider schedules a consultation with a patient who granted them the category or telehealth. */
  @Post()
  @Roles('provider')
  schedule(@Context() context: CommandContext, @Body() body: ScheduleSessionBody): Promise<{ id: string }> {
    return this.commands.execute(
      new ScheduleConsultationCommand(
        context,
        body.patient,
        body.category,
        unixSeconds(new Date(body.startsAt)),
        body.durationMinutes,
        body.mode ?? 'video',
      ),
    );
  }

  /** The consultations I take part in (as provider, patient or admitted invitee), latest start first. */
  @Get()
  list(@Context() context: CommandContext, @Query() query: PageQuery) {
    return this.queries.execute(new ListSessionsQuery(context.actor, query.cursor, query.limit));
  }

  @Get(':id')
  get(@Context() context: CommandContext, @Param() params: IdParam) {
    return this.queries.execute(new GetSessionQuery(context.actor, params.id));
  }

  /** The provider invites a specialist, an interpreter, family or another provider. */
  @Post(':id/invitations')
  @Roles('provider')
  @HttpCode(204)
  async invite(
    @Context() context: CommandContext,
    @Param() params: IdParam,
    @Body() body: InvitationBody,
  ): Promise<void> {
    await this.run(context, {
      type: 'InviteParticipant',
      id: params.id,
      actor: context.actor,
      participant: body.participant,
      role: body.role,
    });
  }

  /** The patient admits an invitee: from then on the invitee may join. */
  @Post(':id/admissions')
  @HttpCode(204)
  async admit(
    @Context() context: CommandContext,
    @Param() params: IdParam,
    @Body() body: AdmissionBody,
  ): Promise<void> {
    await this.run(context, {
      type: 'AdmitParticipant',
      id: params.id,
      actor: context.actor,
      participant: body.participant,
    });
  }

  /** The patient gives (`true`) or withdraws (`false`) consent to recording. */
  @Post(':id/recording-consent')
  @HttpCode(204)
  async recordingConsent(
    @Context() context: CommandContext,
    @Param() params: IdParam,
    @Body() body: RecordingConsentBody,
  ): Promise<void> {
    await this.run(context, {
      type: body.consent ? 'GiveRecordingConsent' : 'WithdrawRecordingConsent',
      id: params.id,
      actor: context.actor,
    });
  }

  /** The provider ends the consultation; everyone connected is told and disconnected. */
  @Post(':id/end')
  @Roles('provider')
  @HttpCode(204)
  async end(@Context() context: CommandContext, @Param() params: IdParam): Promise<void> {
    await this.run(context, { type: 'EndConsultation', id: params.id, actor: context.actor });
  }

  /** Credentials to join the call (TRTC, or a token for the built-in signalling); checked and audited. */
  @Post(':id/credentials')
  @HttpCode(200)
  issueCredentials(
    @Context() context: CommandContext,
    @Param() params: IdParam,
    @Req() request: FastifyRequest,
  ): Promise<CallCredentials> {
    // The roles the RolesGuard read for this request: the consent check needs the provider's.
    return this.credentials.issue(params.id, context, request.principal?.roles);
  }

  private run(context: CommandContext, command: RunConsultationCommand['command']) {
    return this.commands.execute(new RunConsultationCommand(context, command));
  }
}
