import type { z } from 'zod';
import {
  CONFIG_VARIABLES,
  type AppConfig,
  type ConfigVariableName,
  SECRET_VARIABLES,
  configSchema,
} from './config.schema';

/** A configuration that cannot start the API. The message names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly { variable: string; message: string }[]) {
    super(
      [
        `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):`,
        ...problems.map((p) => `  - ${p.variable} ${p.message}`),
        'See .env.example for every setting and its default.',
      ].join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/**
 * Reads the configuration from `env` (process.env by default): applies the
 * embedded defaults, validates, and throws a ConfigError naming each bad
 * variable. The error never contains the value of a secret.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const result = configSchema.safeParse(env);
  if (result.success) {
    // Every variable is a key, set or not, so that configurations compare equal.
    const config: Record<string, unknown> = {};
    for (const { name } of CONFIG_VARIABLES) config[name] = undefined;
    return Object.freeze(Object.assign(config, result.data) as AppConfig);
  }
  throw new ConfigError(result.error.issues.map((issue) => describeIssue(issue, env)));
}

function describeIssue(issue: z.core.$ZodIssue, env: Record<string, string | undefined>) {
  const variable = String(issue.path[0] ?? 'configuration');
  const raw = env[variable];
  const shown =
    raw === undefined || raw.trim() === '' || SECRET_VARIABLES.has(variable as ConfigVariableName)
      ? ''
      : ` (got ${JSON.stringify(raw.length > 80 ? `${raw.slice(0, 80)}…` : raw)})`;
  return { variable, message: `${issue.message}${shown}` };
}

/**
 * A URL reduced to what is safe to log: scheme, host and port. Credentials,
 * paths (RPC providers put API keys there) and query strings are dropped.
 */
export function safeUrl(value: string): string {
  try {
    const url = new URL(value);
    return `${url.protocol}//${url.host}`;
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * A one-line-per-setting summary of the configuration for the startup log.
 * Secrets appear as "(set)", URLs as scheme://host:port only.
 */
export function describeConfig(config: AppConfig): Record<string, string> {
  const summary: Record<string, string> = {};
  for (const { name } of CONFIG_VARIABLES) {
    const value: unknown = config[name];
    if (value === undefined) {
      summary[name] = '(unset)';
    } else if (SECRET_VARIABLES.has(name)) {
      summary[name] =
        typeof value === 'string' && /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? safeUrl(value) : '(set)';
    } else {
      summary[name] = typeof value === 'string' ? value : JSON.stringify(value);
    }
  }
  return summary;
}
