import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ServiceUnavailableException } from '@nestjs/common';
import { Wallet } from 'ethers';
import type { Clock } from './clock';
import { RevokedSessions } from './revoked-sessions';
import { SessionTokens } from './session-tokens';
import { ManualClock } from './testing';

const TTL = 15 * 60_000;
const SECRET = 's'.repeat(48);
const address = () => Wallet.createRandom().address;

const opened: RevokedSessions[] = [];
const dataDirs: string[] = [];
after(() => {
  for (const list of opened) list.onModuleDestroy();
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

/** The revocation list in `dataDir` (a new folder by default), as the API opens it at start. */
function revokedSessions(clock: Clock, dataDir = newDataDir(), capacity?: number): RevokedSessions {
  const list = new RevokedSessions(dataDir, clock.now(), capacity);
  opened.push(list);
  return list;
}

function newDataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'custos-tokens-'));
  dataDirs.push(dir);
  return dir;
}

function sessionTokens(secret: string | undefined, clock: Clock, revoked = revokedSessions(clock)) {
  return new SessionTokens(secret, TTL, clock, revoked);
}

describe('SessionTokens', () => {
  test('issues HS256 JWTs with sub (lower-case), iat, exp, jti and accepts them until exp', () => {
    const clock = new ManualClock(Date.parse('2030-01-01T00:00:00.250Z'));
    const tokens = sessionTokens(SECRET, clock);
    const who = address();
    const { token, claims } = tokens.issue(who);
    assert.equal(claims.sub, who.toLowerCase());
    assert.equal(claims.iat, Date.parse('2030-01-01T00:00:00Z') / 1000);
    assert.equal(claims.exp, claims.iat + TTL / 1000);
    assert.match(claims.jti, /^[0-9a-f]{32}$/);
    assert.deepEqual(tokens.check(token), { valid: true, claims });
    clock.advance(TTL - 251);
    assert.equal(tokens.check(token).valid, true);
    clock.advance(1);
    assert.deepEqual(tokens.check(token), { valid: false, reason: 'token expired' });
  });

  test('every token has its own jti', () => {
    const tokens = sessionTokens(SECRET, new ManualClock());
    const who = address();
    assert.notEqual(tokens.issue(who).claims.jti, tokens.issue(who).claims.jti);
  });

  test('the same secret verifies across instances (a restart with AUTH_TOKEN_SECRET set); another does not', () => {
    const clock = new ManualClock();
    const { token } = sessionTokens(SECRET, clock).issue(address());
    assert.equal(sessionTokens(SECRET, clock).check(token).valid, true);
    assert.deepEqual(sessionTokens('t'.repeat(48), clock).check(token), {
      valid: false,
      reason: 'bad signature',
    });
    assert.deepEqual(sessionTokens(undefined, clock).check(token), {
      valid: false,
      reason: 'bad signature',
    });
  });

  test('any change to a token is refused', () => {
    const tokens = sessionTokens(SECRET, new ManualClock());
    const { token } = tokens.issue(address());
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    for (let i = 0; i < payload.length; i += 7) {
      assert.equal(tokens.check(`${header}.${flip(payload, i)}.${signature}`).valid, false);
    }
    for (let i = 0; i < signature.length - 1; i += 5) {
      assert.deepEqual(tokens.check(`${header}.${payload}.${flip(signature, i)}`), {
        valid: false,
        reason: 'bad signature',
      });
    }
    assert.deepEqual(tokens.check(`${flip(header, 3)}.${payload}.${signature}`), {
      valid: false,
      reason: 'malformed token',
    });
  });

  for (const malformed of [
    '',
    'abc',
    'a.b',
    'a.b.c.d',
    'a.b.c',
    '..',
    'a b.c.d',
    `${'a'.repeat(2000)}.b.c`,
  ]) {
    test(`"${malformed.slice(0, 20)}" is a malformed token`, () => {
      const tokens = sessionTokens(SECRET, new ManualClock());
      assert.deepEqual(tokens.check(malformed), { valid: false, reason: 'malformed token' });
    });
  }

  test('a revoked token is refused until it expires; the list forgets expired ones', () => {
    const clock = new ManualClock();
    const tokens = sessionTokens(SECRET, clock, revokedSessions(clock, newDataDir(), 4));
    const issued = Array.from({ length: 4 }, () => tokens.issue(address()));
    tokens.revoke(issued[0]!.claims);
    assert.deepEqual(tokens.check(issued[0]!.token), { valid: false, reason: 'token revoked' });
    assert.equal(tokens.check(issued[1]!.token).valid, true);
    tokens.revoke(issued[1]!.claims);
    tokens.revoke(issued[2]!.claims);
    tokens.revoke(issued[3]!.claims);
    assert.throws(
      () => tokens.revoke(tokens.issue(address()).claims),
      (error: unknown) => error instanceof ServiceUnavailableException,
      'bounded: refuses rather than forgets an unexpired revocation',
    );
    clock.advance(TTL);
    const later = tokens.issue(address());
    tokens.revoke(later.claims); // the expired revocations were dropped to make room
    assert.deepEqual(tokens.check(later.token), { valid: false, reason: 'token revoked' });
  });

  test('a revocation survives a restart: the list is a file in the data folder', () => {
    const clock = new ManualClock();
    const dataDir = newDataDir();
    const running = sessionTokens(SECRET, clock, revokedSessions(clock, dataDir));
    const signedOut = running.issue(address());
    const signedIn = running.issue(address());
    running.revoke(signedOut.claims);
    opened.pop()!.onModuleDestroy(); // the API stops

    clock.advance(60_000);
    const restarted = sessionTokens(SECRET, clock, revokedSessions(clock, dataDir));
    assert.deepEqual(restarted.check(signedOut.token), { valid: false, reason: 'token revoked' });
    assert.equal(restarted.check(signedIn.token).valid, true);
  });

  test('a restart forgets the revocations of tokens that have expired since', () => {
    const clock = new ManualClock();
    const dataDir = newDataDir();
    const running = sessionTokens(SECRET, clock, revokedSessions(clock, dataDir));
    running.revoke(running.issue(address()).claims);
    opened.pop()!.onModuleDestroy();
    clock.advance(TTL);
    assert.equal(revokedSessions(clock, dataDir).size, 0);
  });
});
