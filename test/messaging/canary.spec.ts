// A canary plaintext, unique to this run, sent through the API as the browser sends it (sealed with
// libs/e2ee), delivered live, read, acknowledged, and also pushed at the API in the clear where a buggy
// client could (an extra body field, a ciphertext that is not one, a WebSocket frame, a refused send
// after revocation): it must appear nowhere on the server. Not in any event of the store, not in any
// read-model collection, not in any file of the data folder, and not in the API's logs, captured at
// `trace` through the product's own pino logger (and whatever else reaches stdout or stderr).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Logger } from '@nestjs/common';
import { utf8 } from '@custos/e2ee';
import WebSocket from 'ws';
import { PinoLoggerService } from '../../apps/api/src/logging/pino-logger';
import type { MessageView } from '../../apps/api/src/messaging/messaging.dto';
import { DAY, READ_MODEL_COLLECTIONS, snapshot, TestApi } from '../api/harness';
import {
  decryptMessage,
  encryptMessage,
  keysOf,
  type MessagingUser,
  type ReceivedMessage,
  withMessagingKey,
} from './e2e-crypto';

type Frame = { type: string } & Record<string, unknown>;

/** Every chunk written to stdout and stderr until `restore()`, still written through. */
function captureOutput(): { chunks: string[]; restore: () => void } {
  const chunks: string[] = [];
  const originals = [process.stdout.write, process.stderr.write] as const;
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      chunks.push(Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk));
      return write(chunk, ...rest);
    }) as typeof stream.write;
  }
  return {
    chunks,
    restore: () => {
      process.stdout.write = originals[0];
      process.stderr.write = originals[1];
    },
  };
}

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(full) : entry.isFile() ? [full] : [];
  });
}

/** Opens a live socket for `token` and collects its frames. */
async function live(url: string, token: string) {
  const socket = new WebSocket(url, ['custos', `custos-token.${token}`]);
  const frames: Frame[] = [];
  socket.on('message', (data) => frames.push(JSON.parse(String(data)) as Frame));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  /** The first `count` frames matching `match`, once they arrived (5 s at most). */
  const until = async (match: (f: Frame) => boolean, count = 1) => {
    for (let i = 0; i < 250; i++) {
      const found = frames.filter(match);
      if (found.length >= count) return found;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`not ${count} matching frames; got ${JSON.stringify(frames)}`);
  };
  return { socket, frames, until };
}

describe('a canary plaintext sent through the API appears nowhere on the server', () => {
  let api: TestApi;
  let url: string;
  let patient: MessagingUser;
  let doctor: MessagingUser;
  let conversationId: string;
  const logLines: string[] = [];
  let output: ReturnType<typeof captureOutput>;
  const canary = `CANARY-${randomBytes(16).toString('hex')} my potassium came back at 5.9`;

  before(async () => {
    output = captureOutput();
    api = await TestApi.start({ LOG_LEVEL: 'trace' });
    // The harness boots Nest without a logger; from here on every Nest Logger in the API (they resolve
    // the app's logger at each call) writes through the product's pino logger, at trace, into logLines.
    api.app.useLogger(new PinoLoggerService(api.config.LOG_LEVEL, { write: (line) => logLines.push(line) }));
    patient = await withMessagingKey(api, await api.newUser());
    doctor = await withMessagingKey(api, await api.newUser('provider'));
    await api.grant(patient.address, doctor.address, 'messaging', new Date(Date.now() + 30 * DAY * 1000));
    const res = await api.post(
      '/conversations',
      { patient: patient.address, providers: [doctor.address] },
      patient.token,
    );
    assert.equal(res.statusCode, 201, res.body);
    conversationId = res.json<{ id: string }>().id;
    await api.app.listen(0, '127.0.0.1');
    const { port } = api.app.getHttpServer().address() as AddressInfo;
    url = `ws://127.0.0.1:${port}/messages/live`;
  });
  after(async () => {
    output.restore();
    await api.close();
  });

  test('sent, delivered, read, acknowledged and pushed in the clear: not in events, read models, files or logs', async () => {
    assert.equal(api.config.LOG_LEVEL, 'trace');
    const messages = `/conversations/${conversationId}/messages`;

    // 1. As the browser sends it: sealed with libs/e2ee, delivered live to the doctor, who decrypts it.
    const doctorSocket = await live(url, doctor.token);
    const envelope = await encryptMessage(conversationId, canary, keysOf(patient, doctor));
    const sent = await api.post(
      messages,
      { kind: 'text', requiresAcknowledgment: true, ...envelope },
      patient.token,
    );
    assert.equal(sent.statusCode, 201, sent.body);
    const [delivered] = await doctorSocket.until((f) => f.type === 'message');
    assert.equal(await decryptMessage(delivered as unknown as ReceivedMessage, doctor), canary);
    const listed = (await api.get(messages, doctor.token)).json<{ items: MessageView[] }>().items;
    assert.equal(await decryptMessage(listed[0]!, doctor), canary, 'the server holds what the browser sent');
    for (const receipt of ['read', 'acknowledgment']) {
      const res = await api.post(`${messages}/${envelope.messageId}/${receipt}`, undefined, doctor.token);
      assert.equal(res.statusCode, 204, `${receipt}: ${res.body}`);
    }
    // A resend of the same envelope is a no-op; the same id with other content a conflict.
    const again = await api.post(
      messages,
      { kind: 'text', requiresAcknowledgment: true, ...envelope },
      patient.token,
    );
    assert.equal(again.statusCode, 201, again.body);
    const other = await encryptMessage(
      conversationId,
      `${canary} (edited)`,
      keysOf(patient, doctor),
      envelope.messageId,
    );
    assert.equal((await api.post(messages, { kind: 'text', ...other }, patient.token)).statusCode, 409);

    // 2. In the clear, where a buggy client could put it: refused, and not kept.
    const fresh = await encryptMessage(conversationId, 'fine', keysOf(patient, doctor));
    for (const body of [
      { kind: 'text', ...fresh, text: canary },
      { kind: 'text', ...fresh, ciphertext: canary },
      { kind: 'text', ...fresh, ciphertext: Buffer.from(canary).toString('base64url'), iv: canary },
      { kind: canary, ...fresh },
    ]) {
      const res = await api.post(messages, body, patient.token);
      assert.equal(res.statusCode, 400, res.body);
    }
    const patientSocket = await live(url, patient.token);
    patientSocket.socket.send(canary);
    patientSocket.socket.send(JSON.stringify({ type: 'resume', after: canary }));
    patientSocket.socket.send(JSON.stringify({ type: canary, conversationId }));
    await patientSocket.until((f) => f.type === 'error', 3);

    // 3. After the revocation, the same content sealed again is refused (403, audited).
    await api.revoke(patient.address, doctor.address, 'messaging');
    const refused = await encryptMessage(conversationId, canary, keysOf(patient, doctor));
    const denied = await api.post(messages, { kind: 'text', ...refused }, patient.token);
    assert.equal(denied.statusCode, 403, denied.body);

    doctorSocket.socket.close();
    patientSocket.socket.close();
    await api.settle();

    // The log capture is live: a trace line from a Nest Logger, as every API class logs, arrives.
    const probe = `probe-${randomBytes(8).toString('hex')}`;
    new Logger('CanaryProbe').verbose(probe);
    const probeLine = logLines.find((line) => line.includes(probe));
    assert.ok(probeLine, 'the captured logger receives trace lines');
    assert.equal((JSON.parse(probeLine) as { level: string }).level, 'trace');

    // Nowhere: the canary, its tell-tale words and what a plaintext "ciphertext" would look like.
    const needles = [
      canary,
      canary.slice(0, 39), // the random marker alone
      'potassium',
      Buffer.from(utf8.encode(canary)).toString('base64url').slice(0, 40),
      Buffer.from(utf8.encode(canary)).toString('base64').slice(0, 40),
      Buffer.from(utf8.encode(canary)).toString('hex'),
    ];
    const events = await api.events();
    assert.ok(events.some((e) => e.type === 'MessageSent'));
    assert.ok(
      events.some((e) => e.type === 'AccessAudited' && (e.data as { outcome: string }).outcome === 'denied'),
    );
    const documents = await snapshot(api.readModels);
    assert.deepEqual(Object.keys(documents).sort(), [...READ_MODEL_COLLECTIONS].sort());
    const places: [string, string][] = [
      ['the event store (every event)', JSON.stringify(events)],
      ...Object.entries(documents).map(([name, docs]): [string, string] => [
        `read model ${name}`,
        JSON.stringify(docs),
      ]),
      ...filesUnder(api.dataDir).map((file): [string, string] => [
        `file ${path.relative(api.dataDir, file)}`,
        readFileSync(file).toString('latin1'),
      ]),
      ['the API logs (pino, trace)', logLines.join('')],
      ['stdout and stderr', output.chunks.join('')],
    ];
    // Each place is searched where the message really is: its ciphertext is in the events, in the read
    // models and in the store files.
    const stored = envelope.ciphertext.slice(0, 40);
    for (const prefix of ['the event store', 'read model ', 'file ']) {
      assert.ok(
        places.some(([name, text]) => name.startsWith(prefix) && text.includes(stored)),
        `${prefix} holds the ciphertext`,
      );
    }
    for (const [name, text] of places) {
      for (const needle of needles) assert.ok(!text.includes(needle), `${name} contains ${needle}`);
    }
  });
});
