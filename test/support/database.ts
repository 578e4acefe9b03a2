/**
 * A fresh, isolated database per test server: an in-memory PGlite by default, or — when
 * TEST_DATABASE_URL points at a PostgreSQL server — a new database created on it for the test
 * and dropped afterwards.
 *
 * Both start from a template with every migration already applied, built once per set of
 * migrations and reused (PGlite: a dumped data directory cached under node_modules/.cache;
 * PostgreSQL: a template database). Starting a PGlite from scratch runs initdb in WebAssembly,
 * which took most of a test server's start-up; applying the migrations was most of the rest.
 * The migrations themselves are tested from an empty database by test/migrations.test.ts and by
 * CI's `swarmgraph migrate` step; the server's own start-up still runs them (finding none due).
 */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import type { DatabaseTarget } from "../../src/db/client.ts";
import { applyMigrations, readMigrations } from "../../src/db/migrations.ts";
import { pgliteRunner, pgRunner } from "../../src/db/sql.ts";

export const onPostgres = Boolean(process.env.TEST_DATABASE_URL);

export interface TestDatabase {
  target: DatabaseTarget;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) return { target: { kind: "pglite", dataDir: "memory://", template: await pgliteTemplate() }, drop: async () => undefined };
  const template = await postgresTemplate(adminUrl);
  const name = `swarmgraph_test_${randomBytes(6).toString("hex")}`;
  await withAdmin(adminUrl, (client) => client.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`));
  return {
    target: { kind: "postgres", url: databaseUrl(adminUrl, name) },
    drop: () => withAdmin(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

/** Names this set of migrations (and PGlite's version, whose data directory format may change). */
function migrationsKey(): string {
  const pgliteVersion = (JSON.parse(fs.readFileSync(path.join(import.meta.dirname, "../../node_modules/@electric-sql/pglite/package.json"), "utf8")) as { version: string }).version;
  const hash = createHash("sha256").update(pgliteVersion);
  for (const m of readMigrations()) hash.update(`${m.name}:${m.checksum}\n`);
  return hash.digest("hex").slice(0, 16);
}

let pgliteTemplatePromise: Promise<Blob> | undefined;

/** The migrated PGlite data directory, from the cache file or built (and cached) now. */
function pgliteTemplate(): Promise<Blob> {
  pgliteTemplatePromise ??= (async () => {
    const cacheDir = path.join(import.meta.dirname, "../../node_modules/.cache/swarmgraph-tests");
    const file = path.join(cacheDir, `pglite-${migrationsKey()}.tar`);
    if (fs.existsSync(file)) return new Blob([fs.readFileSync(file)]);
    const pglite = await PGlite.create();
    try {
      await applyMigrations(pgliteRunner(pglite));
      const dump = await pglite.dumpDataDir("none");
      fs.mkdirSync(cacheDir, { recursive: true });
      // Test workers may build it at the same time: each writes its own file and renames it.
      const partial = `${file}.${process.pid}.${randomBytes(4).toString("hex")}`;
      fs.writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
      fs.renameSync(partial, file);
      return dump;
    } finally {
      await pglite.close();
    }
  })();
  return pgliteTemplatePromise;
}

let postgresTemplatePromise: Promise<string> | undefined;

/**
 * The name of a template database holding every migration, built now unless an earlier run left
 * it. Built under another name and renamed when complete, so no one copies a half-migrated one;
 * nothing ever connects to it afterwards (CREATE DATABASE … TEMPLATE needs that). Templates of
 * earlier migration sets are left in place (another checkout's tests may be copying one).
 */
function postgresTemplate(adminUrl: string): Promise<string> {
  postgresTemplatePromise ??= (async () => {
    const name = `swarmgraph_test_template_${migrationsKey()}`;
    const exists = await withAdmin(adminUrl, (client) => client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]));
    if (exists.rowCount) return name;
    const building = `${name}_${randomBytes(4).toString("hex")}`;
    await withAdmin(adminUrl, (client) => client.query(`CREATE DATABASE "${building}"`));
    const pool = new pg.Pool({ connectionString: databaseUrl(adminUrl, building), max: 1 });
    try {
      await applyMigrations(pgRunner(pool));
    } finally {
      await pool.end();
    }
    await withAdmin(adminUrl, async (client) => {
      try {
        await client.query(`ALTER DATABASE "${building}" RENAME TO "${name}"`);
      } catch (error) {
        // Another test worker finished its template first (42P04: duplicate_database): use that one.
        if ((error as { code?: string }).code !== "42P04") throw error;
        await client.query(`DROP DATABASE "${building}" WITH (FORCE)`);
      }
    });
    return name;
  })();
  return postgresTemplatePromise;
}

function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
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
