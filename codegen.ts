/**
 * GraphQL Code Generator: typed documents for the operations of the example worker
 * (src/worker/*.graphql) and of the test suites (test/operations), generated from the
 * checked-in schema.graphql.
 * Run by `npm run codegen` and on `npm install`.
 */
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "schema.graphql",
  generates: {
    "src/worker/generated/": {
      documents: ["src/worker/**/*.graphql"],
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: "string", JSON: "unknown", JSONObject: "Record<string, unknown>", ID: "string" },
      },
    },
    "test/generated/": {
      documents: ["test/operations/**/*.graphql"],
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: "string", JSON: "unknown", JSONObject: "Record<string, unknown>", ID: "string" },
      },
    },
  },
  silent: true,
  emitLegacyCommonJSImports: false,
};

export default config;
