import { Controller, Get, Inject, Module, Query } from '@nestjs/common';
import type { CommandContext } from '../core/aggregate-repository';
import { PageQuery } from '../core/page-query';
import { Context } from '../core/request-context';
import type { NotificationDocument } from '../projections/read-models';
import { READ_MODEL_STORE } from '../read-models/read-models.module';
import type { ReadModelStore } from '../read-models/read-model.port';

@Controller('notifications')
export class NotificationsController {
  constructor(@Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore) {}

  /** What happened that concerns me: requests, grants, revocations, emergency accesses. Newest first. */
  @Get('me')
  mine(@Context() context: CommandContext, @Query() query: PageQuery) {
    return this.readModels.find<NotificationDocument>('notifications', {
      where: { recipient: context.actor },
      sort: { field: 'occurredAt', direction: 'desc' },
      cursor: query.cursor,
      limit: query.limit,
    });
  }
}

@Module({ controllers: [NotificationsController] })
export class NotificationsModule {}
