/**
 * Conflict detection under concurrency. Meaningful on real PostgreSQL (TEST_DATABASE_URL), where
 * the posts run on many connections at once; PGlite serializes transactions and only proves the
 * logic. Without the per-subject advisory lock, two contradicting posts that read the subject's
 * active findings at the same moment would each see none, and the conflict would be lost.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConflictsDocument, FindingsDocument, PostFindingDocument } from "./generated/graphql.ts";
import { type GraphQLClient, expectType } from "./support/client.ts";
import { onPostgres } from "./support/database.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
let api: GraphQLClient;
beforeAll(async () => {
  server = await startTestServer();
  api = server.client({ workspace: "finding-race-ws" });
});
afterAll(() => server?.stop());

const post = (subject: string, position: string, confidence: number, rejectOnConflict = false) =>
  api.request(PostFindingDocument, { input: { claim: `${position} is right about ${subject}`, subject, position, confidence, rejectOnConflict } }).then((r) => r.postFinding);

describe(`conflict detection under concurrency (${onPostgres ? "PostgreSQL" : "PGlite"})`, () => {
  it("10 rounds of 2 contradicting findings posted at once: every round records exactly one conflict, both DISPUTED", async () => {
    for (let round = 0; round < 10; round++) {
      const subject = `race ${round}`;
      const results = (await Promise.all([post(subject, "yes", 0.9), post(subject, "no", 0.4)])).map((r) => expectType(r, "PostFindingPayload"));
      // Whichever committed second saw the first.
      expect(results.map((r) => r.conflicts.length).sort()).toEqual([0, 1]);
      const conflicts = await api.request(ConflictsDocument, { first: 10, filter: { subject } });
      expect(conflicts.conflicts.totalCount).toBe(1);
      expect(conflicts.conflicts.edges[0]!.node).toMatchObject({ confidenceDelta: 0.5, escalationRecommended: true, status: "OPEN" });
      const findings = await api.request(FindingsDocument, { first: 10, filter: { subject } });
      expect(findings.findings.edges.map((e) => e.node.status)).toEqual(["DISPUTED", "DISPUTED"]);
    }
  });

  it("10 rounds of 2 contradicting findings posted at once with rejectOnConflict: exactly one is accepted, the other is refused (kept REJECTED with one conflict)", async () => {
    for (let round = 0; round < 10; round++) {
      const subject = `reject race ${round}`;
      const results = await Promise.all([post(subject, "left", 0.7, true), post(subject, "right", 0.6, true)]);
      expect(results.map((r) => r.__typename).sort()).toEqual(["ConflictDetectedError", "PostFindingPayload"]);
      const findings = await api.request(FindingsDocument, { first: 10, filter: { subject } });
      expect(findings.findings.edges.map((e) => e.node.status).sort()).toEqual(["REJECTED", "UNVERIFIED"]);
      expect((await api.request(ConflictsDocument, { first: 1, filter: { subject } })).conflicts.totalCount).toBe(1);
    }
  });

  it("8 findings with 3 positions posted at once on one subject: one conflict per pair of differing positions, none twice", async () => {
    const subject = "eight at once";
    const positions = ["a", "b", "c", "a", "b", "c", "a", "b"];
    const results = (await Promise.all(positions.map((p, i) => post(subject, p, (i + 1) / 10)))).map((r) => expectType(r, "PostFindingPayload"));
    // 28 pairs, minus the agreeing ones: 3 pairs of "a", 3 of "b", 1 of "c".
    expect(results.reduce((n, r) => n + r.conflicts.length, 0)).toBe(21);
    const pairs = await server.db.prisma.conflict.findMany({ where: { workspaceId: "finding-race-ws", subject }, include: { findingA: true, findingB: true } });
    expect(pairs).toHaveLength(21);
    expect(pairs.every((c) => c.findingA.position !== c.findingB.position)).toBe(true);
    expect(new Set(pairs.map((c) => [c.findingAId, c.findingBId].sort().join())).size).toBe(21);
    const statuses = await server.db.prisma.finding.groupBy({ by: ["status"], where: { workspaceId: "finding-race-ws", subject }, _count: { _all: true } });
    expect(statuses).toEqual([{ status: "DISPUTED", _count: { _all: 8 } }]);
  });
});
