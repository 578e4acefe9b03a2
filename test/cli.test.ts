/**
 * The command line as a person meets it: `swarmgraph token` never signs with a secret no server
 * uses, and every start — on the embedded database and on PostgreSQL alike — says how to sign in
 * (the first one prints an admin token that works).
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ViewerDocument } from "./generated/graphql.ts";
import { GraphQLClient } from "./support/client.ts";
import { createTestDatabase, onPostgres, type TestDatabase } from "./support/database.ts";
import { startTestServer } from "./support/server.ts";

const MAIN = path.resolve(import.meta.dirname, "../src/main.ts");
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "swarmgraph-cli-"));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The CLI's environment: ours, without a secret or database inherited from the test run. */
function cliEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const { JWT_SECRET: _secret, DATABASE_URL: _url, ...env } = process.env;
  return { ...env, LOG_LEVEL: "silent", ...vars };
}

function swarmgraph(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", MAIN, ...args], { env: cliEnv(env), stdio: ["ignore", "pipe", "pipe"] });
}

/** Runs a command to its end. */
async function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = swarmgraph(args, env);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => (stdout += chunk));
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { code, stdout, stderr };
}

/** Starts `serve` and resolves with what it printed once its start-up text is complete. */
async function serve(env: Record<string, string>): Promise<{ text: string; stop(): Promise<void> }> {
  const child = swarmgraph(["serve"], { PORT: "0", ...env });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    await exited;
  };
  cleanups.push(stop);
  let text = "";
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (chunk) => {
      text += chunk;
      // The guide ends with how to mint (more) tokens, or how to sign in.
      if (/(More tokens|Sign in with a token): .*\n/.test(text)) resolve();
    });
    child.once("exit", (code) => reject(new Error(`serve exited with ${code}: ${text}`)));
  });
  return { text, stop };
}

describe("swarmgraph token", () => {
  it("refuses to sign without the server's secret, naming where it looked, and creates none", async () => {
    const dataDir = tempDir();
    const result = await run(["token"], { DATA_DIR: dataDir });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(`JWT_SECRET is not set and ${path.join(dataDir, "jwt-secret")} does not exist`);
    expect(result.stderr).toMatch(/--create-secret/);
    expect(fs.readdirSync(dataDir)).toEqual([]);
  });

  it("creates a secret when asked, and a server on that data directory accepts the token", async () => {
    const dataDir = tempDir();
    const result = await run(["token", "--create-secret", "--subject", "ops", "--workspace", "team-a"], { DATA_DIR: dataDir });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`created a signing secret in ${path.join(dataDir, "jwt-secret")}`);
    // Reads the secret from DATA_DIR as `npm start` would (no JWT_SECRET).
    const server = await startTestServer({ dataDir, config: { jwtSecret: undefined } });
    cleanups.push(() => server.stop());
    const { viewer } = await new GraphQLClient(server.url, result.stdout.trim()).request(ViewerDocument);
    expect(viewer).toMatchObject({ subject: "ops", workspaceId: "team-a" });
  });
});

describe(`swarmgraph serve on ${onPostgres ? "PostgreSQL" : "the embedded database"}`, () => {
  it("prints a working admin token at the first start and how to sign in at every later one", async () => {
    const dataDir = tempDir();
    const env: Record<string, string> = { DATA_DIR: dataDir };
    if (onPostgres) {
      const db: TestDatabase = await createTestDatabase();
      cleanups.push(() => db.drop());
      env.DATABASE_URL = (db.target as { url: string }).url;
    }
    const first = await serve(env);
    expect(first.text).toContain(onPostgres ? "swarmgraph is running (PostgreSQL" : `swarmgraph is running (embedded database in ${dataDir})`);
    expect(first.text).toContain(`First start: a signing secret was generated in ${path.join(dataDir, "jwt-secret")}`);
    const url = /GraphiQL:\s+(\S+)/.exec(first.text)![1]!;
    expect(first.text).toMatch(/dashboard: http:\/\/\S+\/\n/);
    const token = /shown once\):\n\n\s+(\S+)\n/.exec(first.text)![1]!;
    const { viewer } = await new GraphQLClient(url, token).request(ViewerDocument);
    expect(viewer).toMatchObject({ subject: "admin", workspaceId: "default", scopes: ["admin"] });
    expect(first.text).toContain(`More tokens: DATA_DIR=${dataDir} npm run -s token -- --scopes admin`);
    await first.stop();

    const again = await serve(env);
    expect(again.text).not.toContain("First start");
    expect(again.text).toContain(`Sign in with a token: DATA_DIR=${dataDir} npm run -s token -- --scopes admin`);
  });
});
