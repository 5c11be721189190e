// Helpers for tests that boot the app and sign in: a clock tests move by hand,
// a role directory and an access-decision recorder tests control and inspect,
// and a way to boot AppModule with those bound.
import type { DynamicModule } from '@nestjs/common';
import type { Role } from '@custos/domain';
import type { Wallet, HDNodeWallet } from 'ethers';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { SiweMessage } from 'siwe';
import type { AccessDecision } from './access-decision-recorder';
import { AccessDecisionRecorder } from './access-decision-recorder';
import { AuthModule, type AuthModuleOptions } from './auth.module';
import type { NonceResponse } from './auth.dto';
import { Clock } from './clock';
import { RoleDirectory } from './role-directory';

export class ManualClock extends Clock {
  constructor(private time: number = Date.now()) {
    super();
  }
  now(): number {
    return this.time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

/** Roles set by the test; changes apply to the next request, as on-chain changes do. */
export class TestRoleDirectory extends RoleDirectory {
  private readonly roles = new Map<string, Role[]>();
  grant(address: string, ...roles: Role[]): void {
    const key = address.toLowerCase();
    this.roles.set(key, [...new Set([...(this.roles.get(key) ?? []), ...roles])]);
  }
  revoke(address: string, role: Role): void {
    const key = address.toLowerCase();
    this.roles.set(
      key,
      (this.roles.get(key) ?? []).filter((r) => r !== role),
    );
  }
  rolesOf(address: string): Promise<readonly Role[]> {
    return Promise.resolve(this.roles.get(address) ?? []);
  }
}

export class RecordingAccessDecisionRecorder extends AccessDecisionRecorder {
  readonly decisions: AccessDecision[] = [];
  record(decision: AccessDecision): Promise<void> {
    this.decisions.push(decision);
    return Promise.resolve();
  }
}

/**
 * AppModule.forRoot(config) (or a module importing it) with AuthModule's ports
 * bound as given: the rest of the app is unchanged.
 */
export function withAuthBindings(root: DynamicModule, options: AuthModuleOptions): DynamicModule {
  let found = false;
  const imports = (root.imports ?? []).map((entry) => {
    if (
      entry === AuthModule ||
      (typeof entry === 'object' && 'module' in entry && entry.module === AuthModule)
    ) {
      found = true;
      return AuthModule.forRoot(options);
    }
    return entry;
  });
  if (!found) throw new Error('withAuthBindings: the module does not import AuthModule');
  return { ...root, imports };
}

type Request = (options: InjectOptions) => Promise<LightMyRequestResponse>;

/** Fields of the message to sign, built from a POST /auth/nonce answer; override any to test refusals. */
export function siweFields(wallet: Wallet | HDNodeWallet, nonce: NonceResponse): Partial<SiweMessage> {
  return {
    domain: nonce.domain,
    address: wallet.address,
    statement: nonce.statement,
    uri: nonce.uri,
    version: '1',
    chainId: nonce.chainId,
    nonce: nonce.nonce,
    issuedAt: nonce.issuedAt,
    expirationTime: nonce.expirationTime,
  };
}

/** Signs in as `wallet` through POST /auth/nonce and /auth/verify; returns the Bearer token. */
export async function signIn(request: Request, wallet: Wallet | HDNodeWallet): Promise<string> {
  const nonce = (await request({ method: 'POST', url: '/auth/nonce' })).json<NonceResponse>();
  const message = new SiweMessage(siweFields(wallet, nonce)).prepareMessage();
  const signature = await wallet.signMessage(message);
  const res = await request({ method: 'POST', url: '/auth/verify', payload: { message, signature } });
  if (res.statusCode !== 200) throw new Error(`sign-in failed: ${res.statusCode} ${res.body}`);
  return res.json<{ token: string }>().token;
}
