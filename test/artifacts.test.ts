/**
 * The blackboard (seed 004): publishing, routing to consumers as reserved tasks, outputs
 * published by completions, correlation status, idempotency keys, filters and summary, bad
 * input, runAgent and agentHistory.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AgentArtifactProfileDocument,
  type ArtifactFilter,
  AgentHistoryDocument,
  ArtifactDocument,
  ArtifactsDocument,
  ArtifactSummaryDocument,
  ClaimNextTaskDocument,
  ClaimTaskDocument,
  CompleteWithOutputsDocument,
  CorrelationDocument,
  DeclareArtifactTypesDocument,
  FailTaskDocument,
  PublishArtifactAndWaitDocument,
  PublishArtifactDocument,
  RunAgentDocument,
  SetAgentLabelsDocument,
  TaskArtifactsDocument,
  TerminateAgentDocument,
} from "./generated/graphql.ts";
import { AGENT_SCOPES, blackboardAgent, blackboardWorker, publish, work } from "./support/blackboard.ts";
import { expectType } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

const rawIdOf = (globalId: string) => Buffer.from(globalId, "base64").toString().split(":").slice(1).join(":");

describe("routing: consumers get reserved tasks", () => {
  it("hands an artifact to every agent whose rule matches — and only those agents may claim the tasks", async () => {
    const ws = "route-ws";
    const publisher = server.client({ workspace: ws, subject: "publisher", scopes: ["artifacts:write", "tasks:read", "agents:read"] });
    const urgent = await blackboardAgent(server, ws, "urgent-reader", { consumes: [{ types: ["Idea"], tags: ["urgent"] }] });
    const eu = await blackboardAgent(server, ws, "eu-reader", { consumes: [{ types: ["Idea"], partitionKeys: ["eu"] }] });
    const other = await blackboardAgent(server, ws, "other-reader", { consumes: [{ types: ["Other"] }] });
    const gone = await blackboardAgent(server, ws, "gone-reader", { consumes: [{ types: ["Idea"] }] });
    expectType((await server.client({ workspace: ws }).request(TerminateAgentDocument, { id: gone.id, reason: "retired" })).terminateAgent, "TerminateAgentPayload");
    const producer = await blackboardAgent(server, ws, "self-reader", { consumes: [{ types: ["Idea"] }] });

    const published = await publish(producer.client, { artifact: { type: "Idea", payload: { text: "ship it" }, tags: ["urgent", "x"], partitionKey: "eu" }, producerId: producer.id });
    const reservedFor = published.consumerTasks.map((t) => t.reservedFor?.id).sort();
    // Not the producer itself (no self-triggering), not the terminated one, not the one consuming another type.
    expect(reservedFor).toEqual([urgent.id, eu.id].sort());
    for (const task of published.consumerTasks) {
      expect(task).toMatchObject({ type: "artifact.consume", status: "PENDING", correlationId: published.correlationId });
    }
    expect(published.artifact).toMatchObject({ producerId: producer.id, publishedBy: "self-reader", version: 1, tags: ["urgent", "x"] });

    // Another agent can neither take nor be handed a reserved task.
    const urgentTask = published.consumerTasks.find((t) => t.reservedFor?.id === urgent.id)!;
    expect((await other.client.request(ClaimNextTaskDocument, { agentId: other.id })).claimNextTask).toMatchObject({ __typename: "ClaimNextTaskPayload", task: null });
    const stolen = expectType((await other.client.request(ClaimTaskDocument, { taskId: urgentTask.id, agentId: other.id })).claimTask, "CapabilityMismatchError");
    expect(stolen.missing).toEqual([`agent:${rawIdOf(urgent.id)}`]);
    const claimed = expectType((await urgent.client.request(ClaimNextTaskDocument, { agentId: urgent.id })).claimNextTask, "ClaimNextTaskPayload");
    expect(claimed.task?.id).toBe(urgentTask.id);

    // Rules that do not match create nothing: no "urgent" tag, partition "us" — only the unconditional rule matches.
    const quiet = await publish(publisher, { artifact: { type: "Idea", payload: { text: "later" }, partitionKey: "us" } });
    expect(quiet.consumerTasks.map((t) => t.reservedFor?.id)).toEqual([producer.id]);
    expect((await publisher.request(CorrelationDocument, { id: quiet.correlationId })).correlation).toMatchObject({ state: "ACTIVE", hasPendingWork: true, pendingTasks: 1 });
    // Nobody consumes notes: the correlation is complete as soon as it exists.
    const note = await publish(publisher, { artifact: { type: "Note", payload: {} } });
    expect(note.consumerTasks).toEqual([]);
    expect((await publisher.request(CorrelationDocument, { id: note.correlationId })).correlation).toMatchObject({ state: "COMPLETED", hasPendingWork: false, artifactCount: 1, pendingTasks: 0 });
  });

  it("cancels the work reserved for an agent when it is terminated, failing the correlation", async () => {
    const ws = "route-terminate-ws";
    const admin = server.client({ workspace: ws });
    const consumer = await blackboardAgent(server, ws, "short-lived", { consumes: [{ types: ["Job"] }] });
    const published = await publish(admin, { artifact: { type: "Job", payload: {} } });
    expect((await admin.request(CorrelationDocument, { id: published.correlationId })).correlation).toMatchObject({ state: "ACTIVE", pendingTasks: 1 });
    expectType((await admin.request(TerminateAgentDocument, { id: consumer.id })).terminateAgent, "TerminateAgentPayload");
    const after = (await admin.request(CorrelationDocument, { id: published.correlationId })).correlation;
    expect(after).toMatchObject({ state: "FAILED", pendingTasks: 0, errorCount: 1 });
    expect(after.tasks.edges.map((e) => e.node.status)).toEqual(["CANCELLED"]);
  });
});

describe("workflows: outputs, consumption and correlation status", () => {
  it("publishes a completion's outputs in its transaction, routes them on, and settles the correlation COMPLETED", async () => {
    const ws = "flow-ws";
    const admin = server.client({ workspace: ws });
    const writer = await blackboardAgent(server, ws, "writer", { consumes: [{ types: ["Brief"] }], produces: ["Draft"] });
    const editor = await blackboardAgent(server, ws, "editor", { consumes: [{ types: ["Draft"] }], produces: ["Final"] });

    const brief = await publish(admin, { artifact: { type: "Brief", payload: { topic: "blackboards" } } });
    const correlationId = brief.correlationId;
    expect((await admin.request(CorrelationDocument, { id: correlationId })).correlation).toMatchObject({ state: "ACTIVE", pendingTasks: 1, artifactCount: 1 });

    const writerTask = await work(writer, [{ type: "Draft", payload: { text: "draft 1" }, tags: ["v1"] }]);
    expect(writerTask.status).toBe("COMPLETED");
    const [draft] = writerTask.outputArtifacts;
    expect(draft).toMatchObject({ type: "Draft", producerId: writer.id, correlationId });
    // The input is consumed by the writer's task; the draft went on to the editor.
    const input = (await admin.request(ArtifactDocument, { id: brief.artifact.id })).artifact!;
    expect(input.consumptions).toEqual([expect.objectContaining({ agent: { id: writer.id }, task: { id: writerTask.id }, consumedAt: expect.any(String) })]);
    const mid = (await admin.request(CorrelationDocument, { id: correlationId })).correlation;
    expect(mid).toMatchObject({ state: "ACTIVE", pendingTasks: 1, completedTasks: 1, artifactCount: 2 });
    const editorTaskId = mid.tasks.edges.find((e) => e.node.reservedFor?.id === editor.id)!.node.id;
    expect((await admin.request(TaskArtifactsDocument, { id: editorTaskId })).task).toMatchObject({ correlationId, inputArtifacts: [{ id: draft!.id, type: "Draft" }] });

    await work(editor, [{ type: "Final", payload: { text: "final" } }]);
    const done = (await admin.request(CorrelationDocument, { id: correlationId })).correlation;
    expect(done).toMatchObject({ state: "COMPLETED", hasPendingWork: false, pendingTasks: 0, completedTasks: 2, errorCount: 0, artifactCount: 3 });
    expect(done.artifacts.edges.map((e) => e.node.type)).toEqual(["Brief", "Draft", "Final"]);
    expect(Date.parse(done.lastActivityAt!)).toBeGreaterThanOrEqual(Date.parse(done.startedAt!));
  });

  it("stores no output when the completion is refused (a stale lease), and a failed consumer fails the correlation", async () => {
    const ws = "flow-fail-ws";
    const admin = server.client({ workspace: ws });
    const agent = await blackboardAgent(server, ws, "flaky", { consumes: [{ types: ["Job"] }] });
    const job = await publish(admin, { artifact: { type: "Job", payload: { n: 1 } } });
    const claim = expectType((await agent.client.request(ClaimNextTaskDocument, { agentId: agent.id })).claimNextTask, "ClaimNextTaskPayload");
    const stale = (await agent.client.request(CompleteWithOutputsDocument, { taskId: claim.task!.id, leaseToken: "not-the-lease", outputs: [{ type: "Result", payload: {} }] })).completeTask;
    expect(stale.__typename).toBe("LeaseLostError");
    expect((await admin.request(ArtifactsDocument, { filter: { correlationId: job.correlationId } })).artifacts.totalCount).toBe(1);

    expectType((await agent.client.request(FailTaskDocument, { taskId: claim.task!.id, leaseToken: claim.leaseToken!, error: { message: "broken" }, retryable: false })).failTask, "FailTaskPayload");
    expect((await admin.request(CorrelationDocument, { id: job.correlationId })).correlation).toMatchObject({ state: "FAILED", pendingTasks: 0, errorCount: 1, artifactCount: 1 });
  });

  it("completing with outputs needs artifacts:write", async () => {
    const ws = "flow-scope-ws";
    const admin = server.client({ workspace: ws });
    const agent = await blackboardAgent(server, ws, "no-write", { consumes: [{ types: ["Job"] }] });
    await publish(admin, { artifact: { type: "Job", payload: {} } });
    const claimOnly = server.client({ workspace: ws, subject: "no-write", scopes: ["tasks:claim"] });
    const claim = expectType((await claimOnly.request(ClaimNextTaskDocument, { agentId: agent.id })).claimNextTask, "ClaimNextTaskPayload");
    const refused = await claimOnly.raw(CompleteWithOutputsDocument, { taskId: claim.task!.id, leaseToken: claim.leaseToken!, outputs: [{ type: "Result", payload: {} }] });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: "FORBIDDEN", requiredScopes: ["artifacts:write"] });
  });
});

describe("idempotency keys", () => {
  it("a retry returns the same artifact and creates no new work; the same key with another payload is refused", async () => {
    const ws = "idem-ws";
    const admin = server.client({ workspace: ws });
    await blackboardAgent(server, ws, "consumer", { consumes: [{ types: ["Order"] }] });
    const input = { artifact: { type: "Order", payload: { product: "ABC123", quantity: 1 } }, idempotencyKey: "order-42" };
    const first = await publish(admin, input);
    const retry = await publish(admin, input);
    expect(first.replayed).toBe(false);
    expect(retry).toMatchObject({ replayed: true, artifact: { id: first.artifact.id }, correlationId: first.correlationId });
    expect(retry.consumerTasks.map((t) => t.id)).toEqual(first.consumerTasks.map((t) => t.id));

    const reused = (await admin.request(PublishArtifactDocument, { input: { ...input, artifact: { type: "Order", payload: { product: "ABC123", quantity: 2 } } } })).publishArtifact;
    expect(reused).toMatchObject({ __typename: "IdempotencyKeyReusedError", code: "IDEMPOTENCY_KEY_REUSED" });
    expect((await admin.request(ArtifactsDocument, { filter: { types: ["Order"] } })).artifacts.totalCount).toBe(1);
    expect((await admin.request(CorrelationDocument, { id: first.correlationId })).correlation.pendingTasks).toBe(1);
  });
});

describe("lists, filters and the summary", () => {
  it("filters by type, producer, correlation, tags, time and visibility, and counts by type, producer and visibility", async () => {
    const ws = "list-ws";
    const admin = server.client({ workspace: ws });
    const a = await blackboardAgent(server, ws, "producer-a");
    const b = await blackboardAgent(server, ws, "producer-b");
    const before = new Date().toISOString();
    const x = await publish(a.client, { artifact: { type: "Report", payload: { n: 1 }, tags: ["q1", "sales"] }, producerId: a.id });
    await publish(a.client, { artifact: { type: "Report", payload: { n: 2 }, tags: ["q2"] }, producerId: a.id, correlationId: x.correlationId });
    await publish(b.client, { artifact: { type: "Chart", payload: { n: 3 }, tags: ["q1"], visibility: "PRIVATE", readers: [a.id] }, producerId: b.id });
    await publish(admin, { artifact: { type: "Chart", payload: { n: 4 } } });

    const count = async (filter: ArtifactFilter) => (await admin.request(ArtifactsDocument, { filter })).artifacts.totalCount;
    expect(await count({ types: ["Report"] })).toBe(2);
    expect(await count({ producedBy: [b.id] })).toBe(1);
    expect(await count({ correlationId: x.correlationId })).toBe(2);
    expect(await count({ tags: ["q1"] })).toBe(2);
    expect(await count({ tags: ["q1", "sales"] })).toBe(1);
    expect(await count({ visibility: ["PRIVATE"] })).toBe(1);
    expect(await count({ from: before })).toBe(4);
    expect(await count({ to: before })).toBe(0);

    const page = (await admin.request(ArtifactsDocument, { first: 3 })).artifacts;
    expect(page).toMatchObject({ totalCount: 4, pageInfo: { hasNextPage: true } });
    expect(page.edges.map((e) => e.node.type)).toEqual(["Chart", "Chart", "Report"]);

    const summary = (await admin.request(ArtifactSummaryDocument, {})).artifactSummary;
    expect(summary.totalCount).toBe(4);
    expect(summary.byType).toEqual([{ type: "Chart", count: 2 }, { type: "Report", count: 2 }]);
    expect(summary.byProducer).toEqual(expect.arrayContaining([{ producerId: a.id, count: 2 }, { producerId: b.id, count: 1 }, { producerId: null, count: 1 }]));
    expect(summary.byVisibility).toEqual([{ visibility: "PUBLIC", count: 3 }, { visibility: "PRIVATE", count: 1 }]);
    expect((await admin.request(ArtifactSummaryDocument, { filter: { types: ["Chart"] } })).artifactSummary.byProducer).toHaveLength(2);
  });
});

describe("bad input: a typed error, nothing stored", () => {
  const ws = "bad-ws";
  const stored = async () => (await server.client({ workspace: ws }).request(ArtifactsDocument, {})).artifacts.totalCount;

  it("refuses oversized payloads, malformed or foreign correlation ids, and visibility settings that do not fit", async () => {
    const admin = server.client({ workspace: ws });
    const invalid = async (input: Parameters<typeof publish>[1]) => expectType((await admin.request(PublishArtifactDocument, { input })).publishArtifact, "InvalidInputError").issues;

    expect(await invalid({ artifact: { type: "Blob", payload: { data: "x".repeat(300 * 1024) } } })).toEqual([
      { path: "input.artifact.payload", message: expect.stringMatching(/^must serialize to at most 262144 bytes; this one is \d+$/) },
    ]);
    expect(await invalid({ artifact: { type: "Blob", payload: {} }, correlationId: "not-a-uuid" })).toEqual([{ path: "input.correlationId", message: expect.stringContaining("UUID") }]);
    expect(await invalid({ artifact: { type: "Bad Type!", payload: {} } })).toEqual([{ path: "input.artifact.type", message: expect.any(String) }]);
    expect(await invalid({ artifact: { type: "Blob", payload: {}, visibility: "LABELLED" } })).toEqual([{ path: "input.artifact.label", message: expect.stringContaining("needs the label") }]);
    expect(await invalid({ artifact: { type: "Blob", payload: {}, visibility: "AFTER" } })).toEqual([{ path: "input.artifact.visibleFrom", message: expect.any(String) }]);
    expect(await invalid({ artifact: { type: "Blob", payload: {}, label: "secret" } })).toEqual([{ path: "input.artifact.label", message: "only LABELLED artifacts take a label" }]);

    // A correlation of another workspace is not this workspace's to publish into.
    const foreign = await publish(server.client({ workspace: "bad-other-ws" }), { artifact: { type: "Blob", payload: {} } });
    const refused = (await admin.request(PublishArtifactDocument, { input: { artifact: { type: "Blob", payload: {} }, correlationId: foreign.correlationId } })).publishArtifact;
    expect(refused).toMatchObject({ __typename: "NotFoundError", code: "NOT_FOUND", entityType: "Correlation" });
    expect((await admin.request(CorrelationDocument, { id: foreign.correlationId })).correlation).toMatchObject({ state: "NOT_FOUND", artifactCount: 0 });
    expect(await stored()).toBe(0);
  });

  it("refuses unknown types in filters and wait timeouts out of range", async () => {
    const admin = server.client({ workspace: ws });
    const query = await admin.raw(ArtifactsDocument, { filter: { types: ["NeverHeardOf"] } });
    expect(query.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", issues: [{ path: "filter.types.0", message: expect.stringContaining("unknown artifact type \"NeverHeardOf\"") }] });
    const summary = await admin.raw(ArtifactSummaryDocument, { filter: { types: ["NeverHeardOf"] } });
    expect(summary.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");

    const wait = async (timeoutSeconds: number, types?: string[]) =>
      expectType((await admin.request(PublishArtifactAndWaitDocument, { input: { artifact: { type: "Blob", payload: {} }, timeoutSeconds, filter: types ? { types } : null } })).publishArtifactAndWait, "InvalidInputError").issues;
    expect(await wait(0)).toEqual([{ path: "input.timeoutSeconds", message: "must be between 1 and 300" }]);
    expect(await wait(301)).toEqual([{ path: "input.timeoutSeconds", message: "must be between 1 and 300" }]);
    expect(await wait(5, ["Blob", "NeverHeardOf"])).toEqual([{ path: "input.filter.types.1", message: expect.stringContaining("unknown artifact type") }]);
    expect(await stored()).toBe(0);
  });

  it("refuses declarations without types and labels from non-admins", async () => {
    const agent = await blackboardAgent(server, ws, "declarer");
    const issues = expectType((await agent.client.request(DeclareArtifactTypesDocument, { input: { agentId: agent.id, consumes: [{ types: [] }] } })).declareArtifactTypes, "InvalidInputError").issues;
    expect(issues).toEqual([{ path: "input.consumes.0.types", message: "name at least one type" }]);
    const labels = await agent.client.raw(SetAgentLabelsDocument, { input: { agentId: agent.id, labels: ["secret"] } });
    expect(labels.errors?.[0]?.extensions).toMatchObject({ code: "FORBIDDEN", requiredScopes: ["admin"] });
    expect((await agent.client.request(AgentArtifactProfileDocument, { id: agent.id })).agent).toMatchObject({ registeredBy: "declarer", artifactProfile: null });
  });
});

describe("publishArtifactAndWait", () => {
  it("returns the workflow's matching artifacts once it settles, and what exists at the timeout otherwise", async () => {
    const ws = "wait-ws";
    const admin = server.client({ workspace: ws });
    const worker = await blackboardWorker(server, ws, "summarizer", { consumes: ["Text"], publishes: ["Summary"] }, async (inputs) => [
      { type: "Summary", payload: { text: `${String(inputs[0]!.payload.text).slice(0, 4)}…` } },
    ]);
    try {
      const correlationId = randomUUID();
      const result = expectType(
        (
          await admin.request(PublishArtifactAndWaitDocument, {
            input: { artifact: { type: "Text", payload: { text: "a long text" } }, correlationId, timeoutSeconds: 60, filter: { types: ["Summary"], producedBy: [worker.agentId] } },
          })
        ).publishArtifactAndWait,
        "PublishArtifactAndWaitPayload",
      );
      expect(result).toMatchObject({ correlationId, completed: true, artifacts: [{ type: "Summary", producerId: worker.agentId, payload: { text: "a lo…" } }] });
      expect((await admin.request(CorrelationDocument, { id: correlationId })).correlation.state).toBe("COMPLETED");
    } finally {
      await worker.stop();
    }

    // Nobody works on "Stuck" artifacts: the call returns at the timeout with what exists.
    await blackboardAgent(server, ws, "idle", { consumes: [{ types: ["Stuck"] }] });
    const timedOut = expectType((await admin.request(PublishArtifactAndWaitDocument, { input: { artifact: { type: "Stuck", payload: {} }, timeoutSeconds: 1 } })).publishArtifactAndWait, "PublishArtifactAndWaitPayload");
    expect(timedOut.completed).toBe(false);
    expect(timedOut.durationMs).toBeGreaterThanOrEqual(1000);
    expect(timedOut.artifacts.map((a) => a.type)).toEqual(["Stuck"]);
  });
});

describe("runAgent and agentHistory", () => {
  it("runs one agent on its inputs through a task reserved for it, returns its outputs, and shows in its history", async () => {
    const ws = "run-ws";
    const admin = server.client({ workspace: ws });
    const bystander = await blackboardAgent(server, ws, "bystander", { consumes: [{ types: ["CodeSubmission"] }] });
    const detector = await blackboardWorker(server, ws, "bug_detector", { consumes: ["CodeSubmission"], publishes: ["BugAnalysis"] }, async (inputs) => [
      { type: "BugAnalysis", payload: { bugs: 0, language: inputs[0]!.payload.language } },
    ]);
    try {
      const run = expectType(
        (await admin.request(RunAgentDocument, { input: { agentId: detector.agentId, inputs: [{ type: "CodeSubmission", payload: { code: "def foo(): pass", language: "python" } }], timeoutSeconds: 60 } })).runAgent,
        "RunAgentPayload",
      );
      expect(run).toMatchObject({
        completed: true,
        task: { type: "artifact.run", status: "COMPLETED", reservedFor: { id: detector.agentId } },
        inputs: [{ type: "CodeSubmission" }],
        artifacts: [{ type: "BugAnalysis", producerId: detector.agentId, payload: { bugs: 0, language: "python" } }],
      });
      // The inputs went to the agent alone.
      expect((await bystander.client.request(ClaimNextTaskDocument, { agentId: bystander.id })).claimNextTask).toMatchObject({ task: null });
      expect((await admin.request(CorrelationDocument, { id: run.correlationId })).correlation).toMatchObject({ state: "COMPLETED", artifactCount: 2 });

      // A PRIVATE artifact it produced counts only for readers who may see it.
      const own = server.client({ workspace: ws, subject: "bug_detector", scopes: AGENT_SCOPES });
      await publish(own, { artifact: { type: "BugAnalysis", payload: { note: "mine" }, visibility: "PRIVATE" }, producerId: detector.agentId });
      const history = (await admin.request(AgentHistoryDocument, { agentId: detector.agentId, interval: "MINUTE" })).agentHistory!;
      expect(history).toMatchObject({ agentId: detector.agentId, executions: 1, completed: 1, failed: 0, artifactsConsumed: 1, artifactsProduced: 2 });
      expect(history.timeline.reduce((sum, entry) => sum + entry.executions, 0)).toBe(1);
      const outsider = server.client({ workspace: ws, subject: "outsider", scopes: ["artifacts:read"] });
      expect((await outsider.request(AgentHistoryDocument, { agentId: detector.agentId })).agentHistory).toMatchObject({ artifactsProduced: 1, artifactsConsumed: 1 });

      const backwards = await admin.raw(AgentHistoryDocument, { agentId: detector.agentId, from: new Date().toISOString(), to: new Date(Date.now() - 1000).toISOString() });
      expect(backwards.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", issues: [{ path: "from", message: "must be before `to`" }] });
    } finally {
      await detector.stop();
    }
  });

  it("refuses to run a terminated agent, or an input the agent could never read", async () => {
    const ws = "run-bad-ws";
    const admin = server.client({ workspace: ws });
    const agent = await blackboardAgent(server, ws, "picky");
    const unreadable = (await admin.request(RunAgentDocument, { input: { agentId: agent.id, inputs: [{ type: "Secret", payload: {}, visibility: "LABELLED", label: "top" }], timeoutSeconds: 1 } })).runAgent;
    expect(expectType(unreadable, "InvalidInputError").issues).toEqual([{ path: "input.inputs.0.visibility", message: expect.stringContaining("could never read") }]);
    expectType((await admin.request(SetAgentLabelsDocument, { input: { agentId: agent.id, labels: ["top"] } })).setAgentLabels, "SetAgentLabelsPayload");
    expectType((await admin.request(TerminateAgentDocument, { id: agent.id })).terminateAgent, "TerminateAgentPayload");
    const terminated = (await admin.request(RunAgentDocument, { input: { agentId: agent.id, inputs: [{ type: "Secret", payload: {} }], timeoutSeconds: 1 } })).runAgent;
    expect(terminated).toMatchObject({ __typename: "IllegalTransitionError", fromStatus: "TERMINATED", action: "run" });
    expect((await admin.request(ArtifactsDocument, {})).artifacts.totalCount).toBe(0);
  });
});
