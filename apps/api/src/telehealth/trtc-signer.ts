import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Logger, type OnModuleDestroy } from '@nestjs/common';
import { type SignedTrtc, signTrtc, type TrtcGrant, type TrtcSettings } from './trtc';

interface Pending {
  grant: TrtcGrant;
  resolve: (signed: SignedTrtc) => void;
  reject: (error: Error) => void;
}

/** The TrtcSigner of the configured TRTC application, or null in the built-in WebRTC mode. */
export const TRTC_SIGNER = Symbol('TRTC_SIGNER');

/** A turn's grants go to the thread as one message, and come back as one. */
export type ToSigner = { id: number; grant: TrtcGrant }[];
export type FromSigner = ({ id: number; signed: SignedTrtc } | { id: number; error: string })[];

/**
 * Signs TRTC credentials (signTrtc, with Tencent's tls-sig-api-v2) on a thread of its own. Each
 * credential is two signatures, each an HMAC and a zlib deflate: ~0.1 ms of CPU that, on the event
 * loop, every other request waited behind; here it runs on another core while the event loop goes on
 * (bench:api: ~20% more credentials a second at 32 connections). The grants asked for in one turn of
 * the event loop travel as one message each way: a message costs ~20 µs of CPU across the two threads,
 * a batch of ten ~6 µs a grant. If the thread cannot start or fails, the grants it held and every
 * later one are signed on the event loop, as before.
 */
export class TrtcSigner implements OnModuleDestroy {
  private readonly logger = new Logger('TrtcSigner');
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  /** Grants of this turn not sent yet: sent at its end. */
  private batch: ToSigner = [];
  private nextId = 0;

  constructor(private readonly settings: TrtcSettings) {
    // The sibling module, compiled like this one: `.js` in the build, `.ts` under the TypeScript loader
    // (a worker starts with the process's execArgv, `-r @swc-node/register` included).
    const file = path.join(__dirname, `trtc-signer.worker${path.extname(__filename)}`);
    const worker = new Worker(file, { workerData: settings });
    // A helper: it never keeps the process alive on its own.
    worker.unref();
    worker.on('message', (answers: FromSigner) => this.answer(answers));
    worker.on('error', (error) => this.fallBack(`the TRTC signing thread failed: ${error.message}`));
    worker.on('exit', (code) => this.fallBack(`the TRTC signing thread exited (${code})`));
    this.worker = worker;
  }

  sign(grant: TrtcGrant): Promise<SignedTrtc> {
    const worker = this.worker;
    if (!worker) return Promise.resolve().then(() => signTrtc(this.settings, grant));
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { grant, resolve, reject });
      if (this.batch.push({ id, grant }) === 1) setImmediate(this.send);
    });
  }

  async onModuleDestroy(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
    // Whatever was still on its way is signed here rather than dropped.
    this.signPendingHere();
  }

  private readonly send = (): void => {
    const batch = this.batch;
    this.batch = [];
    // Without the thread (it failed, or the module is closing) the batch was signed here already.
    this.worker?.postMessage(batch);
  };

  private answer(answers: FromSigner): void {
    for (const answer of answers) {
      const pending = this.pending.get(answer.id);
      if (!pending) continue;
      this.pending.delete(answer.id);
      if ('signed' in answer) pending.resolve(answer.signed);
      else pending.reject(new Error(`TRTC signing failed: ${answer.error}`));
    }
  }

  private fallBack(reason: string): void {
    if (!this.worker) return; // closing, or already fallen back
    this.worker = undefined;
    this.logger.warn(`${reason}; signing on the event loop from now on`);
    this.signPendingHere();
  }

  private signPendingHere(): void {
    for (const [id, { grant, resolve, reject }] of this.pending) {
      this.pending.delete(id);
      try {
        resolve(signTrtc(this.settings, grant));
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    }
  }
}
