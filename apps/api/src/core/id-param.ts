import { Matches } from 'class-validator';

/** `:id` route parameters: the UUIDs the API issues, in lower case (one spelling per id). */
export class IdParam {
  @Matches(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, { message: 'id must be a UUID' })
  id!: string;
}
