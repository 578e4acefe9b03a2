/**
 * Every setting swarmgraph reads, in one place: read once from the environment, validated,
 * documented. `README.md#configuration` mirrors the `settings` table below; keep them in step.
 */
import path from "node:path";
import { z } from "zod";

const URL_HINT = "is not a valid URL (check the port, and percent-encode special characters of the password)";
const isUrl = (value: string) => URL.canParse(value);
const seconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);
/** A comma-separated list in the environment (an array from overrides), blanks dropped. */
const list = () => z.preprocess((v) => (typeof v === "string" ? v.split(",").map((item) => item.trim()).filter((item) => item !== "") : v), z.array(z.string()));

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
      .refine(isUrl, URL_HINT)
      .optional(),
    doc: "PostgreSQL connection string. Unset: the embedded PGlite database in DATA_DIR.",
  },
  redisUrl: {
    env: "REDIS_URL",
    schema: z.string().regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL").refine(isUrl, URL_HINT).optional(),
    doc: "Redis that wakes every replica's event tailer as soon as any replica commits a change. Unset: replicas notice within EVENT_POLL_INTERVAL_MS.",
  },
  jwtSecret: {
    env: "JWT_SECRET",
    schema: z.string().min(32, "must be at least 32 characters").optional(),
    doc: "HS256 secret for access tokens. Unset: generated on first start into DATA_DIR/jwt-secret (refused when NODE_ENV=production).",
  },
  tokenSigningAlg: {
    env: "TOKEN_SIGNING_ALG",
    schema: z.enum(["ES256", "EdDSA"]).default("ES256"),
    doc: "Algorithm of the key pairs that sign the access tokens the server issues (client credentials, device flow); their public keys are at /.well-known/jwks.json. HS256 tokens of JWT_SECRET keep working.",
  },
  signingKeyRotationDays: {
    env: "SIGNING_KEY_ROTATION_DAYS",
    schema: z.coerce.number().positive().default(30),
    doc: "Age after which a new signing key pair replaces the current one; the old one keeps verifying until its tokens have expired.",
  },
  accessTokenTtlSeconds: {
    env: "ACCESS_TOKEN_TTL_SECONDS",
    schema: z.coerce.number().int().min(30).max(86_400).default(900),
    doc: "Lifetime of the access tokens the server issues (client credentials, refresh, device flow).",
  },
  refreshTokenTtlDays: {
    env: "REFRESH_TOKEN_TTL_DAYS",
    schema: z.coerce.number().positive().max(365).default(30),
    doc: "Lifetime of a service account's refresh token; each use rotates it (a reused one revokes its whole family).",
  },
  deviceCodeTtlSeconds: {
    env: "DEVICE_CODE_TTL_SECONDS",
    schema: z.coerce.number().int().min(1).max(3600).default(600),
    doc: "How long a device flow's codes wait for a person to approve or deny them.",
  },
  externalIssuer: {
    env: "EXTERNAL_ISSUER",
    schema: z.string().min(1).optional(),
    doc: "The `iss` of an external identity provider whose access tokens are accepted (with EXTERNAL_JWKS_URL and EXTERNAL_AUDIENCE). Unset: none.",
  },
  externalJwksUrl: {
    env: "EXTERNAL_JWKS_URL",
    schema: z.string().regex(/^https?:\/\//, "must be an http:// or https:// URL").refine(isUrl, "is not a valid URL").optional(),
    doc: "Where the external identity provider publishes its signing keys (a JWKS).",
  },
  externalAudience: { env: "EXTERNAL_AUDIENCE", schema: z.string().min(1).optional(), doc: "The `aud` an external token must carry to be accepted here." },
  externalWorkspaceClaim: { env: "EXTERNAL_WORKSPACE_CLAIM", schema: z.string().min(1).default("ws"), doc: "The claim of an external token naming the workspace." },
  externalDefaultWorkspace: {
    env: "EXTERNAL_DEFAULT_WORKSPACE",
    schema: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must be a workspace id (lowercase letters, digits and -, at most 63)").optional(),
    doc: "The workspace of an external token without the workspace claim. Unset: such tokens are refused.",
  },
  externalScopesClaim: {
    env: "EXTERNAL_SCOPES_CLAIM",
    schema: z.string().min(1).default("scope"),
    doc: "The claim of an external token holding its scopes: a space-separated string or an array; names that are not swarmgraph scopes are ignored.",
  },
  externalJwksCacheSeconds: { env: "EXTERNAL_JWKS_CACHE_SECONDS", schema: seconds(600), doc: "How long the external provider's keys are cached; a token naming an unknown key fetches them again (at most every 30 s)." },
  nodeEnv: { env: "NODE_ENV", schema: z.enum(["development", "production", "test"]).default("development"), doc: "production disables GraphiQL, requires JWT_SECRET, limits introspection (see INTROSPECTION) and drops \"Did you mean …?\" hints from errors." },
  logLevel: { env: "LOG_LEVEL", schema: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"), doc: "Log verbosity (pino levels)." },
  heartbeatDegradedAfter: { env: "HEARTBEAT_DEGRADED_AFTER_SECONDS", schema: seconds(30), doc: "Heartbeat age after which an agent's health is DEGRADED." },
  heartbeatUnresponsiveAfter: { env: "HEARTBEAT_UNRESPONSIVE_AFTER_SECONDS", schema: seconds(120), doc: "Heartbeat age after which an agent's health is UNRESPONSIVE." },
  leaseSeconds: { env: "TASK_LEASE_SECONDS", schema: seconds(60), doc: "How long a task claim lasts; every holder call (start, progress) extends it." },
  retryBaseSeconds: { env: "TASK_RETRY_BASE_SECONDS", schema: z.coerce.number().min(0).default(5), doc: "First retry delay of a failed task; doubles per attempt (capped at 64x)." },
  leaseSweepIntervalMs: { env: "LEASE_SWEEP_INTERVAL_MS", schema: z.coerce.number().int().min(0).default(5_000), doc: "How often expired leases are re-queued, silent agents reported unresponsive, and expired memory entries, context items and sessions deleted (0 disables the sweeper)." },
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
    doc: "How long an idempotency key of createTask(s)/createTaskGraph and publishArtifact(AndWait) is remembered; a retry after that creates anew.",
  },
  maxSubscriptionsPerPrincipal: {
    env: "MAX_SUBSCRIPTIONS_PER_PRINCIPAL",
    schema: z.coerce.number().int().min(1).default(50),
    doc: "Open subscriptions one token subject may hold per server process; more are refused with SUBSCRIPTION_LIMIT.",
  },
  memoryMaxValueBytes: {
    env: "MEMORY_MAX_VALUE_BYTES",
    schema: z.coerce.number().int().min(1024).max(16 * 1024 * 1024).default(64 * 1024),
    doc: "Largest memory entry value (after a merge) or context item data, as JSON text in UTF-8; larger writes are refused with INVALID_INPUT.",
  },
  memoryVersionsKept: {
    env: "MEMORY_VERSIONS_KEPT",
    schema: z.coerce.number().int().min(1).max(1000).default(10),
    doc: "How many versions of each memory entry are kept for `memory(version:)` and `versions`; older ones are deleted as new ones are written.",
  },
  sessionMaxMessageBytes: {
    env: "SESSION_MAX_MESSAGE_BYTES",
    schema: z.coerce.number().int().min(256).max(16 * 1024 * 1024).default(32 * 1024),
    doc: "Largest content of one session message, in UTF-8 bytes; larger appends are refused with INVALID_INPUT.",
  },
  maxPageSize: { env: "MAX_PAGE_SIZE", schema: z.coerce.number().int().min(1).max(1000).default(100), doc: "Largest `first`/`last` a connection accepts." },
  maxQueryDepth: { env: "MAX_QUERY_DEPTH", schema: z.coerce.number().int().min(2).default(12), doc: "Deepest selection a query may nest (QUERY_TOO_DEEP)." },
  maxQueryTokens: { env: "MAX_QUERY_TOKENS", schema: z.coerce.number().int().min(100).default(2000), doc: "Most tokens a query document may contain (TOO_MANY_TOKENS)." },
  maxQueryCost: {
    env: "MAX_QUERY_COST",
    schema: z.coerce.number().int().min(100).default(20_000),
    doc: "Highest estimated cost of an operation (each field counts, nested ones weigh more, a page of n multiplies by n); reported to clients as extensions.cost, refused above it with QUERY_TOO_COMPLEX.",
  },
  maxQueryAliases: { env: "MAX_QUERY_ALIASES", schema: z.coerce.number().int().min(1).default(30), doc: "Most aliases an operation may use (TOO_MANY_ALIASES)." },
  maxQueryDirectives: { env: "MAX_QUERY_DIRECTIVES", schema: z.coerce.number().int().min(1).default(50), doc: "Most directives an operation may use (TOO_MANY_DIRECTIVES)." },
  maxRequestBytes: {
    env: "MAX_REQUEST_BYTES",
    schema: z.coerce.number().int().min(1024).default(1_048_576),
    doc: "Largest HTTP request body read; a larger one is refused with 413 before it is read whole.",
  },
  maxWebSocketMessageBytes: {
    env: "MAX_WEBSOCKET_MESSAGE_BYTES",
    schema: z.coerce.number().int().min(1024).default(1_048_576),
    doc: "Largest graphql-ws message accepted; a larger one closes the socket with 1009 (message too big).",
  },
  maxInputDepth: {
    env: "MAX_INPUT_DEPTH",
    schema: z.coerce.number().int().min(4).max(256).default(32),
    doc: "Deepest nesting of objects and lists in any argument, JSON values (config, metadata, results) included; deeper is INVALID_INPUT / BAD_USER_INPUT.",
  },
  maxSearchTextLength: {
    env: "MAX_SEARCH_TEXT_LENGTH",
    schema: z.coerce.number().int().min(10).max(10_000).default(500),
    doc: "Longest full-text search query (findings `filter.text`), in characters.",
  },
  maxNodeIds: { env: "MAX_NODE_IDS", schema: z.coerce.number().int().min(1).max(1000).default(100), doc: "Most global ids one `nodes(ids:)` call may ask for." },
  introspection: {
    env: "INTROSPECTION",
    schema: z.enum(["on", "authenticated", "off"]).optional(),
    doc: "Who may introspect the schema: on (anyone), authenticated (a valid token), off. Unset: on, but authenticated when NODE_ENV=production.",
  },
  webhookTimeoutMs: {
    env: "WEBHOOK_TIMEOUT_MS",
    schema: z.coerce.number().int().min(100).max(120_000).default(10_000),
    doc: "How long a webhook endpoint has to answer one delivery (connect, headers and body); longer counts as a failed attempt and is retried.",
  },
  webhookMaxAttempts: {
    env: "WEBHOOK_MAX_ATTEMPTS",
    schema: z.coerce.number().int().min(1).max(100).default(10),
    doc: "Attempts per webhook delivery before it is given up (FAILED) and the endpoint moves on to the next event.",
  },
  webhookRetryBaseMs: {
    env: "WEBHOOK_RETRY_BASE_MS",
    schema: z.coerce.number().int().min(10).default(5_000),
    doc: "First retry delay of a failed webhook delivery; doubles per attempt, with jitter (half to all of it), up to WEBHOOK_RETRY_MAX_MS. A Retry-After header (429, 503) wins.",
  },
  webhookRetryMaxMs: {
    env: "WEBHOOK_RETRY_MAX_MS",
    schema: z.coerce.number().int().min(10).default(3_600_000),
    doc: "Longest delay between two attempts of a webhook delivery (Retry-After included).",
  },
  webhookDisableAfterFailures: {
    env: "WEBHOOK_DISABLE_AFTER_FAILURES",
    schema: z.coerce.number().int().min(1).default(50),
    doc: "Consecutive failed attempts (within WEBHOOK_FAILURE_WINDOW_SECONDS of the first) after which an endpoint is disabled, with a webhook.disabled event; its undelivered events wait for enableWebhook.",
  },
  webhookFailureWindowSeconds: {
    env: "WEBHOOK_FAILURE_WINDOW_SECONDS",
    schema: seconds(3 * 24 * 3600),
    doc: "The window WEBHOOK_DISABLE_AFTER_FAILURES counts in: a run of failures that started longer ago starts over.",
  },
  webhookLeaseSeconds: {
    env: "WEBHOOK_LEASE_SECONDS",
    schema: seconds(60),
    doc: "How long one replica holds an endpoint's delivery lease (renewed before every attempt); a replica that dies is replaced after this. Must exceed WEBHOOK_TIMEOUT_MS.",
  },
  webhookPollIntervalMs: {
    env: "WEBHOOK_POLL_INTERVAL_MS",
    schema: z.coerce.number().int().min(0).default(1_000),
    doc: "How often each replica looks for due webhook retries and free endpoints (new events wake it at once); 0 disables webhook delivery on this replica.",
  },
  webhookSecretGraceSeconds: {
    env: "WEBHOOK_SECRET_GRACE_SECONDS",
    schema: seconds(24 * 3600),
    doc: "Default time a rotated-out webhook secret still signs deliveries, beside the new one (rotateWebhookSecret `graceSeconds` overrides).",
  },
  webhookAllowPrivateTargets: {
    env: "WEBHOOK_ALLOW_PRIVATE_TARGETS",
    schema: z.union([z.boolean(), z.enum(["true", "false"], { message: "must be true or false" }).transform((v) => v === "true")]).default(false),
    doc: "Allow webhook URLs that are or resolve to loopback, private, link-local or other non-public addresses (SSRF guard). Only for development and tests.",
  },
  corsOrigins: {
    env: "CORS_ORIGINS",
    schema: list()
      .refine((list) => list.every((o) => o === "*" || /^https?:\/\/[^/\s]+$/.test(o)), "must be * or a comma-separated list of origins like https://app.example.com (scheme and host, no path)")
      .optional(),
    doc: "Browser origins allowed to call the API cross-origin, comma-separated (credentials allowed for listed origins); * allows any origin without credentials. Unset: no cross-origin access (same-origin pages such as GraphiQL and the dashboard still work).",
  },
  metricsToken: {
    env: "METRICS_TOKEN",
    schema: z.string().min(16, "must be at least 16 characters").optional(),
    doc: "When set, /metrics answers only requests with `Authorization: Bearer <METRICS_TOKEN>`. Unset: /metrics is open (protect it at the network edge, or use METRICS_PORT).",
  },
  metricsPort: {
    env: "METRICS_PORT",
    schema: z.coerce.number().int().min(0).max(65535).optional(),
    doc: "Serve /metrics on this port (on HOST) instead of the API port, e.g. for a scraper on a private network. Unset: /metrics is on the API port.",
  },
  trustedDocuments: {
    env: "TRUSTED_DOCUMENTS",
    schema: z.enum(["allow", "only"]).default("allow"),
    doc: "Persisted operations: allow accepts registered document ids (extensions.persistedQuery.sha256Hash or documentId) and any document text; only refuses every document that is not in the manifests (PERSISTED_QUERY_ONLY).",
  },
  trustedDocumentManifests: {
    env: "TRUSTED_DOCUMENT_MANIFESTS",
    schema: list().optional(),
    doc: "Comma-separated JSON manifests of registered documents (`{ \"<sha256>\": \"<document>\" }`, as `npm run codegen` writes them), relative to the working directory. Unset: the example worker's manifest (src/worker/generated/persisted-documents.json).",
  },
  shutdownTimeoutMs: { env: "SHUTDOWN_TIMEOUT_MS", schema: z.coerce.number().int().min(0).default(10_000), doc: "How long a graceful shutdown waits for in-flight requests." },
} as const;

type Settings = typeof settings;
export type Config = { [K in Exclude<keyof Settings, "introspection">]: z.output<Settings[K]["schema"]> } & {
  /** Who may introspect the schema (INTROSPECTION, defaulted by NODE_ENV). */
  introspection: "on" | "authenticated" | "off";
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
    else problems.push(`  ${setting.env}=${printable(key, raw)}: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  }
  const config = values as Config;
  if (problems.length === 0) {
    if (config.heartbeatUnresponsiveAfter <= config.heartbeatDegradedAfter) {
      problems.push("  HEARTBEAT_UNRESPONSIVE_AFTER_SECONDS must be greater than HEARTBEAT_DEGRADED_AFTER_SECONDS");
    }
    const external = [config.externalIssuer, config.externalJwksUrl, config.externalAudience];
    if (external.some(Boolean) && !external.every(Boolean)) {
      problems.push("  EXTERNAL_ISSUER, EXTERNAL_JWKS_URL and EXTERNAL_AUDIENCE go together: set all three, or none");
    }
    if (config.webhookLeaseSeconds * 1000 <= config.webhookTimeoutMs) {
      problems.push("  WEBHOOK_LEASE_SECONDS must be longer than WEBHOOK_TIMEOUT_MS (a lease must outlast the attempt it covers)");
    }
    if (config.nodeEnv === "production" && !config.jwtSecret) {
      problems.push("  JWT_SECRET is required when NODE_ENV=production (every replica must share it)");
    }
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n${problems.join("\n")}`);
  const introspection = config.introspection ?? (config.nodeEnv === "production" ? "authenticated" : "on");
  return { ...config, introspection, dataDir: path.resolve(config.dataDir), embedded: !config.databaseUrl };
}

/** Settings whose value is a secret: a problem with one names its length, never its value. */
const SECRET_SETTINGS: ReadonlySet<string> = new Set(["jwtSecret", "metricsToken"]);
/** Settings holding a URL that may carry a password. */
const URL_SETTINGS: ReadonlySet<string> = new Set(["databaseUrl", "redisUrl"]);

/** A rejected value as it may appear in an error message: secrets hidden, URL passwords masked. */
function printable(key: string, raw: unknown): string {
  if (typeof raw !== "string") return JSON.stringify(raw);
  if (SECRET_SETTINGS.has(key)) return `<${raw.length} characters, not shown>`;
  if (URL_SETTINGS.has(key)) return JSON.stringify(withoutPassword(raw));
  return JSON.stringify(raw);
}

/**
 * The URL with its password (and, for something that does not parse as a URL, everything
 * between "://" and the last "@") replaced by "***", for logs and error messages.
 */
export function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password) return url;
    parsed.password = "***";
    return parsed.toString();
  } catch {
    return url.replace(/(:\/\/)[^/]*@/, "$1***@");
  }
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
