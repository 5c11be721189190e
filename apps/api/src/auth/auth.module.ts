import { type DynamicModule, Module, type ModuleMetadata, type Provider, type Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { APP_CONFIG, type AppConfig } from '../config';
import { Authenticator } from '../security/authenticator';
import { AccessDecisionRecorder, NoopAccessDecisionRecorder } from './access-decision-recorder';
import { AuthController } from './auth.controller';
import { Clock, SystemClock } from './clock';
import { NonceStore } from './nonce-store';
import { RevokedSessions } from './revoked-sessions';
import { NoRoleDirectory, RoleDirectory } from './role-directory';
import { RolesGuard } from './roles.guard';
import { SessionTokens } from './session-tokens';
import { SignInService } from './sign-in.service';
import { TokenAuthenticator } from './token-authenticator';

/** A class to instantiate (with its dependencies injected) or a ready instance. */
export type Binding<T> = Type<T> | T;

export interface AuthModuleOptions {
  /** Modules the bindings below depend on (not needed for global modules). */
  imports?: ModuleMetadata['imports'];
  /** Where current roles come from; default: nobody holds a role. */
  roleDirectory?: Binding<RoleDirectory>;
  /** Where refusals are recorded; default: dropped. */
  accessDecisionRecorder?: Binding<AccessDecisionRecorder>;
  /** Time for nonces, tokens and message validity; default: the system clock. */
  clock?: Binding<Clock>;
}

/**
 * Sign-in and authorization: Sign-In with Ethereum (/auth/*), the session
 * tokens, the Authenticator used by DenyByDefaultGuard and the unmatched-route
 * filter, and the global RolesGuard behind @Roles(...).
 *
 * Global, so that SecurityModule's guard and WebAppModule's filter get this
 * module's Authenticator and AccessDecisionRecorder. Import it once, in
 * AppModule, with the bindings of its ports:
 *
 *   AuthModule.forRoot({ imports: [...], roleDirectory: X, accessDecisionRecorder: Y })
 */
@Module({})
export class AuthModule {
  static forRoot(options: AuthModuleOptions = {}): DynamicModule {
    return {
      module: AuthModule,
      global: true,
      imports: options.imports ?? [],
      controllers: [AuthController],
      providers: [
        bind(Clock, options.clock ?? SystemClock),
        bind(RoleDirectory, options.roleDirectory ?? NoRoleDirectory),
        bind(AccessDecisionRecorder, options.accessDecisionRecorder ?? NoopAccessDecisionRecorder),
        {
          provide: NonceStore,
          inject: [APP_CONFIG, Clock],
          useFactory: (config: AppConfig, clock: Clock) => new NonceStore(config.SIWE_NONCE_TTL, clock),
        },
        {
          provide: RevokedSessions,
          inject: [APP_CONFIG, Clock],
          useFactory: (config: AppConfig, clock: Clock) =>
            new RevokedSessions(config.CUSTOS_DATA_DIR, clock.now()),
        },
        {
          provide: SessionTokens,
          inject: [APP_CONFIG, Clock, RevokedSessions],
          useFactory: (config: AppConfig, clock: Clock, revoked: RevokedSessions) =>
            new SessionTokens(config.AUTH_TOKEN_SECRET, config.AUTH_TOKEN_TTL, clock, revoked),
        },
        SignInService,
        TokenAuthenticator,
        { provide: Authenticator, useExisting: TokenAuthenticator },
        // After SecurityModule's DenyByDefaultGuard (AppModule imports SecurityModule first).
        { provide: APP_GUARD, useClass: RolesGuard },
      ],
      exports: [Authenticator, RoleDirectory, AccessDecisionRecorder, Clock],
    };
  }
}

function bind<T>(token: abstract new (...args: never[]) => T, binding: Binding<T>): Provider {
  return typeof binding === 'function'
    ? { provide: token, useClass: binding as Type<T> }
    : { provide: token, useValue: binding };
}
