/**
 * Starts a real swarmgraph server on a random port with its own fresh database, and mints tokens
 * for it. Every suite drives it over HTTP and WebSocket with the typed client.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type Scope } from "../../src/auth/scopes.ts";
import { issueAccessToken } from "../../src/auth/signingKeys.ts";
import { signToken } from "../../src/auth/tokens.ts";
import { type Config, loadConfig } from "../../src/config.ts";
import type { DatabaseTarget } from "../../src/db/client.ts";
import { createServer, type RunningServer, type ServerOptions } from "../../src/server.ts";
import { GraphQLClient } from "./client.ts";
import { createTestDatabase, type TestDatabase } from "./database.ts";

export interface TestServer extends RunningServer {
  config: Config;
  /** The database this server runs on. */
  target: DatabaseTarget;
  /** Mints a token for this server. Defaults: workspace "ws-a", scope admin, 1 hour. */
  token(options?: { workspace?: string; scopes?: Scope[]; ttl?: string | number; subject?: string }): string;
  /** Mints an ES256/EdDSA token signed with the server's current key pair (as client credentials would get). */
  issuedToken(options?: { workspace?: string; scopes?: Scope[]; ttlSeconds?: number; subject?: string }): Promise<string>;
  /** A typed client authenticated with `token(options)`; pass `null` for no token. */
  client(options?: Parameters<TestServer["token"]>[0] | null): GraphQLClient;
  stop(): Promise<void>;
  /**
   * Stops this server (keeping its database) and starts a new one on the same port, database and
   * secret, as a restarted process would be; the new one owns the database from then on. Needs a
   * database that outlives the process: PostgreSQL, or PGlite with `dataDir`.
   */
  restart(): Promise<TestServer>;
}

export interface StartOptions {
  config?: Partial<Omit<Config, "embedded">>;
  /**
   * Called with every SQL statement Prisma sends, but for the replica heartbeat's (a 10 s timer:
   * counts of a request's statements must not depend on whether it fired meanwhile).
   */
  onQuery?: (sql: string) => void;
  /** The server's logger (tests that read log lines pass one writing to memory). */
  logger?: ServerOptions["logger"];
  /** Extra envelop plugins (observe the operations clients send). */
  plugins?: ServerOptions["plugins"];
  /** Persist PGlite in this directory instead of memory (restart tests). */
  dataDir?: string;
  /**
   * Run on the database of this (PostgreSQL) test server instead of a fresh one — a second
   * replica. It signs tokens with the same secret; the first server owns and drops the database.
   */
  replicaOf?: TestServer;
  /** Internal to restart(): run on this database (and data directory) instead of a new one. */
  reuse?: { db: TestDatabase; dataDir: string };
}

export async function startTestServer(options: StartOptions = {}): Promise<TestServer> {
  const dataDir = options.reuse?.dataDir ?? options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "swarmgraph-test-"));
  const jwtSecret = options.replicaOf?.jwtSecret ?? randomBytes(32).toString("hex");
  const config = loadConfig({}, { port: 0, dataDir, logLevel: "silent", nodeEnv: "test", jwtSecret, ...options.config });
  if (options.replicaOf && options.replicaOf.target.kind !== "postgres") throw new Error("replicas share a PostgreSQL database; PGlite is one process's");
  const database = options.reuse
    ? { db: options.reuse.db }
    : options.replicaOf
    ? { db: { target: options.replicaOf.target, drop: async () => undefined } }
    : options.dataDir
      ? { db: { target: { kind: "pglite" as const, dataDir }, drop: async () => undefined } }
      : { db: await createTestDatabase() };
  const server = createServer({ config, database: database.db.target, onQuery: options.onQuery && countedOnly(options.onQuery), plugins: options.plugins, logger: options.logger });
  const running = await server.start();
  const token: TestServer["token"] = (o = {}) =>
    signToken(running.jwtSecret, { subject: o.subject ?? "test", workspaceId: o.workspace ?? "ws-a", scopes: o.scopes ?? ["admin"], ttl: o.ttl ?? "1h" });
  return {
    ...running,
    config,
    target: database.db.target,
    token,
    issuedToken: async (o = {}) =>
      (await issueAccessToken(running.signingKeys, { subject: o.subject ?? "test", workspaceId: o.workspace ?? "ws-a", scopes: o.scopes ?? ["admin"], ttlSeconds: o.ttlSeconds ?? 3600 })).token,
    client: (o) => new GraphQLClient(running.url, o === null ? undefined : token(o)),
    async stop() {
      await server.stop();
      await database.db.drop();
      if (!options.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
    async restart() {
      const target = database.db.target;
      if (target.kind === "pglite" && target.dataDir === "memory://") throw new Error("restart needs a database that outlives the process: PostgreSQL, or PGlite with dataDir");
      await server.stop();
      return startTestServer({ ...options, config: { ...options.config, port: running.port, jwtSecret: running.jwtSecret }, reuse: { db: database.db, dataDir } });
    },
  };
}

/** Drops the replica heartbeat's housekeeping statements (src/modules/quotas/openSubscriptions.ts). */
function countedOnly(onQuery: (sql: string) => void): (sql: string) => void {
  return (sql) => {
    if (!/"public"\."Replica"|DELETE FROM "Replica"/.test(sql)) onQuery(sql);
  };
}
