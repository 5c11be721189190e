import { Body, Controller, Get, Inject, Param, Put, Query } from '@nestjs/common';
import { CommandBus, Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { directoryDecider, directoryStream, NAME_MAX_LENGTH, SPECIALTY_MAX_LENGTH } from '@custos/domain';
import { Transform } from 'class-transformer';
import { IsIn, IsString, Matches, MaxLength } from 'class-validator';
import { Roles } from '../auth/roles.decorator';
import { ADDRESS_PATTERN, lowerCase } from '../core/address';
import { AggregateRepository, type CommandContext } from '../core/aggregate-repository';
import { PageQuery } from '../core/page-query';
import { Context } from '../core/request-context';
import type { DirectoryDocument } from '../projections/read-models';
import { READ_MODEL_STORE } from '../read-models/read-models.module';
import type { ReadModelStore } from '../read-models/read-model.port';

export class AddressParam {
  @Matches(ADDRESS_PATTERN, { message: 'address must be a 0x-prefixed 20-byte hex address' })
  @Transform(lowerCase)
  address!: string;
}

export class AccountsQuery extends PageQuery {
  @IsIn(['provider', 'emergency', 'auditor', 'admin'], {
    message: 'role must be one of provider, emergency, auditor, admin',
  })
  role!: 'provider' | 'emergency' | 'auditor' | 'admin';
}

export class ProfileBody {
  @IsString()
  @MaxLength(NAME_MAX_LENGTH)
  name!: string;

  @IsString()
  @MaxLength(SPECIALTY_MAX_LENGTH)
  specialty!: string;
}

export class SetProfileCommand extends Command<void> {
  constructor(
    readonly context: CommandContext,
    readonly account: string,
    readonly name: string,
    readonly specialty: string,
  ) {
    super();
  }
}

@CommandHandler(SetProfileCommand)
export class SetProfileHandler implements ICommandHandler<SetProfileCommand> {
  constructor(private readonly aggregates: AggregateRepository) {}

  async execute(command: SetProfileCommand): Promise<void> {
    await this.aggregates.execute(
      directoryDecider,
      directoryStream(command.account),
      { type: 'SetProfile', account: command.account, name: command.name, specialty: command.specialty },
      command.context,
    );
  }
}

export interface ProviderView {
  address: string;
  name: string | null;
  specialty: string | null;
}

@Controller('directory')
export class DirectoryController {
  constructor(
    private readonly commands: CommandBus,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
  ) {}

  /** Registered providers with the profile patients see when granting. */
  @Get('providers')
  async providers(@Query() query: PageQuery) {
    const page = await this.readModels.find<DirectoryDocument>('directory', {
      where: { isProvider: true },
      sort: { field: 'name', direction: 'asc' },
      cursor: query.cursor,
      limit: query.limit,
    });
    return {
      items: page.items.map((d): ProviderView => ({
        address: d.account,
        name: d.name,
        specialty: d.specialty,
      })),
      nextCursor: page.nextCursor,
    };
  }

  /** The accounts holding a role on the chain, with their profiles: the admin console's lists. */
  @Get('accounts')
  @Roles('admin')
  async accounts(@Query() query: AccountsQuery) {
    const flag = { provider: 'isProvider', emergency: 'isEmergency', auditor: 'isAuditor', admin: 'isAdmin' }[
      query.role
    ];
    const page = await this.readModels.find<DirectoryDocument>('directory', {
      where: { [flag]: true },
      cursor: query.cursor,
      limit: query.limit,
    });
    return {
      items: page.items.map((d) => ({
        address: d.account,
        roles: d.roles,
        name: d.name,
        specialty: d.specialty,
      })),
      nextCursor: page.nextCursor,
    };
  }

  /** An administrator sets the name and specialty shown for a provider, emergency staff member or auditor. */
  @Put(':address/profile')
  @Roles('admin')
  async setProfile(
    @Context() context: CommandContext,
    @Param() params: AddressParam,
    @Body() body: ProfileBody,
  ) {
    await this.commands.execute(new SetProfileCommand(context, params.address, body.name, body.specialty));
    return { address: params.address, name: body.name.trim(), specialty: body.specialty.trim() };
  }
}
