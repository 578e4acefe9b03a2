/**
 * The swarmgraph command line — the only module with side effects at start.
 *
 *   swarmgraph serve                      run the server (default)
 *   swarmgraph migrate                    apply pending migrations and exit
 *   swarmgraph token [--workspace W] [--scopes a,b] [--ttl 12h] [--subject S]
 *                                         mint an access token (the token on stdout, its id on stderr)
 *   swarmgraph worker --token T [--url U] [--name N] [--capabilities a,b] [--types x,y] [--concurrency 4]
 *                                         run the example agent (subscribes; never polls)
 */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { resolveJwtSecret } from "./auth/secret.ts";
import { ALL_SCOPES, isScope, SCOPES } from "./auth/scopes.ts";
import { signToken } from "./auth/tokens.ts";
import { ConfigError, loadConfig, type Config } from "./config.ts";
import { openDatabase } from "./db/client.ts";
import { applyMigrations } from "./db/migrations.ts";
import { createServer, databaseTarget } from "./server.ts";
import { startWorker } from "./worker/worker.ts";

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
  const server = createServer({ config, bootstrapWorkspace: config.embedded ? DEFAULT_WORKSPACE : undefined });
  const running = await server.start();
  const base = running.url.replace(/\/graphql$/, "");
  const lines = [`swarmgraph is running (${running.db.kind === "pglite" ? `embedded database in ${config.dataDir}` : "PostgreSQL"})`, `  GraphiQL:  ${running.url}`, `  health:    ${base}/health   ready: ${base}/ready`];
  if (config.embedded && config.nodeEnv !== "production") {
    if (running.secretGenerated) {
      const admin = signToken(running.jwtSecret, { subject: "admin", workspaceId: DEFAULT_WORKSPACE, scopes: ["admin"], ttl: "30d" });
      lines.push(
        "",
        `  First start: a signing secret was generated in ${config.dataDir}/jwt-secret.`,
        `  Admin token for workspace "${DEFAULT_WORKSPACE}" (valid 30 days; shown once):`,
        "",
        `  ${admin}`,
        "",
        `  curl -s ${running.url} -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \\`,
        `       -d '{"query":"{ agents(first: 5) { totalCount edges { node { id name status } } } }"}'`,
      );
    } else {
      lines.push("", "  Mint a token: npm run -s token -- --scopes admin");
    }
  }
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
  return 0;
}

async function migrate(config: Config): Promise<number> {
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
    },
  });
  const scopes = values.scopes.split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = scopes.filter((s) => !isScope(s));
  if (unknown.length > 0 || scopes.length === 0) {
    process.stderr.write(`unknown scope(s): ${unknown.join(", ") || "(none given)"}\nvalid scopes:\n${ALL_SCOPES.map((s) => `  ${s.padEnd(16)} ${SCOPES[s]}`).join("\n")}\n`);
    return 2;
  }
  const ttl = /^\d+$/.test(values.ttl) ? Number(values.ttl) : values.ttl;
  // Reads (or creates) only the secret file: safe while a server holds the embedded database.
  const { secret } = resolveJwtSecret(config);
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
      name: { type: "string", default: `worker-${process.pid}` },
      capabilities: { type: "string", default: "" },
      types: { type: "string" },
      concurrency: { type: "string", default: "1" },
    },
  });
  if (!values.token) {
    process.stderr.write("worker needs a token with agents:write and tasks:claim: --token T or SWARMGRAPH_TOKEN\n");
    return 2;
  }
  const list = (value: string | undefined) => value?.split(",").map((s) => s.trim()).filter(Boolean);
  const running = await startWorker({
    url: values.url,
    token: values.token,
    name: values.name,
    capabilities: list(values.capabilities),
    types: list(values.types),
    concurrency: Math.max(1, Number(values.concurrency) || 1),
    log: (message) => process.stdout.write(`[${values.name}] ${message}\n`),
  });
  const signalled = new Promise<undefined>((resolve) => {
    process.once("SIGINT", () => resolve(undefined));
    process.once("SIGTERM", () => resolve(undefined));
  });
  const gaveUp = await Promise.race([signalled, running.ended]);
  await running.stop();
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
