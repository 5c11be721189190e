import assert from 'node:assert/strict';
import { test } from 'node:test';
import { uuidV5 } from './uuid-v5';

const DNS_NAMESPACE = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';

test('uuidV5 matches the reference implementation (Python uuid.uuid5)', () => {
  assert.equal(uuidV5('python.org', DNS_NAMESPACE), '886313e1-3b8a-5372-9b90-0c9aee199e5d');
  assert.equal(uuidV5('0xabc:7', DNS_NAMESPACE), 'f3543ee8-79b4-5124-9161-80ce48761550');
});

test('uuidV5 is deterministic and sets the version and variant bits', () => {
  const id = uuidV5('0xdeadbeef:3', DNS_NAMESPACE);
  assert.equal(id, uuidV5('0xdeadbeef:3', DNS_NAMESPACE));
  assert.notEqual(id, uuidV5('0xdeadbeef:4', DNS_NAMESPACE));
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

test('uuidV5 refuses a namespace that is not a UUID', () => {
  assert.throws(() => uuidV5('x', 'not-a-uuid'), /namespace is not a UUID/);
});
