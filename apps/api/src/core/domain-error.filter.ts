import { type ArgumentsHost, Catch, type ExceptionFilter, HttpStatus, Logger } from '@nestjs/common';
import { DomainError } from '@custos/domain';
import type { FastifyReply } from 'fastify';
import { BlobStoreUnavailableError } from '../blob-store/blob-store.port';
import { ConcurrencyError } from '../event-store/event-store.port';
import { InvalidQueryError } from '../read-models/read-model.port';

const REASON_PHRASE: Partial<Record<HttpStatus, string>> = {
  [HttpStatus.BAD_REQUEST]: 'Bad Request',
  [HttpStatus.FORBIDDEN]: 'Forbidden',
  [HttpStatus.NOT_FOUND]: 'Not Found',
  [HttpStatus.CONFLICT]: 'Conflict',
  [HttpStatus.SERVICE_UNAVAILABLE]: 'Service Unavailable',
};

const STATUS: Record<DomainError['kind'], HttpStatus> = {
  invalid: HttpStatus.BAD_REQUEST,
  forbidden: HttpStatus.FORBIDDEN,
  not_found: HttpStatus.NOT_FOUND,
  conflict: HttpStatus.CONFLICT,
};

type Caught = DomainError | ConcurrencyError | InvalidQueryError | BlobStoreUnavailableError;

/**
 * Answers the domain's refusals with a 4xx naming the problem: `{ statusCode, error, code, message }`.
 * A refused command appended nothing, so the client may correct it and retry. A blob store that does
 * not answer (an IPFS node down) is a 503 in the same shape: retry later; the reason goes to the log.
 */
@Catch(DomainError, ConcurrencyError, InvalidQueryError, BlobStoreUnavailableError)
export class DomainErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('BlobStore');

  catch(error: Caught, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (error instanceof BlobStoreUnavailableError) {
      this.logger.warn(error.message);
      const status = HttpStatus.SERVICE_UNAVAILABLE;
      void reply.status(status).send({
        statusCode: status,
        error: REASON_PHRASE[status],
        code: 'blob_store_unavailable',
        message: 'the store of encrypted records is not answering right now; try again shortly',
      });
      return;
    }
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
