import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { createApp } from './bootstrap';
import { ConfigError, describeConfig, loadConfig, safeUrl } from './config/load-config';
import type { AppConfig } from './config/config.schema';
import { appVersion } from './version';

/** Forces the exit when a graceful shutdown hangs (open sockets, stuck adapters). */
const SHUTDOWN_DEADLINE_MS = 10_000;

async function main(): Promise<void> {
  // A .env in the working directory fills in what the environment leaves unset.
  if (existsSync('.env')) process.loadEnvFile('.env');

  let config: AppConfig;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }

  const app = await createApp(config);
  const logger = new Logger('Custos');
  // On a signal: close the HTTP server and every module, then exit 0 (lets async loggers flush).
  app.enableShutdownHooks(['SIGINT', 'SIGTERM'], { useProcessExit: true });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      logger.log(`${signal} received, shutting down`);
      setTimeout(() => {
        logger.error(`Shutdown took longer than ${SHUTDOWN_DEADLINE_MS} ms; exiting`);
        process.exit(1);
      }, SHUTDOWN_DEADLINE_MS).unref();
    });
  }

  await app.listen({ port: config.PORT, host: config.HOST });

  // The address actually bound (HOST, 127.0.0.1 unless set), so the log shows who can connect.
  const address = app.getHttpServer().address();
  const bound =
    typeof address === 'object' && address
      ? `${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`
      : `${config.HOST}:${config.PORT}`;
  logger.log(`Custos API ${appVersion()} (${config.NODE_ENV}) listening on http://${bound}`);
  logger.log(
    [
      `event store: ${config.EVENTSTORE_URL ? `EventStoreDB ${safeUrl(config.EVENTSTORE_URL)}` : `SQLite in ${config.CUSTOS_DATA_DIR}`}`,
      `read models: ${config.MONGODB_URI ? `MongoDB ${safeUrl(config.MONGODB_URI)}` : `SQLite in ${config.CUSTOS_DATA_DIR}`}`,
      `chain: ${safeUrl(config.CHAIN_RPC_URL)} (chain id ${config.CHAIN_ID})`,
      `video: ${config.trtc ? 'Tencent TRTC' : 'built-in WebRTC'}`,
    ].join(', '),
  );
  logger.debug(`Configuration (secrets hidden): ${JSON.stringify(describeConfig(config))}`);
}

main().catch((error: unknown) => {
  // Configuration errors are handled above; this is e.g. a port already in use.
  console.error(
    'Custos API failed to start:',
    error instanceof Error ? (error.stack ?? error.message) : error,
  );
  process.exit(1);
});
