import { Injectable } from '@nestjs/common';
import { appVersion } from '../version';

/** The state of one component (event store, read models, chain, ...). */
export type ComponentStatus = 'up' | 'degraded' | 'down';
/** ok: everything up. degraded: something is slow or behind but the API serves. down: a critical component is down. */
export type OverallStatus = 'ok' | 'degraded' | 'down';

export interface ComponentHealth {
  status: ComponentStatus;
  /** Short, non-sensitive explanation (no URLs with credentials, no personal data). */
  detail?: string;
}

export interface HealthCheck {
  /** Key in the report, e.g. "eventStore", "readModels", "chain". */
  readonly name: string;
  /** A critical component that is down makes the whole API "down" (503). */
  readonly critical: boolean;
  check(): ComponentHealth | Promise<ComponentHealth>;
}

export interface HealthReport {
  status: OverallStatus;
  version: string;
  uptimeSeconds: number;
  components: Record<string, ComponentHealth>;
}

/** How long one component check may take before it counts as down. */
export const HEALTH_CHECK_TIMEOUT_MS = 2_000;
/**
 * A component's last answer is reused for this long. GET /health is public and polled: without this,
 * every hit would probe every component (the chain check is an RPC call to the node), so the reported
 * state is at most this old while the cost stays flat under any request rate.
 */
export const HEALTH_RESULT_MAX_AGE_MS = 1_000;

/** A check's last answer, and the probe under way (shared by concurrent reports). */
interface Probe {
  result?: ComponentHealth;
  /** Date.now() when `result` was asked for. */
  askedAt: number;
  running?: Promise<ComponentHealth>;
}

/**
 * Aggregates component checks into the report served at GET /health. Modules
 * that own a component register a check in their onModuleInit:
 *
 *   constructor(private readonly health: HealthService) {}
 *   onModuleInit() { this.health.register({ name: 'chain', critical: false, check: () => ... }); }
 */
@Injectable()
export class HealthService {
  private readonly checks = new Map<string, HealthCheck>();
  private readonly probes = new Map<string, Probe>();
  private readonly startedAt = Date.now();

  register(check: HealthCheck): void {
    if (this.checks.has(check.name))
      throw new Error(`health: a check named "${check.name}" is already registered`);
    this.checks.set(check.name, check);
  }

  async report(): Promise<HealthReport> {
    const entries = await Promise.all(
      [...this.checks.values()].map(async (c) => [c, await this.probe(c)] as const),
    );
    const components: Record<string, ComponentHealth> = {};
    let status: OverallStatus = 'ok';
    for (const [check, health] of entries) {
      components[check.name] = health;
      if (health.status === 'down' && check.critical) status = 'down';
      else if (health.status !== 'up' && status === 'ok') status = 'degraded';
    }
    return {
      status,
      version: appVersion(),
      uptimeSeconds: Math.floor((Date.now() - this.startedAt) / 1000),
      components,
    };
  }

  /** The check's answer: the last one if it is recent enough, else the probe under way or a new one. */
  private probe(check: HealthCheck): Promise<ComponentHealth> | ComponentHealth {
    const now = Date.now();
    const last = this.probes.get(check.name);
    if (last?.result && now - last.askedAt < HEALTH_RESULT_MAX_AGE_MS) return last.result;
    if (last?.running) return last.running;
    const probe: Probe = { askedAt: now };
    probe.running = runCheck(check).then((result) => {
      probe.result = result;
      probe.running = undefined;
      return result;
    });
    this.probes.set(check.name, probe);
    return probe.running;
  }
}

async function runCheck(check: HealthCheck): Promise<ComponentHealth> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ComponentHealth>((resolve) => {
    timer = setTimeout(
      () => resolve({ status: 'down', detail: `no answer within ${HEALTH_CHECK_TIMEOUT_MS} ms` }),
      HEALTH_CHECK_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([Promise.resolve().then(() => check.check()), timeout]);
  } catch (error) {
    return {
      status: 'down',
      detail: `check failed: ${redactCredentials(String((error as Error)?.message ?? error))}`,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Removes user:password@ from URLs that drivers like to put in error messages. */
function redactCredentials(text: string): string {
  return text.replace(/(\/\/)[^/@\s]+@/g, '$1***@').slice(0, 200);
}
