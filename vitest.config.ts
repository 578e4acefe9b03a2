import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";

const require = createRequire(import.meta.url);

export default defineConfig({
  // graphql ships ESM and CJS builds; libraries loaded through Node's require get the CJS one.
  // One copy for everybody, or `instanceof GraphQLError` fails and errors get masked.
  resolve: { alias: { graphql: require.resolve("graphql") } },
  test: {
    include: ["test/**/*.test.ts"],
    // Generous: the machines are shared and small; no test asserts on time.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: "forks",
    maxWorkers: 2,
  },
});
