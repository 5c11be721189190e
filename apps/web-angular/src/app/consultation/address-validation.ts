/** A 0x-prefixed 20-byte hex address, as the API accepts it (any case). */
const ADDRESS_PATTERN = /^0x[0-9a-fA-F]{40}$/;

export function isAddress(value: string): boolean {
  return ADDRESS_PATTERN.test(value.trim());
}

/** The error to show under an address field, or `null` when it is fine. */
export function addressError(value: string, what = 'the address'): string | null {
  const text = value.trim();
  if (text === '') return `Enter ${what}.`;
  if (!isAddress(text)) return `Enter ${what} as 0x followed by 40 hexadecimal characters.`;
  return null;
}
