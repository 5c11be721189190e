import { type ArgumentsHost, Catch, HttpStatus, NotFoundException } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Authenticator } from '../security/authenticator';
import { unauthorized } from '../security/deny-by-default.guard';
import { WebAppService } from './web-app.service';

/**
 * What a request that matches no route gets:
 * - a browser navigation (GET/HEAD accepting text/html, a path without a file
 *   extension) gets the web app's index.html, so that client-side routes such
 *   as /patients/me can be reloaded: the SPA fallback;
 * - any other request is denied like a protected route (401) unless it carries
 *   accepted credentials, in which case it gets a plain 404. Anonymous callers
 *   learn nothing about which routes exist.
 *
 * NotFoundExceptions thrown by matched routes (a missing resource) pass through
 * unchanged.
 */
@Catch(NotFoundException)
export class UnmatchedRouteFilter extends BaseExceptionFilter {
  constructor(
    private readonly authenticator: Authenticator,
    private readonly webApp: WebAppService,
  ) {
    super();
  }

  override catch(exception: NotFoundException, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return super.catch(exception, host);
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (!request.is404) return super.catch(exception, host);

    if (this.webApp.available && isBrowserNavigation(request)) {
      void reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').sendFile('index.html');
      return;
    }
    const auth = this.authenticator.authenticate(request);
    if (!auth.authenticated) {
      const denied = unauthorized(auth.reason);
      void reply.status(HttpStatus.UNAUTHORIZED).send(denied.getResponse());
      return;
    }
    super.catch(exception, host);
  }
}

function isBrowserNavigation(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const accept = request.headers.accept ?? '';
  if (!accept.includes('text/html')) return false;
  const pathname = request.url.split('?')[0] ?? '';
  const lastSegment = pathname.slice(pathname.lastIndexOf('/') + 1);
  return !lastSegment.includes('.'); // /main-abc.js that does not exist is a 404, not the app
}
