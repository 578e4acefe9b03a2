/**
 * The blackboard under concurrency. Meaningful on real PostgreSQL (TEST_DATABASE_URL), where the
 * requests run on many connections at once; PGlite serializes transactions and only proves the
 * logic. Idempotent publishing rests on the key row's primary key (INSERT … ON CONFLICT DO
 * NOTHING before anything else); a correlation's transitions on its row lock.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArtifactsDocument, AuditTrailDocument, ClaimNextTaskDocument, CompleteWithOutputsDocument, CorrelationDocument, CorrelationEventsDocument, PublishArtifactDocument } from "./generated/graphql.ts";
import { blackboardAgent, publish } from "./support/blackboard.ts";
import { collect, expectType, wsClient } from "./support/client.ts";
import { onPostgres } from "./support/database.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

describe(`the blackboard under concurrency (${onPostgres ? "PostgreSQL" : "PGlite"})`, () => {
  it("20 simultaneous publishes with one idempotency key store one artifact and one set of consumer tasks", async () => {
    const ws = "idem-race-ws";
    const admin = server.client({ workspace: ws });
    const consumers = [await blackboardAgent(server, ws, "c1", { consumes: [{ types: ["Order"] }] }), await blackboardAgent(server, ws, "c2", { consumes: [{ types: ["Order"] }] })];
    const input = { artifact: { type: "Order", payload: { product: "ABC123" } }, idempotencyKey: "order-race" };
    const results = await Promise.all(Array.from({ length: 20 }, () => admin.request(PublishArtifactDocument, { input }).then((r) => expectType(r.publishArtifact, "PublishArtifactPayload"))));

    expect(new Set(results.map((r) => r.artifact.id)).size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    const taskSets = new Set(results.map((r) => r.consumerTasks.map((t) => t.id).sort().join(",")));
    expect(taskSets.size).toBe(1);
    expect((await admin.request(ArtifactsDocument, {})).artifacts.totalCount).toBe(1);
    const correlation = (await admin.request(CorrelationDocument, { id: results[0]!.correlationId })).correlation;
    expect(correlation.tasks.totalCount).toBe(consumers.length);
    expect(correlation.tasks.edges.map((e) => e.node.reservedFor?.id).sort()).toEqual(consumers.map((c) => c.id).sort());
  });

  it("10 consumer tasks completing at once settle their correlation COMPLETED exactly once", async () => {
    const ws = "settle-race-ws";
    const admin = server.client({ workspace: ws });
    const agents = [];
    for (let i = 0; i < 10; i++) agents.push(await blackboardAgent(server, ws, `worker-${i}`, { consumes: [{ types: ["Chunk"] }] }));
    const published = await publish(admin, { artifact: { type: "Chunk", payload: {} } });
    const claims = await Promise.all(agents.map(async (agent) => ({ agent, claim: expectType((await agent.client.request(ClaimNextTaskDocument, { agentId: agent.id })).claimNextTask, "ClaimNextTaskPayload") })));
    const done = await Promise.all(
      claims.map(({ agent, claim }) => agent.client.request(CompleteWithOutputsDocument, { taskId: claim.task!.id, leaseToken: claim.leaseToken!, outputs: [] }).then((r) => r.completeTask.__typename)),
    );
    expect(done).toEqual(Array(10).fill("CompleteTaskPayload"));

    // The audit trail holds every correlation transition: exactly one completion.
    const trail = (await admin.request(AuditTrailDocument, { first: 50, filter: { domain: ["correlation"] } })).auditTrail;
    expect(trail.edges.map((e) => e.node.action)).toEqual(["correlation.active", ...Array(9).fill("correlation.progress"), "correlation.completed"]);
    expect(trail.edges.every((e) => e.node.entityId === published.correlationId && e.node.entityGlobalId === null)).toBe(true);

    // The same history through the subscription, replayed from the start of the log: it ends with COMPLETED.
    const socket = wsClient(server.wsUrl, server.token({ workspace: ws }));
    try {
      const events = collect(socket, CorrelationEventsDocument, { correlationId: published.correlationId, after: "0" });
      await events.ended;
      const types = events.events.map((e) => e.correlationEvents.type);
      expect(types.filter((t) => t === "correlation.completed")).toHaveLength(1);
      expect(types).toEqual(["correlation.active", ...Array(9).fill("correlation.progress"), "correlation.completed"]);
      expect(events.events.at(-1)!.correlationEvents).toMatchObject({ pendingTasks: 0, completedTasks: 10 });
    } finally {
      await socket.dispose();
    }
  });
});
