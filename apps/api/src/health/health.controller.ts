import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Public } from '../security/public.decorator';
import { type HealthReport, HealthService } from './health.service';

@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  /**
   * Liveness and readiness in one: 200 with status "ok" or "degraded" while
   * the API can serve, 503 with status "down" when a critical component is
   * down. Public: it reveals no personal data.
   */
  @Public()
  @Get()
  async check(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthReport> {
    const report = await this.health.report();
    reply.header('cache-control', 'no-store');
    if (report.status === 'down') reply.status(HttpStatus.SERVICE_UNAVAILABLE);
    return report;
  }
}
