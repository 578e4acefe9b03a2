/**
 * A fresh, isolated database per test server: an in-memory PGlite by default, or — when
 * TEST_DATABASE_URL points at a PostgreSQL server — a new database created on it for the test
 * and dropped afterwards.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { DatabaseTarget } from "../../src/db/client.ts";

export const onPostgres = Boolean(process.env.TEST_DATABASE_URL);

export interface TestDatabase {
  target: DatabaseTarget;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) return { target: { kind: "pglite", dataDir: "memory://" }, drop: async () => undefined };
  const name = `swarmgraph_test_${randomBytes(6).toString("hex")}`;
  await withAdmin(adminUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    target: { kind: "postgres", url: url.toString() },
    drop: () => withAdmin(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

async function withAdmin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
