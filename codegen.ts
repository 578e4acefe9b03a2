/**
 * GraphQL Code Generator: typed documents for every operation in test/operations (used by the
 * test suites and, later, the example worker), generated from the checked-in schema.graphql.
 * Run by `npm run codegen` and on `npm install`.
 */
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "schema.graphql",
  documents: ["test/operations/**/*.graphql"],
  generates: {
    "test/generated/": {
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
