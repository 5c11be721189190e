import { Body, Controller, Post } from '@nestjs/common';
import { Command, CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { emergencyDecider, emergencyStream, REASON_MAX_LENGTH, REASON_MIN_LENGTH } from '@custos/domain';
import { Transform } from 'class-transformer';
import { IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { id as keccakOfText } from 'ethers';
import { AuditRecorder } from '../audit/audit-recorder';
import { Roles } from '../auth/roles.decorator';
import { ADDRESS_PATTERN, lowerCase } from '../core/address';
import { AggregateRepository, type CommandContext } from '../core/aggregate-repository';
import { Context } from '../core/request-context';

export class EmergencyReasonBody {
  @Matches(ADDRESS_PATTERN, { message: 'patient must be a 0x-prefixed 20-byte hex address' })
  @Transform(lowerCase)
  patient!: string;

  @IsString()
  @MinLength(REASON_MIN_LENGTH)
  @MaxLength(REASON_MAX_LENGTH)
  reason!: string;
}

export class RecordEmergencyReasonCommand extends Command<{ reasonHash: string }> {
  constructor(
    readonly context: CommandContext,
    readonly patient: string,
    readonly reason: string,
  ) {
    super();
  }
}

@CommandHandler(RecordEmergencyReasonCommand)
export class RecordEmergencyReasonHandler implements ICommandHandler<RecordEmergencyReasonCommand> {
  constructor(
    private readonly aggregates: AggregateRepository,
    private readonly audit: AuditRecorder,
  ) {}

  async execute(command: RecordEmergencyReasonCommand): Promise<{ reasonHash: string }> {
    const reason = command.reason.trim();
    const reasonHash = keccakOfText(reason);
    await this.aggregates.execute(
      emergencyDecider,
      emergencyStream(command.patient),
      {
        type: 'RecordEmergencyReason',
        patient: command.patient,
        provider: command.context.actor,
        reason,
        reasonHash,
      },
      command.context,
    );
    // The audit entry names the act, not the reason text, which stays in the emergency stream.
    await this.audit.record(
      {
        actor: command.context.actor,
        patient: command.patient,
        resource: 'emergency',
        action: 'declare_emergency',
        purpose: 'emergency care',
        outcome: 'allowed',
        reason: 'emergency role',
      },
      command.context,
    );
    return { reasonHash };
  }
}

@Controller('emergency')
export class EmergencyController {
  constructor(private readonly commands: CommandBus) {}

  /**
   * Emergency staff state why they need break-glass access. The answer's `reasonHash` is what their
   * wallet passes to the contract's `emergencyAccess(patient, reasonHash)`; the text never goes on-chain.
   */
  @Post('reasons')
  @Roles('emergency')
  declare(@Context() context: CommandContext, @Body() body: EmergencyReasonBody) {
    return this.commands.execute(new RecordEmergencyReasonCommand(context, body.patient, body.reason));
  }
}
