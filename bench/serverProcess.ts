/**
 * Servers under measurement, each in a process of its own as in production (`swarmgraph serve`),
 * so that the bench's clients do not share their CPU time and event loop: swarmgraph on a fresh
 * database (a new PostgreSQL database from the test template, or embedded PGlite in a temporary
 * data directory), and the delivery scenario's peer, the minimal graphql-ws server
 * (bench/minimalServer.ts).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { Scope } from "../src/auth/scopes.ts";
import { signToken } from "../src/auth/tokens.ts";
import { GraphQLClient } from "../test/support/client.ts";
import { createTestDatabase } from "../test/support/database.ts";
import { keepAlivePost } from "./httpPost.ts";

/** What a bench scenario needs of a swarmgraph server. */
export interface BenchServer {
  /** Typed clients with admin tokens of a workspace. */
  client(options: { workspace: string }): GraphQLClient;
  /** The graphql-ws endpoint. */
  wsUrl: string;
  /** The server's PostgreSQL database (undefined on PGlite), for scenarios that call its SQL directly. */
  databaseUrl?: string;
  /** A token of one principal. */
  token(options: { workspace: string; subject: string; scopes: Scope[] }): string;
  /** The current value of one of the server's Prometheus gauges or counters (unlabelled). */
  metric(name: string): Promise<number>;
}

/** What a bench scenario needs of the minimal graphql-ws server. */
export interface MinimalServer {
  wsUrl: string;
  /** Pushes one tick per key, stamped with the time, to the subscribers of each key (one request). */
  tick(keys: string[]): Promise<void>;
  /** Subscriptions open. */
  subscribers(): Promise<number>;
}

export async function withServerProcess<T>(database: "postgres" | "pglite", fn: (server: BenchServer) => Promise<T>, env: Record<string, string> = {}): Promise<T> {
  const db = database === "postgres" ? await createTestDatabase() : undefined;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "swarmgraph-bench-"));
  const secret = randomBytes(32).toString("hex");
  try {
    return await withProcess(
      "../src/main.ts",
      ["serve"],
      (port) => ({
        JWT_SECRET: secret,
        DATA_DIR: dataDir,
        DATABASE_URL: db?.target.kind === "postgres" ? db.target.url : "",
        LOG_LEVEL: "warn",
        LEASE_SWEEP_INTERVAL_MS: "0",
        METRICS_TOKEN: "",
        METRICS_PORT: "",
        PORT: String(port),
        HOST: "127.0.0.1",
        ...env,
      }),
      (origin) => {
        const url = `${origin}/graphql`;
        const token: BenchServer["token"] = ({ workspace, subject, scopes }) => signToken(secret, { subject, workspaceId: workspace, scopes, ttl: "2h" });
        const post = keepAlivePost();
        return fn({
          client: ({ workspace }) => new GraphQLClient(url, token({ workspace, subject: "bench", scopes: ["admin"] }), post),
          wsUrl: url.replace(/^http/, "ws"),
          databaseUrl: db?.target.kind === "postgres" ? db.target.url : undefined,
          token,
          metric: async (name) => {
            const text = await (await fetch(`${origin}/metrics`)).text();
            const line = text.split("\n").find((l) => l.startsWith(`${name} `));
            if (!line) throw new Error(`the server has no metric ${name}`);
            return Number(line.slice(name.length + 1));
          },
        });
      },
    );
  } finally {
    await db?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export function withMinimalServer<T>(fn: (server: MinimalServer) => Promise<T>): Promise<T> {
  return withProcess("./minimalServer.ts", [], (port) => ({ PORT: String(port) }), (origin) =>
    fn({
      wsUrl: `${origin.replace(/^http/, "ws")}/graphql`,
      tick: async (keys) => {
        const response = await fetch(`${origin}/tick?${keys.map((key) => `key=${encodeURIComponent(key)}`).join("&")}`, { method: "POST" });
        await response.arrayBuffer();
      },
      subscribers: async () => Number(await (await fetch(`${origin}/subscribers`)).text()),
    }),
  );
}

/** Runs `entry` (relative to this folder) in a Node process on a free port, waits for GET /ready, and stops it after `fn`. */
async function withProcess<T>(entry: string, args: string[], env: (port: number) => Record<string, string>, fn: (origin: string) => Promise<T>): Promise<T> {
  const port = await freePort();
  // An empty value unsets the variable (DATABASE_URL for PGlite, METRICS_TOKEN for open metrics).
  const childEnv = Object.fromEntries(Object.entries({ ...process.env, ...env(port) }).filter(([, value]) => value));
  // BENCH_SERVER_NODE_ARGS: Node flags for the servers, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile them.
  const nodeArgs = process.env.BENCH_SERVER_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", path.join(import.meta.dirname, entry), ...args], {
    env: childEnv,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const origin = `http://127.0.0.1:${port}`;
  try {
    await ready(`${origin}/ready`, child);
    return await fn(origin);
  } finally {
    await stop(child);
  }
}

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function ready(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited with code ${child.exitCode} before it was ready`);
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the server was not ready after 120 s (${url})`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
  if (child.exitCode === null) child.kill("SIGKILL");
}
