/** Turning what people type into what the API takes (and back), for the compliance forms. */

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** True for a 0x-prefixed 20-byte hex address (any case). */
export function isAddressText(value: string): boolean {
  return ADDRESS.test(value.trim());
}

/**
 * A `datetime-local` value (`2026-03-12T14:05` or with seconds), read in the browser's time zone, as
 * RFC 3339 UTC; `null` when empty or not a moment.
 */
export function localInputToIso(value: string): string | null {
  if (!value.trim()) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** A moment as a `datetime-local` value with seconds, in the browser's time zone. */
export function toLocalInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}
