/**
 * Compare-and-set and merges under concurrency: 20 writers at once, on PostgreSQL over a pool of
 * connections (and on PGlite, where they queue on its one connection).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryDocument, MemoryVersionsDocument, PutMemoryDocument, type PutMemoryInput } from "./generated/graphql.ts";
import { expectType, type GraphQLClient } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

const WRITERS = 20;
let server: TestServer;
let writers: GraphQLClient[];

beforeAll(async () => {
  server = await startTestServer();
  writers = Array.from({ length: WRITERS }, (_, i) => server.client({ workspace: "cas", subject: `writer-${i}`, scopes: ["memory:write"] }));
});
afterAll(() => server?.stop());

const putAll = (inputs: (i: number) => PutMemoryInput) =>
  Promise.all(writers.map(async (client, i) => (await client.request(PutMemoryDocument, { input: inputs(i) })).putMemory));

describe("compare-and-set with 20 concurrent writers", () => {
  it("exactly one creator wins expectedVersion 0; every loser is told version 1", async () => {
    const results = await putAll((i) => ({ namespace: "race", key: "leader", value: { leader: `writer-${i}` }, expectedVersion: 0 }));
    const winners = results.filter((r) => r.__typename === "PutMemoryPayload");
    expect(winners).toHaveLength(1);
    const losers = results.filter((r) => r.__typename === "VersionConflictError");
    expect(losers).toHaveLength(WRITERS - 1);
    expect(losers.every((r) => r.__typename === "VersionConflictError" && r.currentVersion === 1)).toBe(true);
    const stored = (await writers[0]!.request(MemoryDocument, { namespace: "race", key: "leader" })).memory!;
    expect(stored.version).toBe(1);
    expect(stored.value).toEqual({ leader: stored.writtenBy });
  });

  it("round after round, exactly one of 20 writers expecting version n wins, and the history has one write per version", async () => {
    expectType((await writers[0]!.request(PutMemoryDocument, { input: { namespace: "race", key: "counter", value: { n: 0 } } })).putMemory, "PutMemoryPayload");
    for (let version = 1; version <= 5; version++) {
      const results = await putAll((i) => ({ namespace: "race", key: "counter", value: { n: version, by: i }, expectedVersion: version }));
      const winners = results.filter((r) => r.__typename === "PutMemoryPayload");
      expect(winners, `round ${version}`).toHaveLength(1);
      expect(winners[0]!.__typename === "PutMemoryPayload" && winners[0]!.entry.version).toBe(version + 1);
      const conflicts = results.filter((r) => r.__typename === "VersionConflictError");
      expect(conflicts).toHaveLength(WRITERS - 1);
      expect(new Set(conflicts.map((r) => r.__typename === "VersionConflictError" && r.currentVersion))).toEqual(new Set([version + 1]));
    }
    const history = (await writers[0]!.request(MemoryVersionsDocument, { namespace: "race", key: "counter", first: 10 })).memory!;
    expect(history.versions.map((v) => v.version)).toEqual([6, 5, 4, 3, 2, 1]);
    expect(history.versions.map((v) => (v.value as { n: number }).n)).toEqual([5, 4, 3, 2, 1, 0]);
  });

  it("20 concurrent merges into one entry lose nothing", async () => {
    expectType((await writers[0]!.request(PutMemoryDocument, { input: { namespace: "race", key: "merged", value: { base: true } } })).putMemory, "PutMemoryPayload");
    const results = await putAll((i) => ({ namespace: "race", key: "merged", merge: true, value: { [`w${i}`]: i } }));
    expect(results.every((r) => r.__typename === "PutMemoryPayload")).toBe(true);
    const versions = results.map((r) => (r.__typename === "PutMemoryPayload" ? r.entry.version : 0)).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: WRITERS }, (_, i) => i + 2));
    const stored = (await writers[0]!.request(MemoryDocument, { namespace: "race", key: "merged" })).memory!;
    expect(stored.version).toBe(WRITERS + 1);
    expect(stored.value).toEqual({ base: true, ...Object.fromEntries(Array.from({ length: WRITERS }, (_, i) => [`w${i}`, i])) });
  });
});
