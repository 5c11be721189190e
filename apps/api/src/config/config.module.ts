import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { AppConfig } from './config.schema';

/** Injection token of the validated, frozen AppConfig. */
export const APP_CONFIG = Symbol('APP_CONFIG');

/**
 * Provides the configuration to every module. The configuration is loaded and
 * validated before the application is created (see main.ts), so a bad setting
 * stops the process with a clear message before anything starts.
 */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: APP_CONFIG, useValue: config }],
      exports: [APP_CONFIG],
    };
  }
}
