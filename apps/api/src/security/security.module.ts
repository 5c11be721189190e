import { Module, ValidationPipe } from '@nestjs/common';
import { APP_GUARD, APP_PIPE } from '@nestjs/core';
import { Authenticator, NoSignInAuthenticator } from './authenticator';
import { DenyByDefaultGuard } from './deny-by-default.guard';

/**
 * The security baseline every route gets:
 * - deny by default: DenyByDefaultGuard refuses (401) every route not marked
 *   @Public() unless the Authenticator accepts the request's credentials;
 * - validation at the edge: request bodies, params and queries typed with DTO
 *   classes are validated with class-validator; unknown fields are refused
 *   (400 naming them), values are transformed to the declared types.
 */
@Module({
  providers: [
    { provide: Authenticator, useClass: NoSignInAuthenticator },
    { provide: APP_GUARD, useClass: DenyByDefaultGuard },
    {
      provide: APP_PIPE,
      useFactory: () =>
        new ValidationPipe({
          whitelist: true,
          forbidNonWhitelisted: true,
          transform: true,
          forbidUnknownValues: true,
        }),
    },
  ],
  exports: [Authenticator],
})
export class SecurityModule {}
