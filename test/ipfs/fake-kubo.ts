/**
 * A stand-in for a Kubo (IPFS) daemon's RPC API, for the blob store tests: no Kubo daemon can be run
 * or reached from the project's machines (only the npm registry and Debian packages are, and Debian
 * does not package Kubo), so kubo.blob-store.spec.ts runs against this server unless IPFS_API_URL
 * names a real node.
 *
 * It implements only the endpoints the Kubo adapter calls, following Kubo's RPC reference
 * (https://docs.ipfs.tech/reference/kubo/rpc/): POST only (405 otherwise), 404 for other paths,
 * errors as `{"Message", "Code", "Type": "error"}` JSON with 500 (Code 0, the command failed) or 400
 * (Code 1, a bad request), and:
 * - `add`: a multipart file; `cid-version` (default 0), `raw-leaves` (default: true for CIDv1),
 *   `chunker` (size-N), `hash` (sha2-256), `pin` (default true); answers an NDJSON line
 *   `{"Name", "Hash", "Size"}` with Size the cumulative DAG size as a string.
 * - `cat`: `arg` = CID or /ipfs/CID; the bytes. `files/stat`: `arg` = /ipfs/CID; `{"Hash", "Size",
 *   "CumulativeSize", "Blocks", "Type": "file"}` with Size the file's length.
 * - `pin/rm`: `arg`; `{"Pins": [CID]}`.
 * - The global `offline` flag: a CID the node lacks fails at once with Kubo's message
 *   "block was not found locally (offline): ipld: could not find <cid>". Without it a real node
 *   searches the network, so this one waits until `timeout` or until the client gives up.
 * CIDs are computed with the node's settings (`fileMaxLinks` stands for Import.UnixFSFileMaxLinks);
 * the bytes are kept with the file blob store in a temporary folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isContentAddress, KUBO_CID_V1_ADD, unixfsFile } from '@custos/records';
import type { WritableStorage } from 'ipfs-unixfs-importer';
import { CID } from 'multiformats/cid';
import { FsBlobStore } from '../../apps/api/src/blob-store/fs.blob-store';

/** The multicodec of raw leaves (and of a single-chunk file's own CID). */
const RAW_CODEC = 0x55;

export interface FakeKuboOptions {
  /** Where the bytes are kept (default: a new temporary folder, removed on close). */
  folder?: string;
  /** The node's Import.UnixFSFileMaxLinks (Kubo's default: 174). */
  fileMaxLinks?: number;
}

export interface RecordedRequest {
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
}

export interface FakeKubo {
  /** The RPC API's address, as IPFS_API_URL would give it. */
  url: string;
  folder: string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Recursively pinned CIDs, as `add` printed them. */
  pinned: Set<string>;
  /** Bytes to serve for a CID instead of the stored ones (a node or a network that damaged them). */
  serveInstead: Map<string, Uint8Array>;
  close(): Promise<void>;
}

class RpcError extends Error {
  constructor(
    readonly status: 400 | 500,
    message: string,
  ) {
    super(message);
  }
}

export async function startFakeKubo(options: FakeKuboOptions = {}): Promise<FakeKubo> {
  const ownFolder = options.folder === undefined;
  const folder = options.folder ?? mkdtempSync(path.join(tmpdir(), 'custos-fake-kubo-'));
  const blobs = new FsBlobStore({ dataDir: folder });
  const fileMaxLinks = options.fileMaxLinks ?? KUBO_CID_V1_ADD.maxLinksPerNode;
  /** Printed CID → content address of the stored bytes, where the node's settings made them differ. */
  const addressOf = new Map<string, string>();
  const requests: RecordedRequest[] = [];
  const pinned = new Set<string>();
  const serveInstead = new Map<string, Uint8Array>();
  const waiting = new Set<ServerResponse>();
  /**
   * An importer block store that keeps nothing, counting the leaves under a dag-pb root: its links, for
   * the one-level DAGs of blobs up to 174 chunks (43.5 MiB).
   */
  const countLeaves = (counted: { leaves: number }): WritableStorage => ({
    put: (cid) => {
      if (cid.code === RAW_CODEC) counted.leaves++;
      return cid;
    },
  });

  async function storedBytes(cid: string): Promise<Uint8Array | null> {
    const address = addressOf.get(cid) ?? cid;
    if (!isContentAddress(address)) return null;
    return blobs.get(address);
  }

  async function add(request: IncomingMessage, query: URLSearchParams): Promise<unknown> {
    const cidVersion = Number(query.get('cid-version') ?? 0);
    if (cidVersion !== 0 && cidVersion !== 1) throw new RpcError(500, `unknown CID version: ${cidVersion}`);
    const rawLeaves = flag(query, 'raw-leaves', cidVersion === 1);
    const chunker = /^size-(\d+)$/.exec(query.get('chunker') ?? `size-${KUBO_CID_V1_ADD.chunkSize}`);
    if (!chunker) throw new RpcError(500, 'fake-kubo implements only the size-N chunker');
    if ((query.get('hash') ?? 'sha2-256') !== 'sha2-256')
      throw new RpcError(500, 'fake-kubo implements only sha2-256');
    if (flag(query, 'trickle', false))
      throw new RpcError(500, 'fake-kubo implements only the balanced layout');

    const form = await new Request('http://fake-kubo/', {
      method: 'POST',
      headers: { 'content-type': request.headers['content-type'] ?? '' },
      body: await readBody(request),
    }).formData();
    const file = [...form.values()].find((value) => typeof value !== 'string') as
      (Blob & { name: string }) | undefined;
    if (!file) throw new RpcError(400, "File argument 'path' is required");
    const bytes = new Uint8Array(await file.arrayBuffer());

    const imported = await unixfsFile(bytes, {
      cidVersion,
      rawLeaves,
      chunkSize: Number(chunker[1]),
      maxLinksPerNode: fileMaxLinks,
    });
    const hash = imported.cid.toString();
    const { cid: address } = await blobs.put(bytes);
    if (address !== hash) addressOf.set(hash, address);
    if (flag(query, 'pin', true)) pinned.add(hash);
    return { Name: decodeURIComponent(file.name) || hash, Hash: hash, Size: String(imported.dagSize) };
  }

  /** The CID in `arg` (a CID or /ipfs/CID), or a 400/500 as Kubo gives them. */
  function cidArgument(query: URLSearchParams, name: string): string {
    const arg = query.get('arg');
    if (!arg) throw new RpcError(400, `argument "${name}" is required`);
    const text = arg.replace(/^\/ipfs\//, '');
    try {
      return CID.parse(text).toString();
    } catch {
      throw new RpcError(500, `invalid path "${arg}": invalid cid: ${text}`);
    }
  }

  /** Offline: Kubo's not-found error now. Online: a real node searches; wait as it would. */
  async function missing(cid: string, query: URLSearchParams, response: ServerResponse): Promise<never> {
    if (flag(query, 'offline', false))
      throw new RpcError(500, `block was not found locally (offline): ipld: could not find ${cid}`);
    waiting.add(response);
    await new Promise<void>((resolve) => {
      response.once('close', resolve);
      const timeout = parseDuration(query.get('timeout'));
      if (timeout !== undefined) setTimeout(resolve, timeout).unref();
    });
    waiting.delete(response);
    throw new RpcError(500, 'context deadline exceeded');
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake-kubo');
    requests.push({
      path: url.pathname,
      query: url.searchParams,
      authorization: request.headers.authorization,
    });
    if (!url.pathname.startsWith('/api/v0/')) return text(response, 404, '404 page not found');
    if (request.method !== 'POST') return text(response, 405, '405 - Method Not Allowed');
    const query = url.searchParams;
    switch (url.pathname.slice('/api/v0/'.length)) {
      case 'add': {
        const line = await add(request, query);
        response.writeHead(200, {
          'content-type': 'application/json',
          'x-chunked-output': '1',
          trailer: 'X-Stream-Error',
        });
        response.end(`${JSON.stringify(line)}\n`);
        return;
      }
      case 'cat': {
        const cid = cidArgument(query, 'ipfs-path');
        const bytes = serveInstead.get(cid) ?? (await storedBytes(cid));
        if (!bytes) return missing(cid, query, response);
        response.writeHead(200, {
          'content-type': 'text/plain',
          'x-stream-output': '1',
          'x-content-length': String(bytes.length),
          trailer: 'X-Stream-Error',
        });
        response.end(bytes);
        return;
      }
      case 'files/stat': {
        const cid = cidArgument(query, 'path');
        const bytes = await storedBytes(cid);
        if (!bytes) return missing(cid, query, response);
        const counted = { leaves: 0 };
        const { dagSize } = await unixfsFile(bytes, KUBO_CID_V1_ADD, countLeaves(counted));
        const root = CID.parse(cid);
        return json(response, 200, {
          Hash: cid,
          Size: bytes.length,
          CumulativeSize: dagSize,
          Blocks: root.code === RAW_CODEC ? 0 : counted.leaves,
          Type: 'file',
        });
      }
      case 'pin/rm': {
        const cid = cidArgument(query, 'ipfs-path');
        if (!pinned.delete(cid)) throw new RpcError(500, 'not pinned or pinned indirectly');
        return json(response, 200, { Pins: [cid] });
      }
      default:
        return text(response, 404, '404 page not found');
    }
  }

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (response.headersSent || response.destroyed) return;
      const status = error instanceof RpcError ? error.status : 500;
      const message = error instanceof Error ? error.message : String(error);
      json(response, status, { Message: message, Code: status === 400 ? 1 : 0, Type: 'error' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    folder,
    requests,
    pinned,
    serveInstead,
    close: async () => {
      for (const response of waiting) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await blobs.close();
      if (ownFolder) rmSync(folder, { recursive: true, force: true });
    },
  };
}

/** A Kubo boolean option: absent → the default; "true"/"false" (and 1/0) otherwise. */
function flag(query: URLSearchParams, name: string, fallback: boolean): boolean {
  const value = query.get(name);
  if (value === null) return fallback;
  return value === 'true' || value === '1';
}

/** Kubo's `--timeout` values as the client sends them: "1500ms", "2s", "1m". */
function parseDuration(value: string | null): number | undefined {
  const match = /^(\d+)(ms|s|m)$/.exec(value ?? '');
  if (!match) return undefined;
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000 }[match[2] as 'ms' | 's' | 'm'];
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(`${JSON.stringify(body)}\n`);
}

function text(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  response.end(body);
}
