import { createRequire } from "node:module";
import { configDefaults, defineConfig } from "vitest/config";

const require = createRequire(import.meta.url);

/**
 * Files whose outcome does not depend on the database the suite runs on: the browser tests (what
 * they check is the page; the API under it is tested on both databases by the other files), the
 * embedded engine's failure handling and the migrations' own checks (both always on an in-memory
 * PGlite; CI applies the migrations to PostgreSQL separately). They run in the PGlite run only; the
 * second, PostgreSQL run (TEST_DATABASE_URL) would repeat them unchanged.
 */
const databaseIndependent = ["test/*.browser.test.ts", "test/pgliteGuard.test.ts", "test/migrations.test.ts"];

export default defineConfig({
  // graphql ships ESM and CJS builds; libraries loaded through Node's require get the CJS one.
  // One copy for everybody, or `instanceof GraphQLError` fails and errors get masked.
  resolve: { alias: { graphql: require.resolve("graphql") } },
  test: {
    include: ["test/**/*.test.ts"],
    exclude: process.env.TEST_DATABASE_URL ? [...configDefaults.exclude, ...databaseIndependent] : configDefaults.exclude,
    // Generous: the machines are shared and small; no test asserts on time.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Each worker loads the server's modules once, not once per file: importing them (Prisma's
    // client, the schema, the drivers) took 2.5 s per file, 160 s of CPU per run on two cores.
    // Files share no state but those modules' caches: each starts its own servers and databases.
    isolate: false,
    maxWorkers: 2,
  },
});
