/**
 * GraphQL Code Generator: typed documents for the operations of the example worker
 * (src/worker/*.graphql) and of the test suites (test/operations), generated from the
 * checked-in schema.graphql, with a trusted-documents manifest for each
 * (`persisted-documents.json`: sha256 → document, what TRUSTED_DOCUMENT_MANIFESTS loads), and
 * the possible-types map clients need to match fragments on interfaces and unions
 * (schema.possibleTypes.json; see the README's client guide).
 * Run by `npm run codegen` and on `npm install`.
 */
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "schema.graphql",
  generates: {
    "src/worker/generated/": {
      documents: ["src/worker/**/*.graphql"],
      preset: "client",
      presetConfig: { fragmentMasking: false, persistedDocuments: { hashAlgorithm: "sha256" } },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: "string", JSON: "unknown", JSONObject: "Record<string, unknown>", ID: "string" },
      },
    },
    "test/generated/": {
      documents: ["test/operations/**/*.graphql"],
      preset: "client",
      presetConfig: { fragmentMasking: false, persistedDocuments: { hashAlgorithm: "sha256" } },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: "string", JSON: "unknown", JSONObject: "Record<string, unknown>", ID: "string" },
      },
    },
    "schema.possibleTypes.json": {
      plugins: ["fragment-matcher"],
      config: { apolloClientVersion: 3 },
    },
  },
  silent: true,
  emitLegacyCommonJSImports: false,
};

export default config;
