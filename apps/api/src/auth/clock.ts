import { Injectable } from '@nestjs/common';

/**
 * The time as the sign-in module sees it (nonce and token lifetimes, message
 * validity). A port so that tests move time forward instead of sleeping.
 */
export abstract class Clock {
  /** Milliseconds since the Unix epoch. */
  abstract now(): number;
}

@Injectable()
export class SystemClock extends Clock {
  now(): number {
    return Date.now();
  }
}
