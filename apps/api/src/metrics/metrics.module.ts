import { Controller, Get, Global, Header, Inject, Module } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { Public } from '../security/public.decorator';

/** The one Prometheus registry; capability modules add their metrics to it. */
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

@Controller('metrics')
export class MetricsController {
  constructor(@Inject(METRICS_REGISTRY) private readonly registry: Registry) {}

  /**
   * Prometheus text format. Public like /health so a scraper needs no wallet; labels never carry
   * addresses or any personal data, only component names.
   */
  @Public()
  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async metrics(): Promise<string> {
    return this.registry.metrics();
  }
}

@Global()
@Module({
  controllers: [MetricsController],
  providers: [
    {
      provide: METRICS_REGISTRY,
      useFactory: () => {
        const registry = new Registry();
        collectDefaultMetrics({ register: registry, prefix: 'custos_' });
        return registry;
      },
    },
  ],
  exports: [METRICS_REGISTRY],
})
export class MetricsModule {}
