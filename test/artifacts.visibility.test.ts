/**
 * Artifact visibility on every read path — by id, node, lists, the summary, nested fields
 * (correlation, task inputs), agent history, routing and events — for PRIVATE, LABELLED and
 * AFTER artifacts. A token acts as the agents it registered.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AgentHistoryDocument,
  ArtifactDocument,
  ArtifactEventsDocument,
  ArtifactNodeDocument,
  ArtifactsDocument,
  ArtifactSummaryDocument,
  CorrelationDocument,
  CorrelationEventsDocument,
  SetAgentLabelsDocument,
  TaskArtifactsDocument,
} from "./generated/graphql.ts";
import { AGENT_SCOPES, blackboardAgent, publish, type TestAgent } from "./support/blackboard.ts";
import { collect, expectType, type GraphQLClient, wsClient } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
const ws = "visibility-ws";
let admin: GraphQLClient;
/** Publishes; its token registered no agent. */
let publisher: GraphQLClient;
let insider: TestAgent;
let outsider: TestAgent;

beforeAll(async () => {
  server = await startTestServer();
  admin = server.client({ workspace: ws });
  publisher = server.client({ workspace: ws, subject: "publisher", scopes: AGENT_SCOPES });
  insider = await blackboardAgent(server, ws, "insider", { consumes: [{ types: ["Memo"] }] });
  outsider = await blackboardAgent(server, ws, "outsider", { consumes: [{ types: ["Memo"] }] });
});
afterAll(() => server?.stop());

/** Everything a reader can learn about one artifact, read every way there is. */
async function whatIsSeen(reader: GraphQLClient, artifact: { id: string; correlationId: string }, consumerTaskId?: string) {
  const byId = (await reader.request(ArtifactDocument, { id: artifact.id })).artifact?.id ?? null;
  const node = (await reader.request(ArtifactNodeDocument, { id: artifact.id })).node?.id ?? null;
  const list = (await reader.request(ArtifactsDocument, { filter: { correlationId: artifact.correlationId } })).artifacts;
  const summary = (await reader.request(ArtifactSummaryDocument, { filter: { correlationId: artifact.correlationId } })).artifactSummary;
  const correlation = (await reader.request(CorrelationDocument, { id: artifact.correlationId })).correlation;
  const taskInputs = consumerTaskId ? ((await reader.request(TaskArtifactsDocument, { id: consumerTaskId })).task?.inputArtifacts.map((a) => a.id) ?? []) : [];
  return {
    byId: byId !== null,
    node: node !== null,
    listed: list.totalCount + list.edges.length,
    summarized: summary.totalCount + summary.byType.length + summary.byVisibility.length,
    correlation: [correlation.state, correlation.artifactCount, correlation.artifacts.totalCount],
    taskInputs: taskInputs.length,
  };
}
const SEEN = { byId: true, node: true, listed: 2, summarized: 3, taskInputs: 1 };
const UNSEEN = { byId: false, node: false, listed: 0, summarized: 0, correlation: ["NOT_FOUND", 0, 0], taskInputs: 0 };

/** A reader's token that may also read tasks (to look at consumer tasks' inputs). */
const readerOf = (agent: TestAgent) => server.client({ workspace: ws, subject: agent.subject, scopes: ["artifacts:read", "tasks:read", "agents:read"] });

describe("PRIVATE", () => {
  it("is seen by its producer and its readers on every path, and by nobody else on any", async () => {
    const memo = await publish(publisher, { artifact: { type: "Memo", payload: { secret: 42 }, visibility: "PRIVATE", readers: [insider.id] } });
    // Routed only to the consumer that may read it.
    expect(memo.consumerTasks.map((t) => t.reservedFor?.id)).toEqual([insider.id]);
    const task = memo.consumerTasks[0]!.id;

    expect(await whatIsSeen(readerOf(insider), memo.artifact, task)).toMatchObject({ ...SEEN, correlation: ["ACTIVE", 1, 1] });
    expect(await whatIsSeen(readerOf(outsider), memo.artifact, task)).toEqual(UNSEEN);
    // The publisher sees what it published; an admin sees everything.
    expect(await whatIsSeen(publisher, memo.artifact)).toMatchObject({ byId: true, listed: 2 });
    expect(await whatIsSeen(admin, memo.artifact, task)).toMatchObject(SEEN);
  });

  it("is counted in an agent's history only for those who may read it", async () => {
    const own = server.client({ workspace: ws, subject: "insider", scopes: AGENT_SCOPES });
    await publish(own, { artifact: { type: "Diary", payload: {}, visibility: "PRIVATE" }, producerId: insider.id });
    const produced = async (reader: GraphQLClient) => (await reader.request(AgentHistoryDocument, { agentId: insider.id })).agentHistory!.artifactsProduced;
    expect(await produced(readerOf(insider))).toBe(1);
    expect(await produced(readerOf(outsider))).toBe(0);
  });
});

describe("LABELLED", () => {
  it("is seen only by agents holding its label, from the moment an admin grants it, and routed only to them", async () => {
    const memo = await publish(publisher, { artifact: { type: "Memo", payload: {}, visibility: "LABELLED", label: "clearance:secret" } });
    expect(memo.consumerTasks).toEqual([]);
    expect(await whatIsSeen(readerOf(insider), memo.artifact)).toEqual(UNSEEN);

    expectType((await admin.request(SetAgentLabelsDocument, { input: { agentId: insider.id, labels: ["clearance:secret"] } })).setAgentLabels, "SetAgentLabelsPayload");
    expect(await whatIsSeen(readerOf(insider), memo.artifact)).toMatchObject({ byId: true, node: true, listed: 2, summarized: 3, correlation: ["COMPLETED", 1, 1] });
    expect(await whatIsSeen(readerOf(outsider), memo.artifact)).toEqual(UNSEEN);

    const next = await publish(publisher, { artifact: { type: "Memo", payload: {}, visibility: "LABELLED", label: "clearance:secret" } });
    expect(next.consumerTasks.map((t) => t.reservedFor?.id)).toEqual([insider.id]);
  });
});

describe("AFTER", () => {
  it("is hidden from others until visibleFrom; its events and its consumers' tasks wait until then", async () => {
    const outsiderSocket = wsClient(server.wsUrl, server.token({ workspace: ws, subject: "outsider", scopes: ["artifacts:read"] }));
    try {
      // `after: "0"` replays the workspace's log from its start: no race with the subscription's set-up.
      const events = collect(outsiderSocket, ArtifactEventsDocument, { after: "0", filter: { artifacts: { types: ["Bulletin"] } } });
      await publish(publisher, { artifact: { type: "Bulletin", payload: { marker: true } } });
      await events.waitFor(1);
      // Long enough for the reads below to happen before it; they fail if it is ever seen early.
      const visibleFrom = new Date(Date.now() + 5000);
      const memo = await publish(publisher, { artifact: { type: "Bulletin", payload: {}, visibility: "AFTER", visibleFrom: visibleFrom.toISOString() } });

      expect(await whatIsSeen(readerOf(outsider), memo.artifact)).toEqual(UNSEEN);
      expect(await whatIsSeen(publisher, memo.artifact)).toMatchObject({ byId: true });

      const [, delivered] = await events.waitFor(2);
      expect(Date.now()).toBeGreaterThanOrEqual(visibleFrom.getTime());
      expect(delivered!.artifactEvents).toMatchObject({ type: "artifact.published", artifactId: memo.artifact.id, artifact: { visibility: "AFTER" } });
      expect(await whatIsSeen(readerOf(outsider), memo.artifact)).toMatchObject({ byId: true, node: true, listed: 2, summarized: 3 });
    } finally {
      await outsiderSocket.dispose();
    }
  });

  it("routes to consumers with tasks claimable from visibleFrom on", async () => {
    const visibleFrom = new Date(Date.now() + 60_000);
    const memo = await publish(publisher, { artifact: { type: "Memo", payload: {}, visibility: "AFTER", visibleFrom: visibleFrom.toISOString() } });
    expect(memo.consumerTasks.map((t) => t.reservedFor?.id).sort()).toEqual([insider.id, outsider.id].sort());
    const task = (await admin.request(TaskArtifactsDocument, { id: memo.consumerTasks[0]!.id })).task!;
    expect(task.inputArtifacts).toHaveLength(1);
    expect(Date.parse(task.availableAt)).toBe(visibleFrom.getTime());
  });
});

describe("events", () => {
  it("never push an artifact, or its correlation, to a subscriber who may not read it", async () => {
    const outsiderSocket = wsClient(server.wsUrl, server.token({ workspace: ws, subject: "outsider", scopes: ["artifacts:read"] }));
    try {
      const events = collect(outsiderSocket, ArtifactEventsDocument, { after: "0", filter: { artifacts: { types: ["Letter"] } } });
      const hidden = await publish(publisher, { artifact: { type: "Letter", payload: { to: "insider" }, visibility: "PRIVATE", readers: [insider.id] } });
      const correlation = collect(outsiderSocket, CorrelationEventsDocument, { correlationId: hidden.correlationId });
      const [snapshot] = await correlation.waitFor(1);
      expect(snapshot!.correlationEvents).toMatchObject({ state: "NOT_FOUND", correlation: { state: "NOT_FOUND", artifactCount: 0 } });
      // A marker published after the hidden artifact: the subscriber receives the marker only.
      const marker = await publish(publisher, { artifact: { type: "Letter", payload: { to: "all" } } });
      const [received] = await events.waitFor(1);
      expect(received!.artifactEvents.artifactId).toBe(marker.artifact.id);
      expect(events.events.map((e) => e.artifactEvents.artifactId)).not.toContain(hidden.artifact.id);
      expect(correlation.events).toHaveLength(1);
    } finally {
      await outsiderSocket.dispose();
    }
  });
});
