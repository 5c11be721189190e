import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { PinoLoggerService } from './pino-logger';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, stream };
}

test('logs are one JSON object per line with level, context and message', () => {
  const { lines, stream } = capture();
  new PinoLoggerService('info', stream).log('listening on http://127.0.0.1:3000', 'Custos');
  assert.equal(lines.length, 1);
  assert.equal(lines[0]?.level, 'info');
  assert.equal(lines[0]?.context, 'Custos');
  assert.equal(lines[0]?.msg, 'listening on http://127.0.0.1:3000');
  assert.equal(typeof lines[0]?.time, 'string');
});

test('an object that slips into a log call has its reason, purpose, content and credentials redacted', () => {
  const { lines, stream } = capture();
  new PinoLoggerService('info', stream).warn(
    {
      event: 'EmergencyReasonRecorded',
      data: { reason: 'Unconscious, allergy history', purpose: 'thyroid', content: 'hello' },
      headers: { authorization: 'Bearer abc' },
    },
    'Test',
  );
  const text = JSON.stringify(lines);
  for (const secret of ['Unconscious', 'thyroid', 'hello', 'Bearer abc'])
    assert.ok(!text.includes(secret), secret);
  assert.match(text, /\[redacted\]/);
});

test('levels below the configured one are dropped', () => {
  const { lines, stream } = capture();
  const logger = new PinoLoggerService('warn', stream);
  logger.log('routine');
  logger.debug('detail');
  logger.error('broken', 'stack trace', 'Ctx');
  assert.deepEqual(
    lines.map((l) => [l.level, l.msg]),
    [['error', 'broken']],
  );
});
