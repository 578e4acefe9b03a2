/**
 * Applies the SQL migrations in `prisma/migrations/<timestamp>_<name>/migration.sql` and records
 * them in Prisma's own `_prisma_migrations` table (same columns, sha256 checksums), so Prisma's
 * `migrate status`/`deploy` agree with us wherever its native engine is available.
 *
 * Safe with several replicas starting at once: the whole run holds a PostgreSQL advisory lock.
 */
import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { SqlRunner } from "./sql.ts";

export const MIGRATIONS_DIR = fileURLToPath(new URL("../../prisma/migrations", import.meta.url));

/** Arbitrary constant naming swarmgraph's migration lock among other advisory locks. */
const MIGRATION_LOCK_KEY = 72_000_001;

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export class MigrationError extends Error {
  override name = "MigrationError";
}

/** The migrations on disk, oldest first. */
export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && fs.existsSync(path.join(dir, entry.name, "migration.sql")))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = fs.readFileSync(path.join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    });
}

const CREATE_HISTORY_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum"            VARCHAR(64) NOT NULL,
  "finished_at"         TIMESTAMPTZ,
  "migration_name"      VARCHAR(255) NOT NULL,
  "logs"                TEXT,
  "rolled_back_at"      TIMESTAMPTZ,
  "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
}

/**
 * Applies every pending migration, each in its own transaction together with its history row.
 * Refuses to run when an applied migration was edited or an earlier one failed.
 * @returns the names of the migrations applied by this call.
 */
export async function applyMigrations(sql: SqlRunner, migrations = readMigrations()): Promise<string[]> {
  await sql.exec(CREATE_HISTORY_TABLE);
  return sql.transaction(async (locked) => {
    await locked.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
    const applied = await appliedMigrations(locked);
    const done: string[] = [];
    for (const migration of migrations) {
      const previous = applied.get(migration.name);
      if (previous) {
        if (previous.checksum !== migration.checksum) {
          throw new MigrationError(`Migration ${migration.name} was edited after it was applied (checksum differs). Write a new migration instead.`);
        }
        continue;
      }
      await locked.exec(migration.sql);
      await locked.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
         VALUES ($1, $2, $3, now(), now(), 1)`,
        [randomUUID(), migration.checksum, migration.name],
      );
      done.push(migration.name);
    }
    return done;
  });
}

/** Migrations on disk that the database has not applied yet (for `/ready`). */
export async function pendingMigrations(sql: SqlRunner, migrations = readMigrations()): Promise<string[]> {
  const applied = await appliedMigrations(sql).catch(() => new Map<string, AppliedRow>());
  return migrations.filter((m) => !applied.has(m.name)).map((m) => m.name);
}

async function appliedMigrations(sql: SqlRunner): Promise<Map<string, AppliedRow>> {
  const rows = await sql.query<AppliedRow>(
    `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL`,
  );
  const failed = rows.find((row) => row.finished_at === null);
  if (failed) {
    throw new MigrationError(`Migration ${failed.migration_name} started but never finished; repair the database before starting.`);
  }
  return new Map(rows.map((row) => [row.migration_name, row]));
}
