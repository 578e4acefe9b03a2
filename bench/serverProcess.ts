/**
 * The server under measurement, in a process of its own as in production (`swarmgraph serve`),
 * so that the bench's clients do not share its CPU time and event loop. It runs on a fresh
 * database: a new PostgreSQL database from the test template (TEST_DATABASE_URL), or embedded
 * PGlite in a temporary data directory.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { signToken } from "../src/auth/tokens.ts";
import { GraphQLClient } from "../test/support/client.ts";
import { createTestDatabase } from "../test/support/database.ts";

/** What a bench scenario needs of a server: typed clients with admin tokens of a workspace. */
export interface BenchServer {
  client(options: { workspace: string }): GraphQLClient;
}

export async function withServerProcess<T>(database: "postgres" | "pglite", fn: (server: BenchServer) => Promise<T>): Promise<T> {
  const db = database === "postgres" ? await createTestDatabase() : undefined;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "swarmgraph-bench-"));
  const port = await freePort();
  const secret = randomBytes(32).toString("hex");
  const child = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "../src/main.ts"), "serve"], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      JWT_SECRET: secret,
      DATA_DIR: dataDir,
      DATABASE_URL: db?.target.kind === "postgres" ? db.target.url : "",
      LOG_LEVEL: "warn",
      LEASE_SWEEP_INTERVAL_MS: "0",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const url = `http://127.0.0.1:${port}/graphql`;
  try {
    await ready(`http://127.0.0.1:${port}/ready`, child);
    return await fn({
      client: ({ workspace }) => new GraphQLClient(url, signToken(secret, { subject: "bench", workspaceId: workspace, scopes: ["admin"], ttl: "2h" })),
    });
  } finally {
    await stop(child);
    await db?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
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
