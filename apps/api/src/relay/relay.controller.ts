import { Body, Controller, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { FastifyRequest } from 'fastify';
import type { CommandContext } from '../core/aggregate-repository';
import { IdParam } from '../core/id-param';
import { Context } from '../core/request-context';
import { SubmitSignedIntentCommand } from './relay.commands';
import {
  type RelayAccepted,
  type RelayView,
  SignedGrantBatchBody,
  SignedGrantBody,
  SignedRevokeBody,
} from './relay.dto';
import { GetRelayQuery } from './relay.queries';

/**
 * Patients' signed consents, relayed to the contract by the API's relayer (the patient pays no gas).
 * Each answers 202 once the signature checked out against the chain; the transaction follows.
 */
@Controller('consents')
export class RelayController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  /** One EIP-712 `Grant` signed by the patient. */
  @Post('grants')
  @HttpCode(202)
  grant(@Context() context: CommandContext, @Body() body: SignedGrantBody): Promise<RelayAccepted> {
    const { patient, provider, category, expiresAt, deadline, signature } = body;
    return this.commands.execute(
      new SubmitSignedIntentCommand(context, {
        kind: 'grant',
        patient,
        grants: [{ provider, category, expiresAt }],
        batch: false,
        deadline,
        signature,
      }),
    );
  }

  /** One EIP-712 `GrantBatch` covering several grants. */
  @Post('grants/batch')
  @HttpCode(202)
  grantBatch(@Context() context: CommandContext, @Body() body: SignedGrantBatchBody): Promise<RelayAccepted> {
    return this.commands.execute(
      new SubmitSignedIntentCommand(context, {
        kind: 'grant',
        patient: body.patient,
        grants: body.items.map(({ provider, category, expiresAt }) => ({ provider, category, expiresAt })),
        batch: true,
        deadline: body.deadline,
        signature: body.signature,
      }),
    );
  }

  /** One EIP-712 `Revoke`. */
  @Post('revocations')
  @HttpCode(202)
  revoke(@Context() context: CommandContext, @Body() body: SignedRevokeBody): Promise<RelayAccepted> {
    const { patient, provider, category, deadline, signature } = body;
    return this.commands.execute(
      new SubmitSignedIntentCommand(context, {
        kind: 'revoke',
        patient,
        provider,
        category,
        deadline,
        signature,
      }),
    );
  }

  /** A relay's progress: submitted → mined → confirmed, or failed with the reason. */
  @Get('relays/:id')
  relay(
    @Context() context: CommandContext,
    @Param() params: IdParam,
    @Req() request: FastifyRequest,
  ): Promise<RelayView> {
    const isAuditor = request.principal?.roles.includes('auditor') ?? false;
    return this.queries.execute(new GetRelayQuery(params.id, context.actor, isAuditor));
  }
}
