/**
 * Helpers for the Vitest specs (never part of the app build: see tsconfig.app.json).
 */
import { type TestRequest, HttpTestingController } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';

import { type Role, Session } from '../core/session';

/** The well-known development mnemonic (its keys are public): for tests only. */
export const TEST_MNEMONIC = 'test test test test test test test test test test test junk';
/** Development account #5 of TEST_MNEMONIC, the demo patient. */
export const PATIENT_ADDRESS = '0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc';
/** Development account #1, a demo provider. */
export const PROVIDER_ADDRESS = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
/** The local chain and a contract address, for signing contexts. */
export const CHAIN_ID = 31337;
export const CONTRACT = '0x5fbdb2315678afecb367f032d93f642f64180aa3';

/** Signs in through the real Session, answering its `GET /auth/me` with `roles`. */
export async function signInForTest(roles: Role[] = [], address = PATIENT_ADDRESS): Promise<void> {
  const session = TestBed.inject(Session);
  const http = TestBed.inject(HttpTestingController);
  const started = session.start({
    token: 'test-token',
    address,
    expiresAt: new Date(Date.now() + 3600_000).toISOString(),
  });
  http.expectOne('/auth/me').flush({ address, roles });
  await started;
}

/** Waits until `condition()` holds (polling), failing after `timeoutMs`. */
export async function until(condition: () => boolean, what = 'condition', timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Waits for one request matching method and URL (path, query ignored) and returns it. */
export async function nextRequest(method: string, path: string, timeoutMs = 5000): Promise<TestRequest> {
  const http = TestBed.inject(HttpTestingController);
  const match = () => http.match((r) => r.method === method && r.url === path);
  let found: TestRequest[] = [];
  await until(
    () => {
      found = match();
      return found.length > 0;
    },
    `${method} ${path}`,
    timeoutMs,
  );
  if (found.length > 1) throw new Error(`expected one ${method} ${path}, got ${found.length}`);
  return found[0]!;
}

/** The element with `data-testid="<id>"` under `root` (throws when missing). */
export function byTestId<T extends HTMLElement = HTMLElement>(root: ParentNode, id: string): T {
  const element = root.querySelector<T>(`[data-testid="${id}"]`);
  if (!element) throw new Error(`no element with data-testid="${id}"`);
  return element;
}

/** Every element with `data-testid="<id>"` under `root`. */
export function allByTestId<T extends HTMLElement = HTMLElement>(root: ParentNode, id: string): T[] {
  return Array.from(root.querySelectorAll<T>(`[data-testid="${id}"]`));
}

/** Sets an input's value as typing would (fires `input`). */
export function type(input: HTMLInputElement | HTMLTextAreaElement, value: string): void {
  input.value = value;
  input.dispatchEvent(new Event('input', { bubbles: true }));
}
