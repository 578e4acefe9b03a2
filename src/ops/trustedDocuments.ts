/**
 * Trusted documents (persisted operations) through Yoga's plugin. Clients may send a registered
 * document's hash instead of its text — `extensions.persistedQuery.sha256Hash` (Apollo's APQ
 * shape) or a top-level `documentId` (GraphQL Code Generator's client preset) — and with
 * TRUSTED_DOCUMENTS=only nothing else runs. The registry is the manifests `npm run codegen`
 * writes: `{ "<sha256 of the document text>": "<document text>" }`.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { usePersistedOperations } from "@graphql-yoga/plugin-persisted-operations";
import type { Plugin } from "graphql-yoga";
import { ConfigError } from "../config.ts";

/** The manifest of the example worker's operations, written by `npm run codegen` (and on install). */
const WORKER_MANIFEST = fileURLToPath(new URL("../worker/generated/persisted-documents.json", import.meta.url));

/**
 * Reads and merges the manifests; a missing or malformed one is a configuration error. Unset:
 * the worker's manifest, when codegen has written it.
 */
export function loadTrustedDocuments(files: readonly string[] | undefined): Map<string, string> {
  const documents = new Map<string, string>();
  for (const file of files ?? (fs.existsSync(WORKER_MANIFEST) ? [WORKER_MANIFEST] : [])) {
    const resolved = path.resolve(file);
    let manifest: unknown;
    try {
      manifest = JSON.parse(fs.readFileSync(resolved, "utf8"));
    } catch (error) {
      throw new ConfigError(`TRUSTED_DOCUMENT_MANIFESTS: cannot read ${resolved}: ${(error as Error).message}`);
    }
    if (typeof manifest !== "object" || manifest === null || Array.isArray(manifest)) throw new ConfigError(`TRUSTED_DOCUMENT_MANIFESTS: ${resolved} is not a { hash: document } object`);
    for (const [hash, document] of Object.entries(manifest)) if (typeof document === "string") documents.set(hash, document);
  }
  return documents;
}

export function useTrustedDocuments(documents: ReadonlyMap<string, string>, mode: "allow" | "only"): Plugin {
  return usePersistedOperations({
    allowArbitraryOperations: mode === "allow",
    extractPersistedOperationId: (params) => {
      const hash = (params.extensions?.persistedQuery as { sha256Hash?: unknown } | undefined)?.sha256Hash;
      if (typeof hash === "string") return hash;
      const documentId = (params as { documentId?: unknown }).documentId;
      return typeof documentId === "string" ? documentId.replace(/^sha256:/, "") : null;
    },
    getPersistedOperation: (hash) => documents.get(hash) ?? null,
    customErrors: {
      notFound: { message: "PersistedQueryNotFound: this document id is not registered on the server (see TRUSTED_DOCUMENT_MANIFESTS)", extensions: { code: "PERSISTED_QUERY_NOT_FOUND", http: { status: 400 } } },
      persistedQueryOnly: { message: "PersistedQueryOnly: this server runs registered documents only (TRUSTED_DOCUMENTS=only); send the document's id, not its text", extensions: { code: "PERSISTED_QUERY_ONLY", http: { status: 400 } } },
    },
  });
}
