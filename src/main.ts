/**
 * The swarmgraph command line — the only module with side effects at start.
 *
 *   swarmgraph serve                      run the server (default)
 *   swarmgraph migrate                    apply pending migrations and exit
 *   swarmgraph token [--workspace W] [--scopes a,b] [--ttl 12h] [--subject S] [--create-secret]
 *                                         mint an access token (the token on stdout, its id on stderr)
 *                                         with the server's secret; refuses when there is none
 *   swarmgraph worker --token T | --client-id ID [--client-secret S] | --device [--client-id ID] [--scope "a b"]
 *                     [--url U] [--name N] [--capabilities a,b] [--types x,y] [--concurrency 4]
 *                     [--heartbeat-seconds 15] (also renews the leases it holds: keep it well
 *                     under the server's TASK_LEASE_SECONDS)
 *                     [--consumes A,B] [--publishes C] [--handler ./handler.ts]
 *                                         run the example agent (subscribes; never polls); with
 *                                         --consumes, a blackboard agent: a handler module's default
 *                                         export turns input artifacts into outputs; signed in with
 *                                         client credentials or the device flow, it renews its token
 *                                         before expiry without dropping its subscription
 *   swarmgraph worker ... --swarm S [--type T] [--work ./work.ts]
 *                                         a swarm member: registers as type T, joins swarm S, claims
 *                                         only its tasks; SIGTERM drains it (finishes held tasks,
 *                                         terminates its agent, exits); --work's default export does
 *                                         the work
 *   swarmgraph worker --supervise --swarm S --token T [worker options for the children]
 *                                         the supervisor: follows swarm S's events and starts and
 *                                         drains `worker --swarm S --type …` processes until the
 *                                         swarm's desired composition is met
 */
import { randomUUID } from "node:crypto";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { existingJwtSecret, resolveJwtSecret, secretFile } from "./auth/secret.ts";
import { ALL_SCOPES, isScope, SCOPES } from "./auth/scopes.ts";
import { signToken } from "./auth/tokens.ts";
import { ConfigError, loadConfig, type Config } from "./config.ts";
import { applyMigrations } from "./db/migrations.ts";
// server.ts (and through it node:http and pg) loads only once tracing is set up: see src/ops/tracing.ts.
const loadServer = () => import("./server.ts");
import { startTracing } from "./ops/tracing.ts";
import type { Login } from "./worker/login.ts";
import { startSupervisor } from "./worker/supervisor.ts";
import { type ArtifactHandler, startWorker, type WorkerOptions } from "./worker/worker.ts";

const DEFAULT_WORKSPACE = "default";

async function main(argv: string[]): Promise<number> {
  const [command = "serve", ...rest] = argv;
  const config = loadConfig();
  switch (command) {
    case "serve":
      return serve(config);
    case "migrate":
      return migrate(config);
    case "token":
      return token(config, rest);
    case "worker":
      return worker(config, rest);
    default:
      process.stderr.write(`unknown command "${command}"; use serve, migrate, token or worker\n`);
      return 2;
  }
}

async function serve(config: Config): Promise<number> {
  const tracing = await startTracing();
  const { createServer } = await loadServer();
  const server = createServer({
    config,
    bootstrapWorkspace: config.embedded ? DEFAULT_WORKSPACE : undefined,
    // Never serve from a database that cannot be trusted: say why, stop, exit non-zero.
    onDatabaseFailure: (error) => {
      process.stderr.write(`\nswarmgraph: ${error.message}\nswarmgraph: stopping (exit status 70).\n`);
      const exit = () => process.exit(70);
      setTimeout(exit, config.shutdownTimeoutMs + 1_000).unref();
      server.stop().then(exit, exit);
    },
  });
  const running = await server.start();
  const base = running.url.replace(/\/graphql$/, "");
  const database = running.db.kind === "pglite" ? `embedded database in ${config.dataDir}` : `PostgreSQL ${describeDatabase(config.databaseUrl!)}`;
  const lines = [
    `swarmgraph is running (${database})`,
    `  dashboard: ${base}/`,
    ...(config.nodeEnv === "production" ? [] : [`  GraphiQL:  ${running.url}`]),
    `  health:    ${base}/health   ready: ${base}/ready   metrics: ${running.metricsUrl}`,
    ...(tracing ? ["  tracing:   on (OpenTelemetry, configured by OTEL_* variables)"] : []),
    "",
    ...tokenGuide(config, running.url, running.secretGenerated ? running.jwtSecret : undefined),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);

  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      process.stdout.write(`\n${signal}: shutting down gracefully…\n`);
      resolve();
    };
    process.once("SIGINT", () => shutdown("SIGINT"));
    process.once("SIGTERM", () => shutdown("SIGTERM"));
  });
  await server.stop();
  await tracing?.shutdown();
  return 0;
}

/**
 * What a person needs to sign in, printed at every start and on every database: after a first
 * start (the secret was just generated) an admin token, otherwise how to mint one with the
 * secret this server uses.
 */
function tokenGuide(config: Config, url: string, generatedSecret: string | undefined): string[] {
  const mint = `${config.jwtSecret ? "JWT_SECRET=<the server's> " : config.dataDir === path.resolve("data") ? "" : `DATA_DIR=${config.dataDir} `}npm run -s token -- --scopes admin`;
  if (!generatedSecret) return [`  Sign in with a token: ${mint}`, "  Paste it into the dashboard, or into GraphiQL's Headers as { \"Authorization\": \"Bearer <token>\" }."];
  const admin = signToken(generatedSecret, { subject: "admin", workspaceId: DEFAULT_WORKSPACE, scopes: ["admin"], ttl: "30d" });
  return [
    `  First start: a signing secret was generated in ${secretFile(config)}.`,
    `  Admin token for workspace "${DEFAULT_WORKSPACE}" (valid 30 days; shown once):`,
    "",
    `  ${admin}`,
    "",
    "  Paste it into the dashboard, or into GraphiQL's Headers as { \"Authorization\": \"Bearer <token>\" }, or:",
    `  curl -s ${url} -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \\`,
    `       -d '{"query":"{ agents(first: 5) { totalCount edges { node { id name status } } } }"}'`,
    `  More tokens: ${mint}`,
  ];
}

/** host:port/database of a PostgreSQL URL, without credentials. */
function describeDatabase(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || "5432"}${u.pathname}`;
}

async function migrate(config: Config): Promise<number> {
  const [{ openDatabase }, { databaseTarget }] = await Promise.all([import("./db/client.ts"), loadServer()]);
  const db = await openDatabase(databaseTarget(config));
  try {
    const applied = await applyMigrations(db.sql);
    process.stdout.write(applied.length ? `applied: ${applied.join(", ")}\n` : "database is up to date\n");
    return 0;
  } finally {
    await db.close();
  }
}

function token(config: Config, args: string[]): number {
  const { values } = parseArgs({
    args,
    options: {
      workspace: { type: "string", default: DEFAULT_WORKSPACE },
      scopes: { type: "string", default: "admin" },
      ttl: { type: "string", default: "12h" },
      subject: { type: "string", default: "cli" },
      "create-secret": { type: "boolean", default: false },
    },
  });
  const scopes = values.scopes.split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = scopes.filter((s) => !isScope(s));
  if (unknown.length > 0 || scopes.length === 0) {
    process.stderr.write(`unknown scope(s): ${unknown.join(", ") || "(none given)"}\nvalid scopes:\n${ALL_SCOPES.map((s) => `  ${s.padEnd(16)} ${SCOPES[s]}`).join("\n")}\n`);
    return 2;
  }
  const ttl = /^\d+$/.test(values.ttl) ? Number(values.ttl) : values.ttl;
  // Reads only the secret file: safe while a server holds the embedded database. A token signed
  // with a secret no server uses is rejected ("invalid signature"), so none is made up silently.
  if (!existingJwtSecret(config) && !values["create-secret"]) {
    process.stderr.write(
      [
        `no signing secret: JWT_SECRET is not set and ${secretFile(config)} does not exist.`,
        "A token must be signed with the secret of the server that will check it:",
        "  - run this with the server's DATA_DIR (DATA_DIR=/path/to/data npm run -s token) or its JWT_SECRET;",
        "  - or start the server once (npm start): the first start creates the secret and prints an admin token;",
        `  - or pass --create-secret to create one in ${config.dataDir} now (the server must then use DATA_DIR=${config.dataDir}).`,
        "",
      ].join("\n"),
    );
    return 2;
  }
  const { secret, generated } = resolveJwtSecret(config);
  if (generated) process.stderr.write(`created a signing secret in ${secretFile(config)}; start the server with DATA_DIR=${config.dataDir} to accept this token\n`);
  const tokenId = randomUUID();
  process.stdout.write(`${signToken(secret, { subject: values.subject, workspaceId: values.workspace, scopes: scopes.filter(isScope), ttl, tokenId })}\n`);
  process.stderr.write(`token id ${tokenId} (revoke it with revokeToken)\n`);
  return 0;
}

async function worker(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      url: { type: "string", default: `http://${config.host}:${config.port}/graphql` },
      token: { type: "string", default: process.env.SWARMGRAPH_TOKEN },
      "client-id": { type: "string", default: process.env.SWARMGRAPH_CLIENT_ID },
      "client-secret": { type: "string", default: process.env.SWARMGRAPH_CLIENT_SECRET },
      device: { type: "boolean", default: false },
      scope: { type: "string" },
      name: { type: "string", default: `worker-${process.pid}` },
      capabilities: { type: "string", default: "" },
      types: { type: "string" },
      concurrency: { type: "string", default: "1" },
      "heartbeat-seconds": { type: "string", default: "15" },
      consumes: { type: "string" },
      publishes: { type: "string" },
      handler: { type: "string" },
      swarm: { type: "string" },
      type: { type: "string" },
      work: { type: "string" },
      supervise: { type: "boolean", default: false },
    },
  });
  const list = (value: string | undefined) => value?.split(",").map((s) => s.trim()).filter(Boolean);
  const importDefault = async <T>(file: string) => ((await import(pathToFileURL(path.resolve(file)).href)) as { default: T }).default;
  const signalled = new Promise<undefined>((resolve) => {
    process.once("SIGINT", () => resolve(undefined));
    process.once("SIGTERM", () => resolve(undefined));
  });
  if (values.supervise) {
    if (!values.swarm || !values.token) {
      process.stderr.write("worker --supervise needs --swarm S and --token T (or SWARMGRAPH_TOKEN) with swarms:read, swarms:write, agents:write and tasks:claim: its workers use the same token\n");
      return 2;
    }
    // Everything but the supervisor's own options goes to the workers it starts.
    const own = new Set(["--supervise", "--swarm", "--token", "--url", "--name", "--type"]);
    const workerArgs: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const arg = args[i]!;
      const flag = arg.split("=")[0]!;
      if (own.has(flag)) {
        if (!arg.includes("=") && flag !== "--supervise") i++;
        continue;
      }
      workerArgs.push(arg);
    }
    const supervisor = await startSupervisor({
      url: values.url,
      token: values.token,
      swarmId: values.swarm,
      workerArgs,
      log: (message) => process.stdout.write(`[supervisor] ${message}\n`),
    });
    await signalled;
    process.stdout.write("[supervisor] stopping: draining its workers\n");
    await supervisor.stop({ drain: true });
    return 0;
  }
  const login: Login | undefined = values.device
    ? {
        kind: "device",
        clientId: values["client-id"] ?? values.name,
        scope: values.scope ?? "agents:write tasks:claim",
        onPrompt: ({ userCode, verificationUriComplete }) => process.stdout.write(`[${values.name}] to let this worker in, open ${verificationUriComplete} (or approve user code ${userCode})\n`),
      }
    : values["client-id"] && values["client-secret"]
      ? { kind: "clientCredentials", clientId: values["client-id"], clientSecret: values["client-secret"], scope: values.scope }
      : undefined;
  if (!values.token && !login) {
    process.stderr.write(
      "worker needs agents:write and tasks:claim (and artifacts:write with --consumes): --token T (or SWARMGRAPH_TOKEN), --client-id and --client-secret of a service account, or --device\n",
    );
    return 2;
  }
  const running = await startWorker({
    url: values.url,
    token: login ? undefined : values.token,
    login,
    name: values.name,
    capabilities: list(values.capabilities),
    types: list(values.types),
    concurrency: Math.max(1, Number(values.concurrency) || 1),
    heartbeatSeconds: Math.max(0.1, Number(values["heartbeat-seconds"]) || 15),
    consumes: list(values.consumes),
    publishes: list(values.publishes),
    handle: values.handler ? await importDefault<ArtifactHandler>(values.handler) : undefined,
    work: values.work ? await importDefault<NonNullable<WorkerOptions["work"]>>(values.work) : undefined,
    type: values.type,
    swarmId: values.swarm,
    log: (message) => process.stdout.write(`[${values.name}] ${message}\n`),
  });
  const gaveUp = await Promise.race([signalled, running.ended]);
  // A swarm member ends gracefully: its held tasks finish, then its agent leaves the swarm.
  if (gaveUp === undefined && values.swarm) await running.drain("stopped by a signal: finished its tasks");
  else await running.stop();
  process.stdout.write(`[${values.name}] stopped after ${running.completed} tasks\n`);
  return gaveUp === undefined ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError || (error instanceof Error && ["TokenError", "MigrationError"].includes(error.name))) {
      process.stderr.write(`${error.message}\n`);
    } else {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
    process.exit(1);
  },
);
