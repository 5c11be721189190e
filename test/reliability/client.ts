// The light half of the reliability suites' helpers, shared with the load generator process: a
// keep-alive HTTP client, the people it signs in as, and patients' signed consents. (harness.ts has the
// rest; it loads the whole API, which the generator does not need.)
import http from 'node:http';
import { Wallet } from 'ethers';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { type CategoryName, categoryId, consentDomain, consentTypedData } from '../../libs/chain/src';

export const ANVIL_CHAIN_ID = 31337;
export const DAY = 24 * 3600;
export const lower = (address: string) => address.toLowerCase();
export const nowSeconds = () => Math.floor(Date.now() / 1000);
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The nearest-rank p-th percentile. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

// ------------------------------------------------------------------------------------------- HTTP

export interface HttpAnswer {
  status: number;
  body: string;
  json<T = unknown>(): T;
}

/**
 * A keep-alive HTTP/1.1 client for one base URL (node:http: cheaper per request than fetch, so the
 * load generator measures the API rather than itself). Rejects on a network error (refused, reset).
 */
export class HttpClient {
  private readonly agent: http.Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(
    readonly baseUrl: string,
    maxSockets = 64,
  ) {
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port);
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
  }

  request(
    method: string,
    url: string,
    options: { token?: string; body?: unknown; timeoutMs?: number } = {},
  ): Promise<HttpAnswer> {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = {};
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: this.host, port: this.port, method, path: url, headers, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode ?? 0, body, json: <T>() => JSON.parse(body) as T });
          });
        },
      );
      req.setTimeout(options.timeoutMs ?? 30_000, () => req.destroy(new Error('request timed out')));
      req.on('error', reject);
      req.end(payload);
    });
  }

  get(url: string, token?: string): Promise<HttpAnswer> {
    return this.request('GET', url, { token });
  }

  post(url: string, body: unknown, token?: string): Promise<HttpAnswer> {
    return this.request('POST', url, { token, body });
  }

  close(): void {
    this.agent.destroy();
  }

  /** `inject`-shaped requests, for helpers written against Fastify's inject (sign-in). */
  readonly inject = async (options: InjectOptions): Promise<LightMyRequestResponse> => {
    const answer = await this.request(options.method ?? 'GET', options.url as string, {
      body: options.payload,
    });
    return {
      statusCode: answer.status,
      body: answer.body,
      json: () => answer.json(),
    } as unknown as LightMyRequestResponse;
  };
}

/** A person with a wallet, signed in through the API. */
export interface Person {
  privateKey: string;
  address: string;
  token: string;
}

/** A patient's EIP-712 `Grant`, as POST /consents/grants takes it. */
export async function signGrant(
  contract: string,
  patient: Pick<Person, 'privateKey'>,
  provider: string,
  category: CategoryName,
  nonce: number,
) {
  const wallet = new Wallet(patient.privateKey);
  const expiresAt = nowSeconds() + 30 * DAY;
  const deadline = nowSeconds() + 3600;
  const data = consentTypedData('Grant', consentDomain(ANVIL_CHAIN_ID, contract), {
    patient: wallet.address,
    provider,
    category: categoryId(category),
    expiresAt,
    nonce,
    deadline,
  });
  const signature = await wallet.signTypedData(data.domain, data.types, data.message);
  return {
    patient: lower(wallet.address),
    provider: lower(provider),
    category,
    expiresAt,
    deadline,
    signature,
  };
}
