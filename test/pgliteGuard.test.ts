/**
 * An embedded-database failure is never silent. PGlite 0.4 swallows any exception other than
 * PostgreSQL's own ERROR that escapes its engine — e.g. V8's stack overflow inside a recursive
 * parse — and then answers that statement with no rows and later ones with nonsense. The guard
 * (src/db/pgliteGuard.ts) turns it into: the statement fails, every later one too, a fatal log
 * line, /ready 503, and the server's failure callback (`swarmgraph serve` exits with status 70).
 *
 * Always on PGlite, whatever TEST_DATABASE_URL says: the failure is the embedded engine's. The
 * request limits keep clients from reaching it (see hostileInput.test.ts), so the test reaches
 * the engine the only way left: a statement on the server's own connection.
 */
import { randomBytes } from "node:crypto";
import { pino } from "pino";
import { expect, it } from "vitest";
import { signToken } from "../src/auth/tokens.ts";
import { loadConfig } from "../src/config.ts";
import type { DatabaseFailedError } from "../src/db/pgliteGuard.ts";
import { createServer } from "../src/server.ts";
import { AgentsDocument } from "./generated/graphql.ts";
import { GraphQLClient } from "./support/client.ts";

it("a swallowed engine failure fails the statement and every later one, logs fatal, turns /ready 503 and reports once", async () => {
  const logLines: string[] = [];
  const failures: DatabaseFailedError[] = [];
  const config = loadConfig({}, { port: 0, logLevel: "fatal", nodeEnv: "test", jwtSecret: randomBytes(32).toString("hex"), leaseSweepIntervalMs: 0 });
  const server = createServer({
    config,
    database: { kind: "pglite", dataDir: "memory://" },
    logger: pino({ level: "fatal" }, { write: (line: string) => void logLines.push(line) }),
    onDatabaseFailure: (error) => failures.push(error),
  });
  const running = await server.start();
  try {
    const api = new GraphQLClient(running.url, signToken(running.jwtSecret, { subject: "t", workspaceId: "ws-a", scopes: ["admin"], ttl: "1h" }));
    expect((await api.request(AgentsDocument, { first: 1 })).agents.totalCount).toBe(0);
    const ready = () => fetch(running.url.replace(/\/graphql$/, "/ready"));
    expect((await ready()).status).toBe(200);

    // jsonb nested 50,000 deep: PostgreSQL's recursive parser overflows V8's stack under WebAssembly.
    const deep = '{"a":'.repeat(50_000) + "1" + "}".repeat(50_000);
    await expect(running.db.sql.query("SELECT $1::jsonb IS NOT NULL AS parsed", [deep])).rejects.toThrow(/embedded database \(PGlite\) failed.*Maximum call stack size exceeded/);
    await expect(running.db.sql.query("SELECT 1 AS one")).rejects.toThrow(/embedded database \(PGlite\) failed/);

    const after = await api.raw(AgentsDocument, { first: 1 });
    expect(after.data ?? null).toBeNull();
    expect(after.errors?.length).toBeGreaterThan(0);

    const response = await ready();
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ ready: false, database: "failed", reason: expect.stringMatching(/Restart the server/) });

    await vitestWaitFor(() => failures.length > 0);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.message).toMatch(/cannot be trusted any more/);
    expect(logLines.some((line) => JSON.parse(line).level === 60 && /embedded database \(PGlite\) failed/.test(JSON.parse(line).msg))).toBe(true);
  } finally {
    await server.stop();
  }
});

/** Polls `condition` (the failure callback runs on the next turn of the event loop); bounded, not timed. */
async function vitestWaitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
}
