/**
 * Blackboard events: correlationEvents (the seed's 2 s status poll as a subscription, ending with
 * the outcome), artifactEvents with replay after a cursor, and publishArtifactAndWait woken by
 * events rather than by polling the database.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArtifactEventsDocument, CorrelationEventsDocument, PublishArtifactAndWaitDocument } from "./generated/graphql.ts";
import { blackboardAgent, publish, work } from "./support/blackboard.ts";
import { collect, expectType, wsClient } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
const statements: string[] = [];
beforeAll(async () => {
  server = await startTestServer({ onQuery: (sql) => statements.push(sql) });
});
afterAll(() => server?.stop());

describe("correlationEvents", () => {
  it("pushes every state change of a workflow, from a snapshot to COMPLETED, then ends; resumes after a cursor", async () => {
    const ws = "corr-events-ws";
    const admin = server.client({ workspace: ws });
    const writer = await blackboardAgent(server, ws, "writer", { consumes: [{ types: ["Brief"] }] });
    const editor = await blackboardAgent(server, ws, "editor", { consumes: [{ types: ["Draft"] }] });
    const correlationId = randomUUID();
    const socket = wsClient(server.wsUrl, server.token({ workspace: ws, scopes: ["artifacts:read"] }));
    try {
      const events = collect(socket, CorrelationEventsDocument, { correlationId });
      const [snapshot] = await events.waitFor(1);
      expect(snapshot!.correlationEvents).toMatchObject({ type: "correlation.snapshot", state: "NOT_FOUND", previousState: null });

      await publish(admin, { artifact: { type: "Brief", payload: {} }, correlationId });
      await work(writer, [{ type: "Draft", payload: {} }]);
      await work(editor);
      await events.ended;
      expect(events.errors).toEqual([]);
      expect(events.events.map((e) => [e.correlationEvents.type, e.correlationEvents.previousState, e.correlationEvents.state, e.correlationEvents.pendingTasks, e.correlationEvents.completedTasks])).toEqual([
        ["correlation.snapshot", null, "NOT_FOUND", 0, 0],
        ["correlation.active", "NOT_FOUND", "ACTIVE", 1, 0],
        ["correlation.progress", "ACTIVE", "ACTIVE", 1, 1],
        ["correlation.completed", "ACTIVE", "COMPLETED", 0, 2],
      ]);
      expect(events.events.at(-1)!.correlationEvents.correlation).toEqual({ state: "COMPLETED", artifactCount: 2 });

      // Resuming after the first change replays the rest, and ends again.
      const resumed = collect(socket, CorrelationEventsDocument, { correlationId, after: events.events[1]!.correlationEvents.cursor });
      await resumed.ended;
      expect(resumed.events.map((e) => e.correlationEvents.type)).toEqual(["correlation.progress", "correlation.completed"]);

      // Subscribing late still learns the outcome at once.
      const late = collect(socket, CorrelationEventsDocument, { correlationId });
      await late.ended;
      expect(late.events.map((e) => [e.correlationEvents.type, e.correlationEvents.state])).toEqual([["correlation.snapshot", "COMPLETED"]]);
    } finally {
      await socket.dispose();
    }
  });
});

describe("artifactEvents", () => {
  it("delivers published and consumed events, and after a reconnect exactly the events missed", async () => {
    const ws = "artifact-events-ws";
    const admin = server.client({ workspace: ws });
    const consumer = await blackboardAgent(server, ws, "consumer", { consumes: [{ types: ["Job"] }] });
    const token = server.token({ workspace: ws, scopes: ["artifacts:read"] });
    const first = wsClient(server.wsUrl, token);
    // `after: "0"` replays this workspace's log from its start: no race with the subscription's set-up.
    const live = collect(first, ArtifactEventsDocument, { after: "0" });
    const job = await publish(admin, { artifact: { type: "Job", payload: { n: 0 } } });
    await work(consumer);
    const [published, consumed] = await live.waitFor(2);
    expect(published!.artifactEvents).toMatchObject({ type: "artifact.published", artifactId: job.artifact.id, correlationId: job.correlationId, artifact: { type: "Job" } });
    expect(consumed!.artifactEvents).toMatchObject({ type: "artifact.consumed", artifactId: job.artifact.id, consumerId: consumer.id, taskId: job.consumerTasks[0]!.id });
    await first.dispose();

    const missed = [];
    for (let n = 1; n <= 3; n++) missed.push((await publish(admin, { artifact: { type: "Note", payload: { n } } })).artifact.id);
    const second = wsClient(server.wsUrl, token);
    try {
      const resumed = collect(second, ArtifactEventsDocument, { after: consumed!.artifactEvents.cursor });
      const replayed = await resumed.waitFor(3);
      expect(replayed.map((e) => e.artifactEvents.artifactId)).toEqual(missed);
      // Filters: only consumption events of Job artifacts.
      const filtered = collect(second, ArtifactEventsDocument, { after: "0", filter: { types: ["artifact.consumed"], artifacts: { types: ["Job"] } } });
      const [only] = await filtered.waitFor(1);
      expect(only!.artifactEvents).toMatchObject({ type: "artifact.consumed", artifactId: job.artifact.id });
      await publish(admin, { artifact: { type: "Note", payload: { n: 4 } } });
      await resumed.waitFor(4);
      expect(filtered.events).toHaveLength(1);
    } finally {
      await second.dispose();
    }
  });
});

describe("publishArtifactAndWait", () => {
  it("reads the correlation's state once per event of it, never on a timer", async () => {
    const ws = "wait-events-ws";
    const admin = server.client({ workspace: ws });
    const worker = await blackboardAgent(server, ws, "slow", { consumes: [{ types: ["Job"] }] });
    const stateReads = () => statements.filter((sql) => sql.includes('FROM "public"."Correlation"')).length;
    const before = stateReads();
    const correlationId = randomUUID();
    const socket = wsClient(server.wsUrl, server.token({ workspace: ws, scopes: ["artifacts:read"] }));
    try {
      const events = collect(socket, CorrelationEventsDocument, { correlationId });
      await events.waitFor(1);
      const waiting = admin.request(PublishArtifactAndWaitDocument, { input: { artifact: { type: "Job", payload: {} }, correlationId, timeoutSeconds: 120 } });
      await events.waitFor(2); // correlation.active: the publish committed and the call is waiting
      // Idle for a while: a polling waiter would read the state again and again meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(stateReads() - before).toBeLessThanOrEqual(2);
      await work(worker);
      const result = expectType((await waiting).publishArtifactAndWait, "PublishArtifactAndWaitPayload");
      expect(result.completed).toBe(true);
      // One read at the start, one per event of the correlation (active, completed).
      expect(stateReads() - before).toBeLessThanOrEqual(3);
    } finally {
      await socket.dispose();
    }
  });
});
