import type { LoggerService } from '@nestjs/common';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config/config.schema';

/**
 * Fields that may carry what must never reach a log: message or record content, emergency reasons,
 * consent purposes, signatures and credentials. Code logs ids and counts, not these; redaction is the
 * safety net when an object slips into a log call.
 */
export const REDACTED_PATHS = [
  'reason',
  'purpose',
  'text',
  'content',
  'ciphertext',
  'plaintext',
  'signature',
  'token',
  'authorization',
  'password',
  'secret',
  'privateKey',
  '*.reason',
  '*.purpose',
  '*.text',
  '*.content',
  '*.ciphertext',
  '*.plaintext',
  '*.signature',
  '*.token',
  '*.authorization',
  '*.password',
  '*.secret',
  '*.privateKey',
  'headers.authorization',
  '*.headers.authorization',
];

/** Nest's logger on pino: one JSON object per line with time, level, context and msg. */
export class PinoLoggerService implements LoggerService {
  private readonly logger: Logger;

  constructor(level: LogLevel, destination?: DestinationStream) {
    this.logger = pino(
      {
        level,
        base: { service: 'custos-api' },
        timestamp: pino.stdTimeFunctions.isoTime,
        redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
        formatters: { level: (label) => ({ level: label }) },
      },
      destination,
    );
  }

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  private write(level: pino.Level, message: unknown, rest: unknown[]): void {
    // Nest passes the context as the last string argument, and an error's stack before it.
    const params = [...rest];
    const context = typeof params[params.length - 1] === 'string' ? (params.pop() as string) : undefined;
    const stack =
      level === 'error' || level === 'fatal' ? params.find((p) => typeof p === 'string') : undefined;
    const fields: Record<string, unknown> = {};
    if (context) fields.context = context;
    if (stack) fields.stack = stack;
    if (message instanceof Error) {
      this.logger[level]({ ...fields, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.logger[level]({ ...fields, ...(message as Record<string, unknown>) });
    } else {
      this.logger[level](fields, String(message));
    }
  }
}
