// The API's ONE configuration schema. Every setting the API reads from the
// environment is declared here, with its embedded default (the single-machine
// setup that `npm start` runs: SQLite under CUSTOS_DATA_DIR, a local chain on
// 127.0.0.1:8545), its documentation line (mirrored in `.env.example`), whether
// it is a secret (never logged, never echoed in an error) and whether it must be
// given explicitly when NODE_ENV=production.
//
// Production rule: with NODE_ENV=production the embedded defaults that only make
// sense on a developer's machine are not applied. Every variable marked
// `requiredInProduction` must be set (the production adapters, the real chain and
// contract, the relayer key, the token secret and the public URL), publicly known
// development keys are refused, and demo mode is refused.
//
// Empty values count as unset, so `VAR=` in a .env file or `${VAR:-}` in compose
// means "use the default".
import { MAX_RECORD_BYTES } from '@custos/domain';
import { HDNodeWallet, Mnemonic, SigningKey, computeAddress, getAddress } from 'ethers';
import { z } from 'zod';

export interface SettingMeta {
  /** One line for `.env.example`. */
  description: string;
  /**
   * The embedded default as it is written in `.env.example` (the same text the
   * variable would be set to). Absent when the variable is unset by default.
   */
  default?: string;
  /** What "unset" means, for variables without a default. */
  whenUnset?: string;
  /** Never logged, never echoed in an error message. */
  secret?: boolean;
  /** Must be set explicitly when NODE_ENV=production. */
  requiredInProduction?: boolean;
}

/** Metadata of each setting, keyed by its schema. */
export const settingsRegistry = z.registry<SettingMeta>();

/** The well-known mnemonic of anvil's and Hardhat's development accounts. */
export const DEVELOPMENT_MNEMONIC = 'test test test test test test test test test test test junk';
/**
 * The private key of anvil's development account #0, derived from
 * DEVELOPMENT_MNEMONIC. Public knowledge: used as the relayer outside
 * production only, refused in production.
 */
export const DEVELOPMENT_RELAYER_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
export const DEFAULT_CHAIN_RPC_URL = 'http://127.0.0.1:8545';
export const DEFAULT_CHAIN_ID = 31337;

const NODE_ENVS = ['development', 'test', 'production'] as const;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

// ---------------------------------------------------------------------------
// Value types
// ---------------------------------------------------------------------------

const blankToUndefined = (value: unknown): unknown =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

/** A setting with an embedded default: its output is always defined. */
function setting<T extends z.ZodType<unknown, string>>(schema: T, meta: SettingMeta & { default: string }) {
  const field = z.preprocess(blankToUndefined, schema.prefault(meta.default as z.input<T>));
  field.register(settingsRegistry, meta);
  return field;
}

/** A setting without an embedded default: undefined when unset. */
function optionalSetting<T extends z.ZodType<unknown, string>>(
  schema: T,
  meta: SettingMeta & { default?: string; whenUnset: string },
) {
  const field = z.preprocess(blankToUndefined, schema.optional());
  field.register(settingsRegistry, meta);
  return field;
}

const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, { error: `must be a whole number between ${min} and ${max}` })
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, { error: `must be at least ${min}` })
        .max(max, { error: `must be at most ${max}` }),
    );

const booleanFlag = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'].includes(v), {
    error: 'must be true or false (also accepted: 1/0, yes/no, on/off)',
  })
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

/** The units a duration setting is written in, largest first: milliseconds each, and their words. */
const DURATION_UNITS = {
  h: { ms: 3_600_000, one: 'hour', many: 'hours' },
  m: { ms: 60_000, one: 'minute', many: 'minutes' },
  s: { ms: 1000, one: 'second', many: 'seconds' },
  ms: { ms: 1, one: 'millisecond', many: 'milliseconds' },
} as const;
type DurationUnit = keyof typeof DURATION_UNITS;

/** A duration such as `500ms`, `60s`, `15m`, `1h`; a bare number is seconds. Output: milliseconds. */
const duration = z
  .string()
  .trim()
  .regex(/^\d+(ms|s|m|h)?$/, {
    error: 'must be a duration such as 500ms, 60s, 15m or 1h (a bare number is seconds)',
  })
  .transform((v) => {
    const [, amount, unit] = /^(\d+)(ms|s|m|h)?$/.exec(v) as RegExpExecArray;
    return Number(amount) * DURATION_UNITS[(unit ?? 's') as DurationUnit].ms;
  });

/** A duration setting in words, in the largest unit that measures it whole: `1 hour`, `90 minutes`. */
export function durationInWords(ms: number): string {
  const unit =
    Object.values(DURATION_UNITS).find((candidate) => ms % candidate.ms === 0) ?? DURATION_UNITS.ms;
  const amount = ms / unit.ms;
  return `${amount} ${amount === 1 ? unit.one : unit.many}`;
}

const positiveDuration = duration.refine((ms) => ms > 0, { error: 'must be longer than 0' });

/** A URL whose scheme is one of `protocols` (given without the colon). */
const urlWith = (...protocols: string[]) =>
  z
    .string()
    .trim()
    .refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol.slice(0, -1));
        } catch {
          return false;
        }
      },
      { error: `must be a URL starting with ${protocols.map((p) => `${p}://`).join(' or ')}` },
    );

const httpUrl = urlWith('http', 'https');

const ethereumAddress = z
  .string()
  .trim()
  .refine(
    (v) => {
      if (!/^0x[0-9a-fA-F]{40}$/.test(v)) return false;
      try {
        getAddress(v); // rejects a mixed-case address with a wrong checksum
        return true;
      } catch {
        return false;
      }
    },
    { error: 'must be a 0x-prefixed 20-byte hex address (with a valid checksum if mixed-case)' },
  )
  .transform((v) => getAddress(v));

const privateKey = z
  .string()
  .trim()
  .refine(
    (v) => {
      if (!/^0x[0-9a-fA-F]{64}$/.test(v)) return false;
      try {
        new SigningKey(v);
        return true;
      } catch {
        return false;
      }
    },
    { error: 'must be a 0x-prefixed 32-byte hex private key' },
  );

const corsOrigins = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .refine(
    (origins) =>
      origins.every((o) => {
        try {
          const url = new URL(o);
          return (
            (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === o.replace(/\/$/, '')
          );
        } catch {
          return false;
        }
      }),
    {
      error:
        'must be a comma-separated list of origins such as https://custos.example (scheme, host, port; no path)',
    },
  )
  .transform((origins) => origins.map((o) => o.replace(/\/$/, '')));

const iceServer = z
  .object({
    urls: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    username: z.string().optional(),
    credential: z.string().optional(),
  })
  .strict();
export type IceServer = z.infer<typeof iceServer>;

const iceServers = z.string().transform((v, ctx): IceServer[] => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be JSON, e.g. [{"urls":"stun:stun.example.org:3478"}]' });
    return z.NEVER;
  }
  const result = z.array(iceServer).safeParse(parsed);
  if (!result.success) {
    ctx.addIssue({
      code: 'custom',
      message: 'must be a JSON array of {"urls", "username"?, "credential"?} objects (RTCIceServer)',
    });
    return z.NEVER;
  }
  return result.data;
});

// ---------------------------------------------------------------------------
// The schema
// ---------------------------------------------------------------------------

/** The environment variables, each validated and defaulted on its own. */
export const envSchema = z
  .object({
    // --- runtime and HTTP -----------------------------------------------------
    NODE_ENV: setting(z.enum(NODE_ENVS, { error: `must be one of ${NODE_ENVS.join(', ')}` }), {
      default: 'development',
      description: 'development, test or production; production requires explicit settings (see below)',
    }),
    HOST: setting(z.string().trim().min(1), {
      default: '127.0.0.1',
      description: 'Address the HTTP server binds to; use 0.0.0.0 only behind a firewall or in a container',
    }),
    PORT: setting(wholeNumber(0, 65535), {
      default: '3000',
      description: 'HTTP port (0 picks a free one)',
    }),
    PUBLIC_URL: optionalSetting(httpUrl, {
      whenUnset: 'http://127.0.0.1:$PORT',
      requiredInProduction: true,
      description:
        'URL users open in the browser; the Sign-In with Ethereum domain and URI are taken from it',
    }),
    CORS_ORIGIN: optionalSetting(corsOrigins, {
      whenUnset: 'no cross-origin access (the web app is served by the API itself)',
      description: 'Comma-separated browser origins allowed to call the API cross-origin',
    }),
    TRUST_PROXY: setting(booleanFlag, {
      default: 'false',
      description: 'Trust X-Forwarded-* headers (set true only behind your own reverse proxy)',
    }),
    MAX_BODY_BYTES: setting(wholeNumber(1024, 100 * 1024 * 1024), {
      default: '262144',
      description:
        'Largest request body accepted, in bytes (JSON); larger bodies are refused (413) before they are read',
    }),
    RECORD_MAX_BYTES: setting(wholeNumber(1024, MAX_RECORD_BYTES), {
      default: String(MAX_RECORD_BYTES),
      description: `Largest encrypted record POST /records/blobs accepts, in bytes (at most ${MAX_RECORD_BYTES}, the record size limit)`,
    }),
    UPLOADS_UNCLAIMED_MAX_BYTES: setting(wholeNumber(1024, Number.MAX_SAFE_INTEGER), {
      default: String(256 * 1024 * 1024),
      description:
        'Bytes of uploads (POST /records/blobs) that no record or message refers to yet an account may have; an upload past it is refused (413)',
    }),
    UPLOADS_UNCLAIMED_FOR: setting(positiveDuration, {
      default: '24h',
      description:
        'How long an upload nothing refers to is kept: then it is removed from the blob store (checked every 10 minutes)',
    }),

    // --- abuse limits (per client, counted in memory by each API process) ---------
    RATE_LIMIT_WINDOW: setting(positiveDuration, {
      default: '1m',
      description:
        'Window the RATE_LIMIT_* counts are taken over; a client over a limit gets 429 with Retry-After',
    }),
    RATE_LIMIT_SIGN_IN: setting(wholeNumber(1, 1_000_000_000), {
      default: '300',
      description:
        'POST /auth/* (nonce, verify, sign-out) per client IP per RATE_LIMIT_WINDOW (behind a proxy, set TRUST_PROXY)',
    }),
    RATE_LIMIT_RELAY: setting(wholeNumber(1, 1_000_000_000), {
      default: '120',
      description:
        'Relayed consents and records (POST /consents/grants, /grants/batch, /revocations, /records) per account (per IP when signed out) per RATE_LIMIT_WINDOW',
    }),
    RATE_LIMIT_CREDENTIALS: setting(wholeNumber(1, 1_000_000_000), {
      default: '120',
      description:
        'Call credentials (POST /sessions/:id/credentials) per account (per IP when signed out) per RATE_LIMIT_WINDOW',
    }),
    RATE_LIMIT_UPLOADS: setting(wholeNumber(1, 1_000_000_000), {
      default: '60',
      description:
        'Encrypted record uploads (POST /records/blobs, up to RECORD_MAX_BYTES each) per account (per IP when signed out) per RATE_LIMIT_WINDOW',
    }),
    RATE_LIMIT_REFUSED: setting(wholeNumber(1, 1_000_000_000), {
      default: '120',
      description:
        'Refused requests (401, 403, 404: each an audit event) per account (per IP when signed out) per RATE_LIMIT_WINDOW; past it every request of the client is answered 429 until its window ends',
    }),
    LOG_LEVEL: setting(z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }), {
      default: 'info',
      description: 'Least severe log level written: fatal, error, warn, info, debug or trace',
    }),
    WEB_DIST_DIR: setting(z.string().trim().min(1), {
      default: 'dist/web-angular/browser',
      description: 'Built Angular app served at / when the folder exists (relative to the working directory)',
    }),

    // --- embedded storage -------------------------------------------------------
    CUSTOS_DATA_DIR: setting(z.string().trim().min(1), {
      default: './data',
      description: 'Folder for the embedded stores (SQLite event store and read models, blobs, chain state)',
    }),
    CUSTOS_DEMO: setting(booleanFlag, {
      default: 'false',
      description:
        'Register demo provider, emergency and auditor accounts (npm start -- --demo); refused in production',
    }),

    // --- production adapters ----------------------------------------------------
    EVENTSTORE_URL: optionalSetting(urlWith('esdb', 'esdb+discover', 'kurrentdb', 'kurrentdb+discover'), {
      whenUnset: 'SQLite event store under CUSTOS_DATA_DIR',
      requiredInProduction: true,
      secret: true,
      description: 'EventStoreDB/KurrentDB connection string, e.g. esdb://localhost:2113?tls=false',
    }),
    MONGODB_URI: optionalSetting(urlWith('mongodb', 'mongodb+srv'), {
      whenUnset: 'SQLite read models under CUSTOS_DATA_DIR',
      requiredInProduction: true,
      secret: true,
      description:
        'MongoDB connection string for the read models (a replica set), e.g. mongodb://localhost:27017/custos?replicaSet=rs0',
    }),
    IPFS_API_URL: optionalSetting(httpUrl, {
      whenUnset: 'content-addressed files under CUSTOS_DATA_DIR',
      secret: true,
      description: 'Kubo (IPFS) RPC API for encrypted record blobs, e.g. http://127.0.0.1:5001',
    }),

    // --- chain --------------------------------------------------------------------
    CHAIN_RPC_URL: optionalSetting(urlWith('http', 'https', 'ws', 'wss'), {
      default: DEFAULT_CHAIN_RPC_URL,
      whenUnset: `${DEFAULT_CHAIN_RPC_URL} (the local chain npm start runs)`,
      requiredInProduction: true,
      secret: true, // provider URLs often carry an API key
      description: 'EVM JSON-RPC endpoint of the chain that holds consent',
    }),
    CHAIN_ID: optionalSetting(wholeNumber(1, Number.MAX_SAFE_INTEGER), {
      default: String(DEFAULT_CHAIN_ID),
      whenUnset: `${DEFAULT_CHAIN_ID} (the local chain)`,
      requiredInProduction: true,
      description: 'Chain id expected from CHAIN_RPC_URL, checked at sign-in and in EIP-712 signatures',
    }),
    CONTRACT_ADDRESS: optionalSetting(ethereumAddress, {
      whenUnset: 'the address npm start deployed on the local chain, saved under CUSTOS_DATA_DIR',
      requiredInProduction: true,
      description: 'Address of the HealthRecordAccessControl contract',
    }),
    CHAIN_CONFIRMATIONS: setting(wholeNumber(0, 1000), {
      default: '1',
      description: 'Blocks after which a contract log is treated as final',
    }),
    CHAIN_POLL_INTERVAL: setting(duration, {
      default: '1s',
      description: 'How often the chain mirror polls for new blocks',
    }),
    RELAYER_PRIVATE_KEY: optionalSetting(privateKey, {
      whenUnset: "anvil's well-known development account #0 (refused in production)",
      requiredInProduction: true,
      secret: true,
      description:
        'Private key of the account that relays signed consents and anchors audit roots (pays the gas)',
    }),
    AUDIT_ANCHOR_INTERVAL: setting(duration, {
      default: '60s',
      description:
        'How often the Merkle root of new audit events is anchored on-chain (0 disables anchoring)',
    }),

    // --- sign-in and tokens ----------------------------------------------------
    AUTH_TOKEN_SECRET: optionalSetting(
      z.string().min(32, { error: 'must be at least 32 characters (e.g. openssl rand -base64 48)' }),
      {
        whenUnset: 'a random secret per process (tokens do not survive a restart)',
        requiredInProduction: true,
        secret: true,
        description: 'Secret that signs the Bearer session tokens issued at sign-in (at least 32 characters)',
      },
    ),
    AUTH_TOKEN_TTL: setting(duration, {
      default: '15m',
      description: 'Lifetime of a session token',
    }),
    SIWE_NONCE_TTL: setting(duration, {
      default: '5m',
      description: 'Lifetime of a Sign-In with Ethereum nonce (single use)',
    }),

    // --- video ------------------------------------------------------------------------
    TRTC_SDK_APP_ID: optionalSetting(wholeNumber(1, Number.MAX_SAFE_INTEGER), {
      whenUnset: 'built-in WebRTC signalling instead of Tencent TRTC',
      description: 'Tencent TRTC SDKAppID (set together with TRTC_SECRET_KEY)',
    }),
    TRTC_SECRET_KEY: optionalSetting(z.string().trim().min(1), {
      whenUnset: 'built-in WebRTC signalling instead of Tencent TRTC',
      secret: true,
      description:
        'Tencent TRTC secret key that signs UserSig and PrivateMapKey (set together with TRTC_SDK_APP_ID)',
    }),
    ICE_SERVERS: setting(iceServers, {
      default: '[]',
      secret: true, // TURN entries carry credentials
      description:
        'STUN/TURN servers for WebRTC as a JSON array of RTCIceServer; [] works on one machine or LAN',
    }),

    // --- messaging transport -------------------------------------------------------
    TENCENT_CHAT_SDK_APP_ID: optionalSetting(wholeNumber(1, Number.MAX_SAFE_INTEGER), {
      whenUnset: "messages are delivered over the API's own WebSocket only",
      description:
        'Tencent Chat SDKAppID: the web app may also carry ciphertext over @tencentcloud/chat (set with TENCENT_CHAT_SECRET_KEY)',
    }),
    TENCENT_CHAT_SECRET_KEY: optionalSetting(z.string().trim().min(1), {
      whenUnset: "messages are delivered over the API's own WebSocket only",
      secret: true,
      description: 'Tencent Chat secret key that signs chat UserSigs (set with TENCENT_CHAT_SDK_APP_ID)',
    }),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV !== 'production') return;
    for (const name of PRODUCTION_REQUIRED) {
      if (env[name] === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: 'is required when NODE_ENV=production (the embedded default is for local use only)',
        });
      }
    }
    if (typeof env.RELAYER_PRIVATE_KEY === 'string' && isDevelopmentKey(env.RELAYER_PRIVATE_KEY)) {
      ctx.addIssue({
        code: 'custom',
        path: ['RELAYER_PRIVATE_KEY'],
        message:
          'is a publicly known development key (anvil/Hardhat test accounts) and is refused in production',
      });
    }
    if (env.CUSTOS_DEMO === true) {
      ctx.addIssue({
        code: 'custom',
        path: ['CUSTOS_DEMO'],
        message: 'must be false when NODE_ENV=production (demo accounts have published keys)',
      });
    }
  })
  .superRefine((env, ctx) => {
    if ((env.TRTC_SDK_APP_ID === undefined) !== (env.TRTC_SECRET_KEY === undefined)) {
      const missing = env.TRTC_SDK_APP_ID === undefined ? 'TRTC_SDK_APP_ID' : 'TRTC_SECRET_KEY';
      ctx.addIssue({
        code: 'custom',
        path: [missing],
        message:
          'must be set together with the other TRTC_* setting (or leave both unset for built-in WebRTC)',
      });
    }
    if ((env.TENCENT_CHAT_SDK_APP_ID === undefined) !== (env.TENCENT_CHAT_SECRET_KEY === undefined)) {
      const missing =
        env.TENCENT_CHAT_SDK_APP_ID === undefined ? 'TENCENT_CHAT_SDK_APP_ID' : 'TENCENT_CHAT_SECRET_KEY';
      ctx.addIssue({
        code: 'custom',
        path: [missing],
        message:
          'must be set together with the other TENCENT_CHAT_* setting (or leave both unset for the WebSocket only)',
      });
    }
  });

/**
 * The configuration schema: the environment in, the API's configuration out.
 * Defaults that depend on other settings or on the mode are applied here.
 */
export const configSchema = envSchema.transform((env) => ({
  ...env,
  PUBLIC_URL: (env.PUBLIC_URL ?? `http://127.0.0.1:${env.PORT}`).replace(/\/$/, ''),
  CORS_ORIGIN: env.CORS_ORIGIN ?? [],
  CHAIN_RPC_URL: env.CHAIN_RPC_URL ?? DEFAULT_CHAIN_RPC_URL,
  CHAIN_ID: env.CHAIN_ID ?? DEFAULT_CHAIN_ID,
  RELAYER_PRIVATE_KEY: env.RELAYER_PRIVATE_KEY ?? DEVELOPMENT_RELAYER_KEY,
  /** TRTC credentials when both TRTC settings are given, otherwise built-in WebRTC. */
  trtc:
    env.TRTC_SDK_APP_ID !== undefined && env.TRTC_SECRET_KEY !== undefined
      ? { sdkAppId: env.TRTC_SDK_APP_ID, secretKey: env.TRTC_SECRET_KEY }
      : undefined,
  /** Tencent Chat credentials when both settings are given, otherwise the API's WebSocket only. */
  tencentChat:
    env.TENCENT_CHAT_SDK_APP_ID !== undefined && env.TENCENT_CHAT_SECRET_KEY !== undefined
      ? { sdkAppId: env.TENCENT_CHAT_SDK_APP_ID, secretKey: env.TENCENT_CHAT_SECRET_KEY }
      : undefined,
}));

export type AppConfig = z.output<typeof configSchema>;
export type ConfigVariableName = keyof typeof envSchema.shape;

export interface ConfigVariable extends SettingMeta {
  name: ConfigVariableName;
  secret: boolean;
  requiredInProduction: boolean;
}

/** Every variable the schema reads, in declaration order, with its metadata. */
export const CONFIG_VARIABLES: readonly ConfigVariable[] = (
  Object.entries(envSchema.shape) as [ConfigVariableName, z.ZodType][]
).map(([name, schema]) => {
  const meta = settingsRegistry.get(schema);
  if (!meta) throw new Error(`config: ${name} has no metadata`);
  return {
    ...meta,
    name,
    secret: meta.secret ?? false,
    requiredInProduction: meta.requiredInProduction ?? false,
  };
});

/** The variables that must be set explicitly when NODE_ENV=production. */
export const PRODUCTION_REQUIRED_VARIABLES: readonly ConfigVariableName[] = CONFIG_VARIABLES.filter(
  (v) => v.requiredInProduction,
).map((v) => v.name);
// Read by the superRefine above, which runs only at parse time.
const PRODUCTION_REQUIRED = PRODUCTION_REQUIRED_VARIABLES;

/** The variables never to be logged or echoed. */
export const SECRET_VARIABLES: ReadonlySet<ConfigVariableName> = new Set(
  CONFIG_VARIABLES.filter((v) => v.secret).map((v) => v.name),
);

let developmentAddresses: Set<string> | undefined;
/** True for the keys of the first 20 accounts of the well-known development mnemonic. */
function isDevelopmentKey(key: string): boolean {
  if (!developmentAddresses) {
    const root = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(DEVELOPMENT_MNEMONIC), "m/44'/60'/0'/0");
    developmentAddresses = new Set(Array.from({ length: 20 }, (_, i) => root.deriveChild(i).address));
  }
  try {
    return developmentAddresses.has(computeAddress(key));
  } catch {
    return false;
  }
}
