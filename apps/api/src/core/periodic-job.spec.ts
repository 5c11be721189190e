import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PeriodicJob } from './periodic-job';

test('a run asked for while one is under way joins it; stop waits for it', async () => {
  let runs = 0;
  let finish: (report: number) => void = () => undefined;
  const job = new PeriodicJob(
    () => {
      runs++;
      return new Promise<number>((resolve) => (finish = resolve));
    },
    { warn: () => assert.fail('no timed run') },
    'testing',
  );
  const first = job.run(new Date());
  const joined = job.run(new Date());
  assert.equal(runs, 1);
  let stopped = false;
  const stopping = job.stop().then(() => (stopped = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(stopped, false, 'stop waits for the run under way');
  finish(7);
  assert.equal(await first, 7);
  assert.equal(await joined, 7);
  await stopping;
  const next = job.run(new Date());
  assert.equal(runs, 2, 'after a run ends, the next one runs anew');
  finish(8);
  assert.equal(await next, 8);
});

test('a timed run that fails is logged with what it does and told to onFailure; the timer goes on', async () => {
  const warnings: string[] = [];
  const failures: unknown[] = [];
  let runs = 0;
  const job = new PeriodicJob(
    async () => {
      runs++;
      throw new Error('store down');
    },
    { warn: (message: string) => warnings.push(message) },
    'sweeping things',
    (error) => failures.push(error),
  );
  assert.equal(job.scheduled, false);
  job.start(10);
  assert.equal(job.scheduled, true);
  for (let waited = 0; runs < 2 && waited < 2_000; waited += 10)
    await new Promise((resolve) => setTimeout(resolve, 10));
  await job.stop();
  assert.equal(job.scheduled, false);
  assert.ok(runs >= 2);
  assert.equal(warnings[0], 'sweeping things failed: store down');
  assert.equal(failures.length, warnings.length);
  assert.equal((failures[0] as Error).message, 'store down');
});
