import { Body, Controller, Get, Header, HttpCode, HttpStatus, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Public } from '../security/public.decorator';
import { type MeResponse, type NonceResponse, type SessionResponse, VerifyBody } from './auth.dto';
import { SessionTokens } from './session-tokens';
import { SignInService } from './sign-in.service';
import { TokenAuthenticator } from './token-authenticator';

/**
 * Sign-In with Ethereum:
 * 1. POST /auth/nonce: a one-time nonce and the fields of the message to sign;
 * 2. the wallet signs the EIP-4361 message built from them (personal_sign);
 * 3. POST /auth/verify { message, signature }: a Bearer session token;
 * then GET /auth/me, and POST /auth/sign-out to revoke the token.
 */
@Controller('auth')
export class AuthController {
  constructor(
    private readonly signIn: SignInService,
    private readonly authenticator: TokenAuthenticator,
    private readonly tokens: SessionTokens,
  ) {}

  @Public()
  @Post('nonce')
  @Header('cache-control', 'no-store')
  nonce(): NonceResponse {
    return this.signIn.nonce();
  }

  @Public()
  @Post('verify')
  @HttpCode(HttpStatus.OK)
  @Header('cache-control', 'no-store')
  verify(@Body() body: VerifyBody): Promise<SessionResponse> {
    return this.signIn.verify(body.message, body.signature);
  }

  /** Revokes the token presented: it is refused from now on, until it would have expired anyway. */
  @Post('sign-out')
  @HttpCode(HttpStatus.NO_CONTENT)
  signOut(@Req() request: FastifyRequest): void {
    const session = this.authenticator.sessionOf(request);
    if (session) this.tokens.revoke(session);
  }

  /** The signed-in account and its roles on the chain now. */
  @Get('me')
  @Header('cache-control', 'no-store')
  me(@Req() request: FastifyRequest): MeResponse {
    const principal = request.principal!; // set by the global guards: this route is not public
    return { address: principal.address, roles: principal.roles };
  }
}
