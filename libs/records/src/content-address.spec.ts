/**
 * The content address must be what Kubo prints, so it is checked against values the IPFS project
 * published and against a construction written here from the specs (dag-pb, UnixFS, CID, multibase),
 * never only against the library that computes it.
 *
 * Published values used (Kubo = github.com/ipfs/kubo):
 * - "hello world\n": `echo "hello world" | ipfs add --cid-version 1 -q` in ipfs/js-ipfs#3682, and the
 *   file of ipfs/boxo examples/gateway/car/main_test.go (TestFile).
 * - "hello world": Kubo test/cli/add_test.go (shortStringCidV1).
 * - "hello\n": Kubo test/sharness/t0114-gateway-subdomains/README.md (CIDv1, `ipfs add --cid-version 1`).
 * - Multi-chunk files from Kubo's deterministic generator (test/cli/testutils/random_deterministic.go:
 *   ChaCha20 keystream, key sha256(seed), zero nonce), Kubo test/cli/add_test.go:
 *   profile test-cid-v1 (CIDv1, raw leaves, size-1048576, 174 links): 174 MiB and 175 MiB, seed "v1-seed";
 *   profile legacy-cid-v0 (CIDv0, UnixFS leaves, size-262144, 174 links): 44544 KiB and 44800 KiB, seed "v0-seed".
 *   Kubo publishes no vector for exactly our settings (CIDv1 with the 256 KiB chunker); those two each
 *   differ from ours in one setting and together cover raw leaves, the 256 KiB chunker, the 174-link
 *   limit and the rebalancing past it.
 */
import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { id, keccak256, toUtf8Bytes } from 'ethers';
import {
  contentAddress,
  isContentAddress,
  KUBO_CID_V1_ADD,
  recordIdOf,
  unixfsFile,
  type UnixfsImportSettings,
} from './content-address';

const utf8 = (text: string) => new TextEncoder().encode(text);
const KiB = 1024;
const MiB = 1024 * KiB;

/** Kubo's DeterministicRandomReaderBytes(size, seed), in pieces of at most 1 MiB. */
function* kuboDeterministicBytes(size: number, seed: string): Generator<Uint8Array> {
  const key = createHash('sha256').update(seed).digest();
  // OpenSSL's chacha20 IV is counter (4 bytes, little-endian) ‖ nonce (12 bytes): all zero = Go's zero nonce.
  const chacha20 = createCipheriv('chacha20', key, Buffer.alloc(16));
  for (let done = 0; done < size; done += MiB) {
    yield new Uint8Array(chacha20.update(Buffer.alloc(Math.min(MiB, size - done))));
  }
}

function concat(pieces: Iterable<Uint8Array>): Uint8Array {
  const list = [...pieces];
  const out = new Uint8Array(list.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const piece of list) {
    out.set(piece, offset);
    offset += piece.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// The independent construction, from the specs only (node:crypto for SHA-256, nothing from IPFS):
// - CID v1 = varint(1) ‖ varint(codec) ‖ multihash, multihash = varint(0x12 sha2-256) ‖ varint(32) ‖ digest;
//   codecs raw = 0x55, dag-pb = 0x70 (multiformats/cid, multicodec table).
// - multibase base32 = "b" ‖ RFC 4648 base32, lower case, no padding.
// - dag-pb PBNode { 2: repeated PBLink Links; 1: bytes Data }, links written before data;
//   PBLink { 1: bytes Hash; 2: string Name; 3: uint64 Tsize } (ipld/specs dag-pb).
// - UnixFS Data { 1: Type (File = 2); 3: filesize; 4: repeated blocksizes, not packed } (ipfs/specs UnixFS).
// - Kubo's file root: one link per raw leaf, Name "", Tsize = leaf length; no Data bytes in the root.
// ---------------------------------------------------------------------------------------------------

function varint(value: number): number[] {
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
  return out;
}

const lengthDelimited = (fieldNumber: number, bytes: Uint8Array): number[] => [
  (fieldNumber << 3) | 2,
  ...varint(bytes.length),
  ...bytes,
];
const varintField = (fieldNumber: number, value: number): number[] => [
  (fieldNumber << 3) | 0,
  ...varint(value),
];

const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash('sha256').update(bytes).digest());

function cidV1Bytes(codec: number, block: Uint8Array): Uint8Array {
  return Uint8Array.from([...varint(1), ...varint(codec), ...varint(0x12), ...varint(32), ...sha256(block)]);
}

function base32Multibase(bytes: Uint8Array): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = 0;
  let value = 0;
  let out = 'b';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

/** The CID Kubo gives a file of at most `maxLinks` raw-leaf chunks (one level), built from the specs. */
function cidFromSpecs(chunks: readonly Uint8Array[]): string {
  if (chunks.length === 1) return base32Multibase(cidV1Bytes(0x55, chunks[0]!));
  const links = chunks.map((chunk) =>
    lengthDelimited(
      2,
      Uint8Array.from([
        ...lengthDelimited(1, cidV1Bytes(0x55, chunk)),
        ...lengthDelimited(2, new Uint8Array(0)),
        ...varintField(3, chunk.length),
      ]),
    ),
  );
  const fileSize = chunks.reduce((n, c) => n + c.length, 0);
  const unixfs = Uint8Array.from([
    ...varintField(1, 2),
    ...varintField(3, fileSize),
    ...chunks.flatMap((c) => varintField(4, c.length)),
  ]);
  const root = Uint8Array.from([...links.flat(), ...lengthDelimited(1, unixfs)]);
  return base32Multibase(cidV1Bytes(0x70, root));
}

function chunked(bytes: Uint8Array, chunkSize: number): Uint8Array[] {
  if (bytes.length === 0) return [bytes];
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += chunkSize) chunks.push(bytes.subarray(at, at + chunkSize));
  return chunks;
}

describe('content address: the CIDv1 of `ipfs add --cid-version 1`', () => {
  test('the settings are Kubo’s: raw leaves, 256 KiB chunks, 174 links per node', () => {
    assert.deepEqual(
      { ...KUBO_CID_V1_ADD },
      { cidVersion: 1, rawLeaves: true, chunkSize: 262_144, maxLinksPerNode: 174 },
    );
    assert.ok(Object.isFrozen(KUBO_CID_V1_ADD));
  });

  test('small files are their raw leaf: the values Kubo printed, and the construction from the specs', async () => {
    const published: [string, string][] = [
      ['hello world\n', 'bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4'],
      ['hello world', 'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e'],
      ['hello\n', 'bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am'],
    ];
    for (const [text, cid] of published) {
      assert.equal(await contentAddress(utf8(text)), cid, JSON.stringify(text));
      assert.equal(cidFromSpecs([utf8(text)]), cid, `construction of ${JSON.stringify(text)}`);
    }
  });

  test('the empty file is the raw leaf of no bytes (Kubo’s balanced layout with raw leaves)', async () => {
    const empty = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku';
    assert.equal(cidFromSpecs([new Uint8Array(0)]), empty);
    assert.equal(await contentAddress(new Uint8Array(0)), empty);
  });

  test('one byte past a chunk makes a dag-pb root over two raw leaves', async () => {
    const whole = new Uint8Array(262_144).fill(7);
    const past = new Uint8Array(262_145).fill(7);
    assert.equal(await contentAddress(whole), cidFromSpecs([whole]));
    assert.match(await contentAddress(whole), /^bafkrei/);
    const twoLeaves = cidFromSpecs(chunked(past, 262_144));
    assert.match(twoLeaves, /^bafybei/);
    assert.equal(await contentAddress(past), twoLeaves);
    // Kubo's `Size`: every block's bytes, so the raw leaf alone for one chunk, the leaves and the root for two.
    assert.equal((await unixfsFile(whole, KUBO_CID_V1_ADD)).dagSize, 262_144);
    const rootBytes = (await unixfsFile(past, KUBO_CID_V1_ADD)).dagSize - 262_145;
    assert.ok(rootBytes > 0 && rootBytes < 200, `root block of ${rootBytes} bytes`);
  });

  test('1 MiB + 1 byte (five chunks): the construction from the specs, pinned', async () => {
    // Reproduce with Kubo: openssl enc -chacha20 -K "$(printf custos-records | sha256sum | cut -c1-64)" \
    //   -iv 00000000000000000000000000000000 -in /dev/zero 2>/dev/null | head -c 1048577 | ipfs add --cid-version 1 -q
    const bytes = concat(kuboDeterministicBytes(MiB + 1, 'custos-records'));
    const expected = 'bafybeidt6gmmzt6uaouzluhsnqh5hxtbxjhwqcsjrjlz4ue353qfdbli7u';
    assert.equal(cidFromSpecs(chunked(bytes, 262_144)), expected);
    assert.equal(await contentAddress(bytes), expected);
  });

  test('Kubo’s published multi-chunk CIDs, with each profile’s settings', async () => {
    const testCidV1: UnixfsImportSettings = { ...KUBO_CID_V1_ADD, chunkSize: MiB };
    const legacyCidV0: UnixfsImportSettings = { ...KUBO_CID_V1_ADD, cidVersion: 0, rawLeaves: false };
    const vectors: [UnixfsImportSettings, number, string, string][] = [
      [testCidV1, 174 * MiB, 'v1-seed', 'bafybeigwduxcf2aawppv3isnfeshnimkyplvw3hthxjhr2bdeje4tdaicu'],
      [testCidV1, 175 * MiB, 'v1-seed', 'bafybeidhd7lo2n2v7lta5yamob3xwhbxcczmmtmhquwhjesi35jntf7mpu'],
      [legacyCidV0, 44_544 * KiB, 'v0-seed', 'QmUbBALi174SnogsUzLpYbD4xPiBSFANF4iztWCsHbMKh2'],
      [legacyCidV0, 44_800 * KiB, 'v0-seed', 'QmepeWtdmS1hHXx1oZXsPUv6bMrfRRKfZcoPPU4eEfjnbf'],
    ];
    for (const [settings, size, seed, expected] of vectors) {
      const { cid } = await unixfsFile(kuboDeterministicBytes(size, seed), settings);
      assert.equal(cid.toString(), expected, `${size} bytes, seed ${seed}`);
    }
  });

  test('the construction from the specs itself gives Kubo’s published 174-link CID', () => {
    // 174 raw leaves of 1 MiB under one root: checks the construction, not the library.
    assert.equal(
      cidFromSpecs([...kuboDeterministicBytes(174 * MiB, 'v1-seed')]),
      'bafybeigwduxcf2aawppv3isnfeshnimkyplvw3hthxjhr2bdeje4tdaicu',
    );
  });

  test('the same bytes always give the same address; one changed byte another', async () => {
    const bytes = concat(kuboDeterministicBytes(300 * KiB, 'same'));
    const first = await contentAddress(bytes);
    assert.equal(await contentAddress(bytes.slice()), first);
    const changed = bytes.slice();
    changed[200 * KiB]! ^= 1;
    assert.notEqual(await contentAddress(changed), first);
  });

  test('refuses what is not bytes', async () => {
    await assert.rejects(contentAddress('hello' as unknown as Uint8Array), TypeError);
  });
});

describe('isContentAddress', () => {
  test('accepts CIDv1 raw and dag-pb with sha2-256 in lower-case base32', () => {
    assert.equal(isContentAddress('bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4'), true);
    assert.equal(isContentAddress('bafybeidhd7lo2n2v7lta5yamob3xwhbxcczmmtmhquwhjesi35jntf7mpu'), true);
  });

  test('refuses other versions, codecs, hashes and spellings, and anything else', () => {
    const refused = [
      'QmepeWtdmS1hHXx1oZXsPUv6bMrfRRKfZcoPPU4eEfjnbf', // CIDv0
      'bafyreihdb57fdysx5h35urvxz64ros7zvywshber7id6t6c6fek37jgyfe', // dag-cbor
      // sha2-512 (Kubo add_test.go shortStringCidV1Sha512)
      'bafkrgqbqt3gerhas23vuzrapkdeqf4vu2dwxp3srdj6hvg6nhsug2tgyn6mj3u23yx7utftq3i2ckw2fwdh5qmhid5qf3t35yvkc5e5ottlw6',
      'BAFKREIFJJCIE6LYPI6NY7AMXNFFTAGCLBUXNDQONFIPMB64F2KM2DEVEI4', // base32 upper case
      'zb2rhi36Gc9GJWijLEL6zW45MBux5FcFv5gJmjXA7VAMozEXY', // base58btc
      'k2cwuecvan95uqzq14dj3a18wx6av6tgr73nxvopxn3j5kvyr0apys7b', // base36
      'bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei', // truncated
      '../../etc/passwd',
      '',
      'b'.repeat(101),
    ];
    for (const text of refused) assert.equal(isContentAddress(text), false, text);
    assert.equal(isContentAddress(42 as unknown as string), false);
  });
});

describe('recordIdOf', () => {
  test('is keccak256 of the address text in UTF-8, as ethers id', () => {
    const cid = 'bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4';
    const recordId = recordIdOf(cid);
    assert.match(recordId, /^0x[0-9a-f]{64}$/);
    assert.equal(recordId, keccak256(toUtf8Bytes(cid)));
    assert.equal(recordId, id(cid));
    assert.notEqual(recordIdOf('bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am'), recordId);
  });

  test('refuses anything but a content address in its canonical spelling', () => {
    assert.throws(() => recordIdOf('BAFKREIFJJCIE6LYPI6NY7AMXNFFTAGCLBUXNDQONFIPMB64F2KM2DEVEI4'), TypeError);
    assert.throws(() => recordIdOf('QmepeWtdmS1hHXx1oZXsPUv6bMrfRRKfZcoPPU4eEfjnbf'), TypeError);
    assert.throws(() => recordIdOf(''), TypeError);
  });
});
