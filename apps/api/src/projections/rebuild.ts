import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { ConfigError, loadConfig } from '../config/load-config';
import { createEventStore } from '../event-store/event-store.factory';
import { createReadModelStore } from '../read-models/read-model.factory';
import { ProjectionRunner } from './projection-runner';
import { PROJECTIONS } from './read-models';

/**
 * `npm run projections:rebuild [name ...]`: empties the named projections (all when none is named) and
 * applies every event again from position zero. Run it while the API is stopped: a live API would move
 * the checkpoint past events the rebuild has not applied yet.
 */
async function main(args: string[]): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const config = loadConfig(process.env);
  const unknown = args.filter((name) => !PROJECTIONS.some((p) => p.name === name));
  if (unknown.length > 0) {
    console.error(
      `unknown projection(s): ${unknown.join(', ')}; known: ${PROJECTIONS.map((p) => p.name).join(', ')}`,
    );
    process.exit(2);
  }
  const selected = args.length === 0 ? PROJECTIONS : PROJECTIONS.filter((p) => args.includes(p.name));

  const events = createEventStore(config);
  const readModels = await createReadModelStore(config);
  try {
    const started = Date.now();
    await readModels.register(selected.flatMap((p) => p.collections));
    for (const projection of selected) {
      await readModels.reset(
        projection.name,
        projection.collections.map((c) => c.name),
      );
    }
    const head = await events.headPosition();
    const runner = new ProjectionRunner(events, readModels, selected, {
      batchSize: readModels.kind === 'mongodb' ? 1 : 1000,
    });
    await runner.start();
    if (head >= 0) await runner.caughtUp(head, 10 * 60_000);
    await runner.stop();
    console.log(
      `rebuilt ${selected.map((p) => p.name).join(', ')} up to position ${head} in ${Date.now() - started} ms`,
    );
  } finally {
    await readModels.close();
    await events.close();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
