import { type ArgumentsHost, Catch, type ExceptionFilter, HttpStatus } from '@nestjs/common';
import { DomainError } from '@custos/domain';
import type { FastifyReply } from 'fastify';
import { ConcurrencyError } from '../event-store/event-store.port';
import { InvalidQueryError } from '../read-models/read-model.port';

const REASON_PHRASE: Partial<Record<HttpStatus, string>> = {
  [HttpStatus.BAD_REQUEST]: 'Bad Request',
  [HttpStatus.FORBIDDEN]: 'Forbidden',
  [HttpStatus.NOT_FOUND]: 'Not Found',
  [HttpStatus.CONFLICT]: 'Conflict',
};

const STATUS: Record<DomainError['kind'], HttpStatus> = {
  invalid: HttpStatus.BAD_REQUEST,
  forbidden: HttpStatus.FORBIDDEN,
  not_found: HttpStatus.NOT_FOUND,
  conflict: HttpStatus.CONFLICT,
};

/**
 * Answers the domain's refusals with a 4xx naming the problem: `{ statusCode, error, code, message }`.
 * A refused command appended nothing, so the client may correct it and retry.
 */
@Catch(DomainError, ConcurrencyError, InvalidQueryError)
export class DomainErrorFilter implements ExceptionFilter {
  catch(error: DomainError | ConcurrencyError | InvalidQueryError, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const [status, code] =
      error instanceof DomainError
        ? [STATUS[error.kind], error.code]
        : error instanceof ConcurrencyError
          ? [HttpStatus.CONFLICT, 'concurrent_update']
          : [HttpStatus.BAD_REQUEST, 'invalid_query'];
    const message =
      error instanceof ConcurrencyError
        ? 'someone else changed this at the same time; reload and retry'
        : error.message;
    void reply.status(status).send({ statusCode: status, error: REASON_PHRASE[status], code, message });
  }
}
