import { BadRequestException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { getAddress, verifyMessage } from 'ethers';
import { SiweErrorType, SiweMessage } from 'siwe';
import { APP_CONFIG, type AppConfig } from '../config';
import type { NonceResponse, SessionResponse } from './auth.dto';
import { Clock } from './clock';
import { NonceStore } from './nonce-store';
import { SessionTokens } from './session-tokens';

export const SIGN_IN_STATEMENT = 'Sign in to Custos to manage access to your health records.';

/**
 * Sign-In with Ethereum (EIP-4361): hands out nonces and exchanges a signed
 * message for a session token. Externally owned accounts only (no EIP-1271
 * contract wallets: that would need a chain call per sign-in).
 */
@Injectable()
export class SignInService {
  private readonly domain: string;
  private readonly scheme: string;
  private readonly uri: string;
  private readonly chainId: number;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly nonces: NonceStore,
    private readonly tokens: SessionTokens,
    private readonly clock: Clock,
  ) {
    const publicUrl = new URL(config.PUBLIC_URL);
    this.domain = publicUrl.host;
    this.scheme = publicUrl.protocol.slice(0, -1);
    this.uri = config.PUBLIC_URL;
    this.chainId = config.CHAIN_ID;
  }

  nonce(): NonceResponse {
    const issued = this.nonces.issue();
    return {
      nonce: issued.nonce,
      domain: this.domain,
      uri: this.uri,
      chainId: this.chainId,
      statement: SIGN_IN_STATEMENT,
      issuedAt: new Date(issued.issuedAt).toISOString(),
      expirationTime: new Date(issued.expiresAt).toISOString(),
    };
  }

  async verify(text: string, signature: string): Promise<SessionResponse> {
    let message: SiweMessage;
    try {
      message = new SiweMessage(text);
    } catch {
      // Burn whatever nonce the text names, so that it cannot be tried again either.
      for (const [, nonce] of text.matchAll(/^Nonce: (\w+)$/gm)) this.nonces.consume(nonce!);
      throw new BadRequestException(['message must be a Sign-In with Ethereum (EIP-4361) message']);
    }

    // The nonce is used up by this attempt whatever its outcome.
    const nonceUse = this.nonces.consume(message.nonce);
    if (nonceUse === 'unknown') throw refused('unknown, already used or expired nonce');
    if (nonceUse === 'expired') throw refused('nonce expired');
    if (message.domain !== this.domain) throw refused(`wrong domain (expected ${this.domain})`);
    if (message.scheme !== undefined && message.scheme !== this.scheme) {
      throw refused(`wrong scheme (expected ${this.scheme})`);
    }
    if (message.uri !== this.uri) throw refused(`wrong uri (expected ${this.uri})`);
    if (message.chainId !== this.chainId) throw refused(`wrong chain id (expected ${this.chainId})`);
    const now = this.clock.now();
    if (message.expirationTime !== undefined && now >= Date.parse(message.expirationTime)) {
      throw refused('message expired');
    }
    if (message.notBefore !== undefined && now < Date.parse(message.notBefore)) {
      throw refused('message not yet valid');
    }

    // siwe logs to the console when the signature cannot be decoded; refuse those first.
    try {
      verifyMessage(message.prepareMessage(), signature);
    } catch {
      throw refused('bad signature');
    }
    const result = await message.verify(
      { signature, domain: this.domain, nonce: message.nonce, time: new Date(now).toISOString() },
      { suppressExceptions: true }, // no provider: EOA signatures only, no chain call
    );
    if (!result.success) throw refused(reasonOf(result.error?.type));

    const address = getAddress(message.address);
    const issued = this.tokens.issue(address);
    return { token: issued.token, expiresAt: new Date(issued.claims.exp * 1000).toISOString(), address };
  }
}

function refused(reason: string): UnauthorizedException {
  return new UnauthorizedException(`Sign-in refused: ${reason}.`);
}

function reasonOf(type: string | undefined): string {
  switch (type) {
    case SiweErrorType.EXPIRED_MESSAGE:
      return 'message expired';
    case SiweErrorType.NOT_YET_VALID_MESSAGE:
      return 'message not yet valid';
    case SiweErrorType.DOMAIN_MISMATCH:
      return 'wrong domain';
    case SiweErrorType.NONCE_MISMATCH:
      return 'unknown, already used or expired nonce';
    default:
      return 'bad signature';
  }
}
