/** A 0x-prefixed 20-byte hex address, any case. */
export const ADDRESS_PATTERN = /^0x[0-9a-fA-F]{40}$/;

/** class-transformer hook: addresses are stored and compared in lower case. */
export const lowerCase = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? value.toLowerCase() : value;
