/**
 * Every setting swarmgraph reads, in one place: read once from the environment, validated,
 * documented. `README.md#configuration` mirrors the `settings` table below; keep them in step.
 */
import path from "node:path";
import { z } from "zod";

const seconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** Each setting: its environment variable, its schema (with default) and one line for humans. */
const settings = {
  port: { env: "PORT", schema: z.coerce.number().int().min(0).max(65535).default(4000), doc: "HTTP and WebSocket port (0 picks a free one)." },
  host: { env: "HOST", schema: z.string().min(1).default("127.0.0.1"), doc: "Interface to listen on; 0.0.0.0 to accept outside connections." },
  dataDir: { env: "DATA_DIR", schema: z.string().min(1).default("./data"), doc: "Where the embedded database and the generated dev secret live." },
  databaseUrl: {
    env: "DATABASE_URL",
    schema: z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
      .optional(),
    doc: "PostgreSQL connection string. Unset: the embedded PGlite database in DATA_DIR.",
  },
  redisUrl: {
    env: "REDIS_URL",
    schema: z.string().regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL").optional(),
    doc: "Redis that wakes every replica's event tailer as soon as any replica commits a change. Unset: replicas notice within EVENT_POLL_INTERVAL_MS.",
  },
  jwtSecret: {
    env: "JWT_SECRET",
    schema: z.string().min(32, "must be at least 32 characters").optional(),
    doc: "HS256 secret for access tokens. Unset: generated on first start into DATA_DIR/jwt-secret (refused when NODE_ENV=production).",
  },
  nodeEnv: { env: "NODE_ENV", schema: z.enum(["development", "production", "test"]).default("development"), doc: "production disables GraphiQL and requires JWT_SECRET." },
  logLevel: { env: "LOG_LEVEL", schema: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"), doc: "Log verbosity (pino levels)." },
  heartbeatDegradedAfter: { env: "HEARTBEAT_DEGRADED_AFTER_SECONDS", schema: seconds(30), doc: "Heartbeat age after which an agent's health is DEGRADED." },
  heartbeatUnresponsiveAfter: { env: "HEARTBEAT_UNRESPONSIVE_AFTER_SECONDS", schema: seconds(120), doc: "Heartbeat age after which an agent's health is UNRESPONSIVE." },
  leaseSeconds: { env: "TASK_LEASE_SECONDS", schema: seconds(60), doc: "How long a task claim lasts; every holder call (start, progress) extends it." },
  retryBaseSeconds: { env: "TASK_RETRY_BASE_SECONDS", schema: z.coerce.number().min(0).default(5), doc: "First retry delay of a failed task; doubles per attempt (capped at 64x)." },
  leaseSweepIntervalMs: { env: "LEASE_SWEEP_INTERVAL_MS", schema: z.coerce.number().int().min(0).default(5_000), doc: "How often expired leases are re-queued and silent agents reported unresponsive (0 disables the sweeper)." },
  eventPollIntervalMs: {
    env: "EVENT_POLL_INTERVAL_MS",
    schema: z.coerce.number().int().min(10).default(200),
    doc: "How often each replica reads new rows of the event log for live subscriptions (mutations and the Redis nudge also wake it at once).",
  },
  eventRetentionHours: {
    env: "EVENT_RETENTION_HOURS",
    schema: z.coerce.number().positive().default(72),
    doc: "How long events are kept for replay; an older `after` cursor is answered EVENTS_EXPIRED.",
  },
  idempotencyKeyTtlHours: {
    env: "IDEMPOTENCY_KEY_TTL_HOURS",
    schema: z.coerce.number().positive().default(24),
    doc: "How long an idempotency key of createTask(s)/createTaskGraph is remembered; a retry after that creates new tasks.",
  },
  maxSubscriptionsPerPrincipal: {
    env: "MAX_SUBSCRIPTIONS_PER_PRINCIPAL",
    schema: z.coerce.number().int().min(1).default(50),
    doc: "Open subscriptions one token subject may hold per server process; more are refused with SUBSCRIPTION_LIMIT.",
  },
  maxPageSize: { env: "MAX_PAGE_SIZE", schema: z.coerce.number().int().min(1).max(1000).default(100), doc: "Largest `first`/`last` a connection accepts." },
  maxQueryDepth: { env: "MAX_QUERY_DEPTH", schema: z.coerce.number().int().min(2).default(12), doc: "Deepest selection a query may nest." },
  maxQueryTokens: { env: "MAX_QUERY_TOKENS", schema: z.coerce.number().int().min(100).default(2000), doc: "Most tokens a query document may contain." },
  shutdownTimeoutMs: { env: "SHUTDOWN_TIMEOUT_MS", schema: z.coerce.number().int().min(0).default(10_000), doc: "How long a graceful shutdown waits for in-flight requests." },
} as const;

type Settings = typeof settings;
export type Config = { [K in keyof Settings]: z.output<Settings[K]["schema"]> } & {
  /** Whether the server runs on the embedded PGlite database. */
  readonly embedded: boolean;
};

/** A configuration problem, worded for the person starting the server. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Reads and validates the configuration. `overrides` win over the environment (tests and CLI
 * flags use them). Throws {@link ConfigError} listing every invalid setting at once.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<Omit<Config, "embedded">> = {},
): Config {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, setting] of Object.entries(settings)) {
    const raw = key in overrides ? (overrides as Record<string, unknown>)[key] : emptyToUndefined(env[setting.env]);
    const parsed = (setting.schema as z.ZodType).safeParse(raw);
    if (parsed.success) values[key] = parsed.data;
    else problems.push(`  ${setting.env}=${JSON.stringify(raw)}: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  }
  const config = values as Config;
  if (problems.length === 0) {
    if (config.heartbeatUnresponsiveAfter <= config.heartbeatDegradedAfter) {
      problems.push("  HEARTBEAT_UNRESPONSIVE_AFTER_SECONDS must be greater than HEARTBEAT_DEGRADED_AFTER_SECONDS");
    }
    if (config.nodeEnv === "production" && !config.jwtSecret) {
      problems.push("  JWT_SECRET is required when NODE_ENV=production (every replica must share it)");
    }
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n${problems.join("\n")}`);
  return { ...config, dataDir: path.resolve(config.dataDir), embedded: !config.databaseUrl };
}

/** The settings as rows for documentation: environment variable, default, description. */
export function describeSettings(): { env: string; default: string; doc: string }[] {
  return Object.values(settings).map((s) => {
    const parsed = (s.schema as z.ZodType).safeParse(undefined);
    return { env: s.env, default: parsed.success && parsed.data !== undefined ? String(parsed.data) : "", doc: s.doc };
  });
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}
