import { type ArgumentMetadata, Module, ValidationPipe } from '@nestjs/common';
import { APP_GUARD, APP_PIPE } from '@nestjs/core';
import { IdParam, validIdParam } from '../core/id-param';
import { DenyByDefaultGuard } from './deny-by-default.guard';

/**
 * The security baseline every route gets:
 * - deny by default: DenyByDefaultGuard refuses (401) every route not marked
 *   @Public() unless the Authenticator accepts the request's credentials;
 * - validation at the edge: request bodies, params and queries typed with DTO
 *   classes are validated with class-validator; unknown fields are refused
 *   (400 naming them), values are transformed to the declared types.
 *
 * The Authenticator (session tokens) and the AccessDecisionRecorder the guard
 * uses come from the global AuthModule; without it the app does not start.
 */
@Module({
  providers: [
    { provide: APP_GUARD, useClass: DenyByDefaultGuard },
    {
      provide: APP_PIPE,
      useFactory: () =>
        new EdgeValidationPipe({
          whitelist: true,
          forbidNonWhitelisted: true,
          transform: true,
          forbidUnknownValues: true,
        }),
    },
  ],
})
export class SecurityModule {}

/**
 * The ValidationPipe, with a shortcut for the commonest DTO: route parameters that are exactly a valid
 * `:id` need no class-transformer and class-validator pass (a tenth of a small request's CPU). Anything
 * else, a bad id included, goes through the pipe and gets its usual 400.
 */
class EdgeValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'param' && metadata.metatype === IdParam) {
      const valid = validIdParam(value);
      if (valid) return valid;
    }
    return super.transform(value, metadata);
  }
}
