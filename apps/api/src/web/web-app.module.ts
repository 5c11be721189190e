import { Inject, Logger, Module, type OnModuleInit } from '@nestjs/common';
import { APP_FILTER, HttpAdapterHost } from '@nestjs/core';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { SecurityModule } from '../security/security.module';
import { UnmatchedRouteFilter } from './unmatched-route.filter';
import { WebAppService } from './web-app.service';

const HASHED_BUNDLE = /-[A-Z0-9]{8}\.(?:js|mjs|css)$/;

/**
 * Serves the built Angular app (WEB_DIST_DIR, default dist/web-angular/browser)
 * at / when it exists, with the SPA fallback of UnmatchedRouteFilter. Without
 * a build, the API works the same and / is just an unmatched route.
 */
@Module({
  imports: [SecurityModule],
  providers: [WebAppService, { provide: APP_FILTER, useClass: UnmatchedRouteFilter }],
  exports: [WebAppService],
})
export class WebAppModule implements OnModuleInit {
  private readonly logger = new Logger('WebApp');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(WebAppService) private readonly webApp: WebAppService,
  ) {}

  onModuleInit(): void {
    if (!this.webApp.available) {
      this.logger.warn(
        `No web app build at ${this.webApp.root} (run "npm run build:web"); serving the API only.`,
      );
      return;
    }
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    // Registered once Nest's routes are, so API routes take precedence over files.
    void fastify.register(fastifyStatic, {
      root: this.webApp.root,
      prefix: '/',
      index: 'index.html',
      wildcard: true,
      dotfiles: 'ignore',
      // Angular's content-hashed bundles (main-ABCD1234.js) never change;
      // everything else (index.html, assets) is revalidated.
      setHeaders: (reply, filePath) => {
        void reply.header(
          'cache-control',
          HASHED_BUNDLE.test(filePath) ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
    });
    this.logger.log(`Serving the web app from ${this.webApp.root}`);
  }
}
