/**
 * `npm run db:migration -- <name>`: writes prisma/migrations/<timestamp>_<name>/migration.sql with
 * the SQL that brings the existing migrations up to prisma/schema.prisma. Offline, no database.
 */
import fs from "node:fs";
import path from "node:path";
import { MIGRATIONS_DIR } from "../src/db/migrations.ts";
import { diffMigrationsToSchema } from "../src/db/schemaDiff.ts";

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error("usage: npm run db:migration -- <name>   (lowercase letters, digits and _)");
  process.exit(2);
}
const sql = await diffMigrationsToSchema();
if (!sql.trim()) {
  console.log("prisma/schema.prisma and the migrations already agree: nothing to write.");
  process.exit(0);
}
const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
const dir = path.join(MIGRATIONS_DIR, `${stamp}_${name}`);
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(path.join(dir, "migration.sql"), sql);
fs.writeFileSync(path.join(MIGRATIONS_DIR, "migration_lock.toml"), '# Written by scripts/newMigration.ts; keep in version control.\nprovider = "postgresql"\n');
console.log(`wrote ${path.relative(process.cwd(), dir)}/migration.sql`);
