// TokenAuthenticator remembers what it verified (a token's signature, an address's EIP-55 spelling) so
// that a client's repeated requests cost no HMAC or keccak; what changes with time is checked each time.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { Wallet } from 'ethers';
import type { FastifyRequest } from 'fastify';
import { RevokedSessions } from './revoked-sessions';
import { SessionTokens } from './session-tokens';
import { ManualClock } from './testing';
import { TokenAuthenticator } from './token-authenticator';

const TTL = 15 * 60_000;
const dataDir = mkdtempSync(path.join(tmpdir(), 'custos-token-authenticator-'));
const revoked = new RevokedSessions(dataDir, Date.now());
after(() => {
  revoked.onModuleDestroy();
  rmSync(dataDir, { recursive: true, force: true });
});

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } }) as FastifyRequest;

function setUp() {
  const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
  const tokens = new SessionTokens('s'.repeat(48), TTL, clock, revoked);
  return { clock, tokens, authenticator: new TokenAuthenticator(tokens) };
}

test('a token accepted before is refused once it is revoked or expired', () => {
  const { clock, tokens, authenticator } = setUp();
  const wallet = Wallet.createRandom();
  const first = tokens.issue(wallet.address);
  const second = tokens.issue(wallet.address);
  for (let i = 0; i < 3; i++) {
    const result = authenticator.authenticate(bearer(first.token));
    assert.deepEqual(result, { authenticated: true, principal: { address: wallet.address, roles: [] } });
  }
  tokens.revoke(first.claims);
  assert.deepEqual(authenticator.authenticate(bearer(first.token)), {
    authenticated: false,
    reason: 'token revoked',
  });
  assert.equal(authenticator.authenticate(bearer(second.token)).authenticated, true);
  clock.advance(TTL);
  assert.deepEqual(authenticator.authenticate(bearer(second.token)), {
    authenticated: false,
    reason: 'token expired',
  });
});

test('a token that differs from an accepted one in any character is checked afresh and refused', () => {
  const { tokens, authenticator } = setUp();
  const { token } = tokens.issue(Wallet.createRandom().address);
  assert.equal(authenticator.authenticate(bearer(token)).authenticated, true);
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const flipped = (s: string) => (s.endsWith('A') ? `${s.slice(0, -1)}B` : `${s.slice(0, -1)}A`);
  for (const tampered of [
    `${header}.${payload}.${flipped(signature)}`,
    `${header}.${flipped(payload)}.${signature}`,
  ]) {
    assert.equal(authenticator.authenticate(bearer(tampered)).authenticated, false, tampered);
  }
  assert.equal(authenticator.authenticate(bearer(token)).authenticated, true);
});
