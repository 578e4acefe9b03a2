/**
 * Development-time only (uses the devDependency @prisma/schema-engine-wasm): computes the SQL
 * that takes "all migrations applied" to "prisma/schema.prisma", with Prisma's own schema engine
 * compiled to WASM, against a throwaway in-memory PGlite. Prisma's native migrate commands need
 * a binary download this environment cannot do; this is the offline equivalent of
 * `prisma migrate diff --from-migrations --to-schema`, used by `npm run db:migration` and by the
 * drift test.
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { bindMigrationAwareSqlAdapterFactory } from "@prisma/driver-adapter-utils";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { applyMigrations, readMigrations } from "./migrations.ts";
import { pgliteRunner } from "./sql.ts";

export const SCHEMA_PATH = fileURLToPath(new URL("../../prisma/schema.prisma", import.meta.url));

interface WasmSchemaEngine {
  diff(params: unknown): Promise<{ exitCode: number; stdout: string | null }>;
  free(): void;
}

async function loadSchemaEngineClass(): Promise<{ new: (options: unknown, log: (msg: string) => void, adapter: unknown) => Promise<WasmSchemaEngine> }> {
  // The package's entry imports the .wasm file as an ES module, which Node refuses; wire the
  // wasm-bindgen glue to the instantiated module by hand instead.
  const require = createRequire(import.meta.url);
  const entry = require.resolve("@prisma/schema-engine-wasm");
  const glue = await import("@prisma/schema-engine-wasm/schema_engine_bg");
  const bytes = fs.readFileSync(path.join(path.dirname(entry), "schema_engine_bg.wasm"));
  const { instance } = await WebAssembly.instantiate(bytes, { "./schema_engine_bg.js": glue as unknown as WebAssembly.ModuleImports });
  (glue as unknown as { __wbg_set_wasm(w: unknown): void }).__wbg_set_wasm(instance.exports);
  (instance.exports as { __wbindgen_start(): void }).__wbindgen_start();
  return (glue as unknown as { SchemaEngine: Awaited<ReturnType<typeof loadSchemaEngineClass>> }).SchemaEngine;
}

/**
 * @returns the SQL of the next migration (empty when the migrations already produce the schema).
 */
export async function diffMigrationsToSchema(schemaPath = SCHEMA_PATH): Promise<string> {
  const pglite = await PGlite.create();
  try {
    await applyMigrations(pgliteRunner(pglite), readMigrations());
    const SchemaEngine = await loadSchemaEngineClass();
    const schema = fs.readFileSync(schemaPath, "utf8");
    const files = [{ path: schemaPath, content: schema }];
    const engine = await SchemaEngine.new(
      { datamodels: [[schemaPath, schema]] },
      () => undefined,
      bindMigrationAwareSqlAdapterFactory(new PrismaPGlite(pglite)),
    );
    try {
      const result = await engine.diff({
        from: { tag: "schemaDatasource", files, configDir: path.dirname(schemaPath) },
        to: { tag: "schemaDatamodel", files },
        script: true,
        exitCode: true,
        filters: { externalTables: [], externalEnums: [] },
      });
      return result.exitCode === 0 ? "" : (result.stdout ?? "");
    } finally {
      engine.free();
    }
  } finally {
    await pglite.close();
  }
}
