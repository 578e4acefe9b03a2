/** Migrations: they produce exactly prisma/schema.prisma, apply once, and are recorded as Prisma records them. */
import { PGlite } from "@electric-sql/pglite";
import { afterEach, beforeEach, expect, it } from "vitest";
import { openDatabase } from "../src/db/client.ts";
import { applyMigrations, MigrationError, pendingMigrations, readMigrations } from "../src/db/migrations.ts";
import { diffMigrationsToSchema } from "../src/db/schemaDiff.ts";
import { pgliteRunner } from "../src/db/sql.ts";

let pglite: PGlite;
beforeEach(async () => {
  pglite = await PGlite.create();
});
afterEach(() => pglite.close());

it("produces exactly prisma/schema.prisma (no drift): run `npm run db:migration -- <name>` if this fails", async () => {
  const drift = await diffMigrationsToSchema();
  expect(drift, `migrations differ from prisma/schema.prisma:\n${drift}`).toBe("");
});

it("applies every migration once and records it in _prisma_migrations with its sha256 checksum", async () => {
  const sql = pgliteRunner(pglite);
  const migrations = readMigrations();
  expect(migrations.length).toBeGreaterThan(0);
  expect(await applyMigrations(sql)).toEqual(migrations.map((m) => m.name));
  expect(await applyMigrations(sql)).toEqual([]);
  expect(await pendingMigrations(sql)).toEqual([]);
  const rows = await sql.query<{ migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number }>(
    `SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name`,
  );
  expect(rows.map((r) => [r.migration_name, r.checksum])).toEqual(migrations.map((m) => [m.name, m.checksum]));
  expect(rows.every((r) => r.finished_at !== null && r.applied_steps_count === 1)).toBe(true);
  expect(migrations[0]!.checksum).toMatch(/^[0-9a-f]{64}$/);
});

it("refuses to start on a database whose applied migration was edited afterwards", async () => {
  const sql = pgliteRunner(pglite);
  await applyMigrations(sql);
  const edited = readMigrations().map((m, i) => (i === 0 ? { ...m, checksum: "0".repeat(64) } : m));
  await expect(applyMigrations(sql, edited)).rejects.toThrow(MigrationError);
  await expect(applyMigrations(sql, edited)).rejects.toThrow(/edited after it was applied/);
});

it("rolls a failing migration back whole, leaving nothing half-applied", async () => {
  const sql = pgliteRunner(pglite);
  const broken = [{ name: "20990101000000_broken", sql: 'CREATE TABLE "Half" (id int); SELECT no_such_function();', checksum: "f".repeat(64) }];
  await expect(applyMigrations(sql, broken)).rejects.toThrow();
  const tables = await sql.query(`SELECT 1 FROM information_schema.tables WHERE table_name = 'Half'`);
  expect(tables).toEqual([]);
  expect(await pendingMigrations(sql, broken)).toEqual(["20990101000000_broken"]);
});

it("starts a throwaway embedded database from the template it is given, not from an empty one (tests start every server so)", async () => {
  await pglite.exec(`CREATE TABLE "TemplateMarker" (id int); INSERT INTO "TemplateMarker" VALUES (7);`);
  const template = await pglite.dumpDataDir("none");
  const db = await openDatabase({ kind: "pglite", dataDir: "memory://", template });
  try {
    expect(await db.sql.query(`SELECT id FROM "TemplateMarker"`)).toEqual([{ id: 7 }]);
  } finally {
    await db.close();
  }
});
