import { PBKDF2_ITERATIONS, WrongPassphraseError, openSecret, sealSecret } from './wallet-vault';

describe('wallet vault (PBKDF2-SHA256 + AES-GCM)', () => {
  const secret = 'legal winner thank year wave sausage worth useful legal winner thank yellow';
  const address = '0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc';

  it('decrypts what it encrypted with the same passphrase', async () => {
    const sealed = await sealSecret(secret, 'correct horse battery', address);
    expect(await openSecret(sealed, 'correct horse battery', address)).toBe(secret);
  });

  it('refuses a wrong passphrase', async () => {
    const sealed = await sealSecret(secret, 'correct horse battery', address);
    await expect(openSecret(sealed, 'wrong horse battery', address)).rejects.toBeInstanceOf(
      WrongPassphraseError,
    );
  });

  it('refuses a record whose address was changed (bound as associated data)', async () => {
    const sealed = await sealSecret(secret, 'correct horse battery', address);
    await expect(
      openSecret(sealed, 'correct horse battery', '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'),
    ).rejects.toBeInstanceOf(WrongPassphraseError);
  });

  it('derives with at least 310,000 PBKDF2-SHA256 iterations, fresh salt and IV, no plaintext kept', async () => {
    const a = await sealSecret(secret, 'correct horse battery', address);
    const b = await sealSecret(secret, 'correct horse battery', address);
    expect(PBKDF2_ITERATIONS).toBeGreaterThanOrEqual(310_000);
    expect(a.kdf).toMatchObject({ name: 'PBKDF2', hash: 'SHA-256', iterations: PBKDF2_ITERATIONS });
    expect(a.cipher.name).toBe('AES-GCM');
    expect(atob(a.kdf.salt)).toHaveLength(16);
    expect(atob(a.cipher.iv)).toHaveLength(12);
    expect(a.kdf.salt).not.toBe(b.kdf.salt);
    expect(a.cipher.iv).not.toBe(b.cipher.iv);
    expect(a.ciphertext).not.toBe(b.ciphertext);
    const stored = JSON.stringify(a);
    expect(stored).not.toContain('legal');
    expect(stored).not.toContain('correct horse');
  });
});
