/**
 * Seed 000's refused contradiction (issue 17): a finding posted with `rejectOnConflict` that
 * contradicts active findings is refused, yet the detected conflicts are recorded — their ids in
 * the typed error, `conflict.detected` audit entries marked refused — so escalation is traceable.
 * The refused finding is kept as REJECTED: never active, it changes no other finding.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AuditTrailDocument,
  FindingsDocument,
  PostFindingRefusableDocument,
  RefusedConflictDocument,
  ResolveConflictDocument,
  RetractFindingDocument,
  ValidateFindingDocument,
} from "./generated/graphql.ts";
import { type GraphQLClient, expectType } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
let api: GraphQLClient;
beforeAll(async () => {
  server = await startTestServer();
  api = server.client({ workspace: "refused-ws" });
});
afterAll(() => server?.stop());

const post = async (subject: string, position: string, confidence: number, rejectOnConflict = false) =>
  (await api.request(PostFindingRefusableDocument, { input: { claim: `${position} on ${subject}`, subject, position, confidence, rejectOnConflict } })).postFinding;

describe("a contradiction refused with rejectOnConflict", () => {
  it("records its conflicts (ids in the error, audit entries), keeps the finding as REJECTED, and changes no other finding", async () => {
    const subject = "redis topology";
    const cluster = expectType(await post(subject, "cluster", 0.92), "PostFindingPayload").finding;
    const sentinel = expectType(await post(subject, "sentinel", 0.9), "PostFindingPayload").finding; // conflicts with cluster: both DISPUTED
    const refused = expectType(await post(subject, "single instance", 0.57, true), "ConflictDetectedError");
    expect(refused).toMatchObject({ code: "CONFLICT_DETECTED", conflictingFindingIds: [cluster.id, sentinel.id], escalationRecommended: true });
    expect(refused.conflictIds).toHaveLength(2);
    expect(refused.message).toContain("refused");

    // The conflicts exist, OPEN, marked refused, with the figures the error gave.
    for (const [i, conflictId] of refused.conflictIds.entries()) {
      const conflict = (await api.request(RefusedConflictDocument, { id: conflictId })).node;
      expect(conflict).toMatchObject({
        id: conflictId,
        status: "OPEN",
        refused: true,
        confidenceDelta: refused.conflicts[i]!.confidenceDelta,
        escalationRecommended: refused.conflicts[i]!.escalationRecommended,
        findingA: { id: refused.conflictingFindingIds[i] },
        findingB: { id: refused.findingId, status: "REJECTED", position: "single instance" },
      });
    }
    // The contradicted findings were left as they were (DISPUTED by their own conflict, not by the refusal).
    const findings = (await api.request(FindingsDocument, { first: 10, filter: { subject } })).findings;
    expect(Object.fromEntries(findings.edges.map((e) => [e.node.position, e.node.status]))).toEqual({ cluster: "DISPUTED", sentinel: "DISPUTED", "single instance": "REJECTED" });
    const clusterTrail = await api.request(AuditTrailDocument, { first: 10, filter: { entity: cluster.id } });
    expect(clusterTrail.auditTrail.edges.map((e) => e.node.action)).toEqual(["finding.posted", "finding.disputed"]);

    // The audit trail tells the story: the refusal, and each detected conflict marked refused.
    const refusal = await api.request(AuditTrailDocument, { first: 10, filter: { entity: refused.findingId } });
    expect(refusal.auditTrail.edges.map((e) => e.node.action)).toEqual(["finding.rejected"]);
    const detected = await api.request(AuditTrailDocument, { first: 10, filter: { entity: refused.conflictIds[0] } });
    expect(detected.auditTrail.edges.map((e) => [e.node.action, (e.node.details as { refused?: boolean }).refused, (e.node.details as { escalationRecommended?: boolean }).escalationRecommended])).toEqual([
      ["conflict.detected", true, true],
    ]);
  });

  it("a REJECTED finding is never active: no later conflicts, no validation or retraction, it cannot win; escalation closes its conflicts", async () => {
    const subject = "queue backend";
    const kafka = expectType(await post(subject, "kafka", 0.8), "PostFindingPayload").finding;
    const refused = expectType(await post(subject, "rabbitmq", 0.85, true), "ConflictDetectedError");
    // Agreement with the refused position is no conflict with it; only the active finding counts.
    const later = expectType(await post(subject, "rabbitmq", 0.6), "PostFindingPayload");
    expect(later.conflicts).toHaveLength(1);
    expect((await api.request(RefusedConflictDocument, { id: later.conflicts[0]!.id })).node).toMatchObject({ refused: false, findingA: { id: kafka.id } });

    expect((await api.request(ValidateFindingDocument, { id: refused.findingId, verdict: "VERIFY", reason: "looks right" })).validateFinding).toMatchObject({
      __typename: "IllegalTransitionError",
      fromStatus: "REJECTED",
    });
    expect((await api.request(RetractFindingDocument, { id: refused.findingId, reason: "gone" })).retractFinding).toMatchObject({ __typename: "IllegalTransitionError", fromStatus: "REJECTED" });

    const conflictId = refused.conflictIds[0]!;
    const cannotWin = expectType((await api.request(ResolveConflictDocument, { input: { conflictId, winningFindingId: refused.findingId, notes: "the refused one was right" } })).resolveConflict, "InvalidInputError");
    expect(cannotWin.issues).toEqual([{ path: "input.winningFindingId", message: expect.stringContaining("REJECTED") }]);
    // Escalated and decided for the standing finding: it is VERIFIED, the refused one stays REJECTED.
    const resolved = expectType((await api.request(ResolveConflictDocument, { input: { conflictId, winningFindingId: kafka.id, notes: "kafka for throughput" } })).resolveConflict, "ResolveConflictPayload");
    expect(resolved.conflict).toMatchObject({ status: "RESOLVED", winningFinding: { id: kafka.id }, findingA: { status: "VERIFIED" }, findingB: { status: "REJECTED" } });
  });

  it("bad input is refused before anything is recorded", async () => {
    const bad = await api.request(PostFindingRefusableDocument, { input: { claim: "x", subject: "s", position: "p", confidence: 1.5, rejectOnConflict: true } });
    expect(expectType(bad.postFinding, "InvalidInputError").issues).toEqual([{ path: "input.confidence", message: "must be between 0 and 1" }]);
    expect((await api.request(FindingsDocument, { first: 10, filter: { subject: "s" } })).findings.totalCount).toBe(0);
  });
});
