import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Wallet } from 'ethers';
import {
  deriveKeyPair,
  exportPrivateKey,
  KEY_DERIVATION_MESSAGE,
  fromBase64url,
  generateKeyPair,
  importPrivateKey,
  IntegrityError,
  open,
  seal,
  toBase64url,
  utf8,
  WRAPPED_KEY_BYTES,
} from './index';

const alice = '0x00000000000000000000000000000000000000a1';
const bob = '0x00000000000000000000000000000000000000b2';
const eve = '0x00000000000000000000000000000000000000e5';
const aad = utf8.encode('conversation c1 / message m1');

describe('end-to-end encryption', () => {
  test('every recipient opens what was sealed for them; the ciphertext does not contain the text', async () => {
    const [a, b] = [await generateKeyPair(), await generateKeyPair()];
    const text = 'Your potassium is 5.9 mmol/L: please call the clinic today.';
    const sealed = await seal(utf8.encode(text), { [alice]: a.publicKey, [bob]: b.publicKey }, aad);
    assert.equal(fromBase64url(sealed.iv).length, 12);
    assert.deepEqual(Object.keys(sealed.wrappedKeys).sort(), [alice, bob]);
    for (const wrapped of Object.values(sealed.wrappedKeys)) {
      assert.equal(fromBase64url(wrapped).length, WRAPPED_KEY_BYTES);
    }
    assert.ok(!JSON.stringify(sealed).includes('potassium'));
    assert.equal(utf8.decode(await open(sealed, alice, a, aad)), text);
    assert.equal(utf8.decode(await open(sealed, bob, b, aad)), text);
  });

  test('someone it was not sealed for cannot open it, even with a wrapped key copied to their id', async () => {
    const [a, e] = [await generateKeyPair(), await generateKeyPair()];
    const sealed = await seal(utf8.encode('private'), { [alice]: a.publicKey });
    await assert.rejects(open(sealed, eve, e), IntegrityError);
    const copied = { ...sealed, wrappedKeys: { [eve]: sealed.wrappedKeys[alice]! } };
    await assert.rejects(open(copied, eve, e), IntegrityError);
  });

  test('a changed ciphertext, IV, additional data or wrapped key fails with an integrity error', async () => {
    const a = await generateKeyPair();
    const sealed = await seal(utf8.encode('dose: 5 mg'), { [alice]: a.publicKey }, aad);
    const flip = (text: string) => {
      const bytes = fromBase64url(text);
      bytes[bytes.length - 1]! ^= 1;
      return toBase64url(bytes);
    };
    await assert.rejects(
      open({ ...sealed, ciphertext: flip(sealed.ciphertext) }, alice, a, aad),
      IntegrityError,
    );
    await assert.rejects(open({ ...sealed, iv: flip(sealed.iv) }, alice, a, aad), IntegrityError);
    await assert.rejects(open(sealed, alice, a, utf8.encode('another message')), IntegrityError);
    await assert.rejects(
      open({ ...sealed, wrappedKeys: { [alice]: flip(sealed.wrappedKeys[alice]!) } }, alice, a, aad),
      IntegrityError,
    );
  });

  test('a private key exported (to keep encrypted in the wallet) and imported again still opens', async () => {
    const a = await generateKeyPair();
    const sealed = await seal(utf8.encode('kept'), { [alice]: a.publicKey });
    const restored = {
      publicKey: a.publicKey,
      privateKey: await importPrivateKey(await exportPrivateKey(a.privateKey)),
    };
    assert.equal(utf8.decode(await open(sealed, alice, restored)), 'kept');
  });

  test('public keys are 32 bytes in base64url (43 characters), as the messaging domain expects', async () => {
    const { publicKey } = await generateKeyPair();
    assert.match(publicKey, /^[A-Za-z0-9_-]{43}$/);
  });

  test('a wallet derives the same messaging key every time, and another wallet another key', async () => {
    const wallet = Wallet.createRandom();
    const first = await deriveKeyPair(await wallet.signMessage(KEY_DERIVATION_MESSAGE));
    const again = await deriveKeyPair(await wallet.signMessage(KEY_DERIVATION_MESSAGE));
    assert.equal(first.publicKey, again.publicKey);
    assert.match(first.publicKey, /^[A-Za-z0-9_-]{43}$/);
    const other = await deriveKeyPair(await Wallet.createRandom().signMessage(KEY_DERIVATION_MESSAGE));
    assert.notEqual(other.publicKey, first.publicKey);
    const sealed = await seal(utf8.encode('hello'), { [alice]: first.publicKey });
    assert.equal(utf8.decode(await open(sealed, alice, again)), 'hello');
    await assert.rejects(deriveKeyPair('0x1234'), TypeError);
  });
});
