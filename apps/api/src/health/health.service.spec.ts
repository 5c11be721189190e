import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HEALTH_CHECK_TIMEOUT_MS, HEALTH_RESULT_MAX_AGE_MS, HealthService } from './health.service';

test('with no component registered, the API reports ok with its version and uptime', async () => {
  const report = await new HealthService().report();
  assert.equal(report.status, 'ok');
  assert.match(report.version, /^\d+\.\d+\.\d+/);
  assert.equal(typeof report.uptimeSeconds, 'number');
  assert.deepEqual(report.components, {});
});

test('a component that is behind makes the API degraded, not down: reads keep being served', async () => {
  const health = new HealthService();
  health.register({ name: 'eventStore', critical: true, check: () => ({ status: 'up' }) });
  health.register({
    name: 'chain',
    critical: false,
    check: async () => ({ status: 'degraded', detail: 'RPC unreachable, retrying' }),
  });
  const report = await health.report();
  assert.equal(report.status, 'degraded');
  assert.deepEqual(report.components.chain, { status: 'degraded', detail: 'RPC unreachable, retrying' });
  assert.deepEqual(report.components.eventStore, { status: 'up' });
});

test('a non-critical component that is down only degrades; a critical one takes the API down', async () => {
  const health = new HealthService();
  health.register({ name: 'chain', critical: false, check: () => ({ status: 'down' }) });
  assert.equal((await health.report()).status, 'degraded');
  health.register({ name: 'eventStore', critical: true, check: () => ({ status: 'down' }) });
  assert.equal((await health.report()).status, 'down');
});

test('a check that throws counts as down, without leaking credentials from the error', async () => {
  const health = new HealthService();
  health.register({
    name: 'readModels',
    critical: true,
    check: () => {
      throw new Error('connect ECONNREFUSED mongodb://app:s3cret@mongo:27017');
    },
  });
  const report = await health.report();
  assert.equal(report.status, 'down');
  assert.equal(report.components.readModels?.status, 'down');
  assert.doesNotMatch(report.components.readModels?.detail ?? '', /s3cret/);
});

test('a check that hangs counts as down after the timeout, so /health always answers', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const health = new HealthService();
  health.register({ name: 'chain', critical: false, check: () => new Promise(() => undefined) });
  const pending = health.report();
  await Promise.resolve();
  await Promise.resolve();
  t.mock.timers.tick(HEALTH_CHECK_TIMEOUT_MS);
  const report = await pending;
  assert.equal(report.status, 'degraded');
  assert.match(report.components.chain?.detail ?? '', /no answer within/);
});

test('two checks cannot share a name', () => {
  const health = new HealthService();
  health.register({ name: 'chain', critical: false, check: () => ({ status: 'up' }) });
  assert.throws(
    () => health.register({ name: 'chain', critical: false, check: () => ({ status: 'up' }) }),
    /already registered/,
  );
});

test('a component is probed at most once per HEALTH_RESULT_MAX_AGE_MS, however often /health is asked', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: Date.parse('2030-01-01T00:00:00Z') });
  const health = new HealthService();
  let probes = 0;
  let status: 'up' | 'degraded' = 'up';
  health.register({
    name: 'chain',
    critical: false,
    check: () => {
      probes++;
      return { status };
    },
  });
  assert.equal((await health.report()).components.chain?.status, 'up');
  status = 'degraded';
  // Within the window: the last answer, no new probe.
  t.mock.timers.tick(HEALTH_RESULT_MAX_AGE_MS - 1);
  for (let i = 0; i < 10; i++) assert.equal((await health.report()).components.chain?.status, 'up');
  assert.equal(probes, 1);
  // Then the component is asked again, and the report says what it answers now.
  t.mock.timers.tick(1);
  assert.equal((await health.report()).components.chain?.status, 'degraded');
  assert.equal((await health.report()).status, 'degraded');
  assert.equal(probes, 2);
});

test('concurrent reports share one probe of a slow component', async () => {
  const health = new HealthService();
  let probes = 0;
  let answer: (value: { status: 'up' }) => void = () => undefined;
  health.register({
    name: 'readModels',
    critical: true,
    check: () => {
      probes++;
      return new Promise((resolve) => (answer = resolve));
    },
  });
  const reports = Array.from({ length: 5 }, () => health.report());
  await new Promise((resolve) => setImmediate(resolve));
  answer({ status: 'up' });
  for (const report of await Promise.all(reports)) assert.equal(report.status, 'ok');
  assert.equal(probes, 1);
});
