import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ServiceUnavailableException } from '@nestjs/common';
import { NonceStore } from './nonce-store';
import { ManualClock } from './testing';

const TTL = 5 * 60_000;

describe('NonceStore', () => {
  test('a nonce is good once, within its lifetime', () => {
    const clock = new ManualClock();
    const store = new NonceStore(TTL, clock);
    const { nonce, issuedAt, expiresAt } = store.issue();
    assert.match(nonce, /^[0-9a-f]{32}$/);
    assert.equal(expiresAt - issuedAt, TTL);
    clock.advance(TTL - 1);
    assert.equal(store.consume(nonce), 'ok');
    assert.equal(store.consume(nonce), 'unknown');
    assert.equal(store.consume('never-issued'), 'unknown');
  });

  test('an expired nonce is refused, and used up by the attempt', () => {
    const clock = new ManualClock();
    const store = new NonceStore(TTL, clock);
    const { nonce } = store.issue();
    clock.advance(TTL);
    assert.equal(store.consume(nonce), 'expired');
    assert.equal(store.consume(nonce), 'unknown');
  });

  test('nonces are random', () => {
    const store = new NonceStore(TTL, new ManualClock());
    const nonces = new Set(Array.from({ length: 1000 }, () => store.issue().nonce));
    assert.equal(nonces.size, 1000);
  });

  test('bounded: beyond its capacity it refuses with 503 until nonces expire or are used', () => {
    const clock = new ManualClock();
    const store = new NonceStore(TTL, clock, 3);
    const first = store.issue();
    store.issue();
    clock.advance(60_000);
    store.issue();
    assert.throws(
      () => store.issue(),
      (error: unknown) => error instanceof ServiceUnavailableException && error.getStatus() === 503,
    );
    assert.equal(store.consume(first.nonce), 'ok');
    store.issue(); // a used nonce frees its place
    clock.advance(TTL - 60_000); // the first two expire; the third does not yet
    store.issue();
    assert.equal(store.size, 3, 'expired nonces are evicted when a new one is issued');
  });
});
