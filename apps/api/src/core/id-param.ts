import { Matches } from 'class-validator';

/** The UUIDs the API issues, in lower case (one spelling per id). */
export const ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** `:id` route parameters: the UUIDs the API issues, in lower case (one spelling per id). */
export class IdParam {
  @Matches(ID_PATTERN, { message: 'id must be a UUID' })
  id!: string;
}

/**
 * The IdParam of route parameters that are exactly a valid `:id`, without class-validator; null for
 * anything else, which the ValidationPipe then refuses with its usual messages.
 */
export function validIdParam(params: unknown): IdParam | null {
  if (typeof params !== 'object' || params === null) return null;
  const keys = Object.keys(params);
  const id = (params as { id?: unknown }).id;
  if (keys.length !== 1 || keys[0] !== 'id' || typeof id !== 'string' || !ID_PATTERN.test(id)) return null;
  const valid = new IdParam();
  valid.id = id;
  return valid;
}
