/**
 * Work given to an agent reaches the agent (issue 17): an assignment is pushed on the agent's own
 * `agentWork` subscription with the lease it needs, and the agent completes the task with it —
 * no polling; runAgent's reserved work is pushed too. Lease tokens go only to subscribers entitled
 * to act as the agent (its registering token, or tasks:write), never to other subscribers or
 * tenants, and never into the event log, audit trail or server log. `taskEvents` filters by agent.
 */
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../src/logger.ts";
import {
  AgentTaskEventsDocument,
  AgentWorkDocument,
  AssignTaskForWorkDocument,
  AuditTrailDocument,
  ClaimNextTaskDocument,
  ClaimTaskDocument,
  CompleteTaskDocument,
  CreateTaskDocument,
  EventLogHeadDocument,
  RegisterAgentDocument,
  ReportProgressDocument,
  RunAgentDocument,
  StartTaskDocument,
} from "./generated/graphql.ts";
import { collect, expectType, wsClient } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

const logLines: string[] = [];
let server: TestServer;
beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  server = await startTestServer({ logger: createLogger("debug", sink) });
});
afterAll(() => server?.stop());

const WS = "work-ws";

/** An agent registered by its own token (subject `name`), with that token's client. */
async function agentWithToken(name: string, scopes: ("tasks:claim" | "agents:write" | "artifacts:read" | "artifacts:write")[] = ["tasks:claim", "agents:write"]) {
  const token = server.token({ workspace: WS, subject: name, scopes });
  const client = server.client({ workspace: WS, subject: name, scopes });
  const agent = expectType((await client.request(RegisterAgentDocument, { input: { name, type: "worker" } })).registerAgent, "RegisterAgentPayload").agent;
  return { id: agent.id, token, client };
}

describe("agentWork", () => {
  it("pushes an assigned task with its lease to the agent's subscription; the agent completes it with the pushed token, no polling", async () => {
    const operator = server.client({ workspace: WS, subject: "operator", scopes: ["tasks:write", "agents:read"] });
    const worker = await agentWithToken("assignee");
    const head = (await operator.request(EventLogHeadDocument)).eventLogHead;

    const agentSocket = wsClient(server.wsUrl, worker.token);
    const watcherSocket = wsClient(server.wsUrl, server.token({ workspace: WS, subject: "watcher", scopes: ["tasks:read"] }));
    try {
      const work = collect(agentSocket, AgentWorkDocument, { agentId: worker.id, after: head });
      const watched = collect(watcherSocket, AgentTaskEventsDocument, { filter: {}, after: head });
      const task = expectType((await operator.request(CreateTaskDocument, { input: { description: "summarize the logs", type: "summary", context: { file: "a.log" } } })).createTask, "CreateTaskPayload").task;
      const assigned = expectType((await operator.request(AssignTaskForWorkDocument, { taskId: task.id, agentId: worker.id })).assignTask, "AssignTaskPayload");
      expect(assigned.task).toMatchObject({ status: "CLAIMED", assignee: { id: worker.id } });

      const [pushed] = await work.waitFor(1);
      expect(pushed!.agentWork).toMatchObject({
        type: "task.claimed",
        kind: "ASSIGNED",
        taskId: task.id,
        assignedBy: "operator",
        leaseExpiresAt: assigned.leaseExpiresAt,
        task: { id: task.id, status: "CLAIMED", description: "summarize the logs", context: { file: "a.log" }, assignee: { id: worker.id } },
      });
      const leaseToken = pushed!.agentWork.leaseToken!;
      expect(leaseToken).toMatch(/^[A-Za-z0-9_-]{20,}$/);

      // The agent works with what it was pushed: start, progress, complete.
      expectType((await worker.client.request(StartTaskDocument, { taskId: task.id, leaseToken })).startTask, "StartTaskPayload");
      expectType((await worker.client.request(ReportProgressDocument, { taskId: task.id, leaseToken, progress: 0.5 })).reportProgress, "ReportProgressPayload");
      const done = expectType((await worker.client.request(CompleteTaskDocument, { taskId: task.id, leaseToken, result: { summary: "ok" } })).completeTask, "CompleteTaskPayload");
      expect(done.task).toMatchObject({ status: "COMPLETED", result: { summary: "ok" } });

      // The other subscriber of the workspace saw the assignment happen, but never the token.
      const seen = await watched.waitFor(5); // created, claimed, started, progress, completed
      expect(seen.map((e) => e.taskEvents.type)).toEqual(["task.created", "task.claimed", "task.started", "task.progress", "task.completed"]);
      expect(seen[1]!.taskEvents).toMatchObject({ agentId: worker.id, payload: { assignedBy: "operator" } });
      expect(JSON.stringify(seen)).not.toContain(leaseToken);
      // Nor does the audit trail or the server's log.
      const trail = await server.client({ workspace: WS }).request(AuditTrailDocument, { first: 50, filter: { entity: task.id } });
      expect(trail.auditTrail.totalCount).toBeGreaterThanOrEqual(5);
      expect(JSON.stringify(trail)).not.toContain(leaseToken);
      expect(logLines.length).toBeGreaterThan(0);
      expect(logLines.join("")).not.toContain(leaseToken);
      // One push per assignment: completing it pushed nothing more.
      expect(work.events).toHaveLength(1);
    } finally {
      await agentSocket.dispose();
      await watcherSocket.dispose();
    }
  });

  it("refuses subscribers not entitled to the agent's leases: another claim token, a read-only token, another workspace", async () => {
    const worker = await agentWithToken("guarded");
    const refusal = async (token: string) => {
      const socket = wsClient(server.wsUrl, token);
      try {
        const work = collect(socket, AgentWorkDocument, { agentId: worker.id, after: null });
        await work.ended;
        expect(work.events).toEqual([]);
        return work.errors;
      } finally {
        await socket.dispose();
      }
    };
    const codeOf = (errors: unknown[]) => JSON.stringify(errors);
    // Same workspace, tasks:claim, but not the token that registered the agent.
    expect(codeOf(await refusal(server.token({ workspace: WS, subject: "someone-else", scopes: ["tasks:claim"] })))).toContain("FORBIDDEN");
    // Read access alone never sees leases.
    expect(codeOf(await refusal(server.token({ workspace: WS, subject: "guarded", scopes: ["tasks:read"] })))).toContain("FORBIDDEN");
    // Another tenant, even an admin, does not learn the agent exists.
    const foreign = codeOf(await refusal(server.token({ workspace: "other-ws", subject: "guarded", scopes: ["admin"] })));
    expect(foreign).toContain("NOT_FOUND");
    expect(foreign).not.toContain("FORBIDDEN");

    // An operator (tasks:write) may follow the agent's work, lease included.
    const operatorToken = server.token({ workspace: WS, subject: "ops", scopes: ["tasks:write", "agents:read"] });
    const operator = server.client({ workspace: WS, subject: "ops", scopes: ["tasks:write", "agents:read"] });
    const head = (await operator.request(EventLogHeadDocument)).eventLogHead;
    const socket = wsClient(server.wsUrl, operatorToken);
    try {
      const work = collect(socket, AgentWorkDocument, { agentId: worker.id, after: head });
      const task = expectType((await operator.request(CreateTaskDocument, { input: { description: "watched", type: "summary" } })).createTask, "CreateTaskPayload").task;
      expectType((await operator.request(AssignTaskForWorkDocument, { taskId: task.id, agentId: worker.id })).assignTask, "AssignTaskPayload");
      const [pushed] = await work.waitFor(1);
      expect(pushed!.agentWork).toMatchObject({ kind: "ASSIGNED", taskId: task.id });
      expect(pushed!.agentWork.leaseToken).toEqual(expect.any(String));
    } finally {
      await socket.dispose();
    }
  });

  it("starts with the work the agent already holds (HELD, with its lease); self-claims are not pushed; a replay skips assignments no longer held", async () => {
    const operator = server.client({ workspace: WS, subject: "operator", scopes: ["tasks:write", "agents:read"] });
    const worker = await agentWithToken("restarted");
    const task = expectType((await operator.request(CreateTaskDocument, { input: { description: "held across a restart", type: "restart-only" } })).createTask, "CreateTaskPayload").task;
    const claim = expectType((await worker.client.request(ClaimNextTaskDocument, { agentId: worker.id, types: ["restart-only"] })).claimNextTask, "ClaimNextTaskPayload");
    expect(claim.task?.id).toBe(task.id);

    const socket = wsClient(server.wsUrl, worker.token);
    try {
      const work = collect(socket, AgentWorkDocument, { agentId: worker.id, after: null });
      const [first] = await work.waitFor(1);
      expect(first!.agentWork).toMatchObject({ kind: "HELD", type: "task.held", taskId: task.id, leaseToken: claim.leaseToken, leaseExpiresAt: claim.leaseExpiresAt, assignedBy: null });
      // A claim the agent makes itself is answered by the claim: not pushed again.
      const second = expectType((await operator.request(CreateTaskDocument, { input: { description: "self-claimed", type: "restart-only" } })).createTask, "CreateTaskPayload").task;
      const own = expectType((await worker.client.request(ClaimNextTaskDocument, { agentId: worker.id, types: ["restart-only"] })).claimNextTask, "ClaimNextTaskPayload");
      expect(own.task?.id).toBe(second.id);
      // An assignment after it is pushed, and is the next (and only other) event.
      const beforeThird = (await operator.request(EventLogHeadDocument)).eventLogHead;
      const third = expectType((await operator.request(CreateTaskDocument, { input: { description: "assigned later", type: "restart-only" } })).createTask, "CreateTaskPayload").task;
      expectType((await operator.request(AssignTaskForWorkDocument, { taskId: third.id, agentId: worker.id })).assignTask, "AssignTaskPayload");
      const events = await work.waitFor(2);
      expect(events.map((e) => [e.agentWork.kind, e.agentWork.taskId])).toEqual([["HELD", task.id], ["ASSIGNED", third.id]]);
      expectType((await worker.client.request(CompleteTaskDocument, { taskId: third.id, leaseToken: events[1]!.agentWork.leaseToken! })).completeTask, "CompleteTaskPayload");

      // Replaying from before that assignment skips it (done), and delivers the next one.
      const replay = collect(socket, AgentWorkDocument, { agentId: worker.id, after: beforeThird });
      const fourth = expectType((await operator.request(CreateTaskDocument, { input: { description: "assigned last", type: "restart-only" } })).createTask, "CreateTaskPayload").task;
      expectType((await operator.request(AssignTaskForWorkDocument, { taskId: fourth.id, agentId: worker.id })).assignTask, "AssignTaskPayload");
      const replayed = await replay.waitFor(1);
      expect(replayed.map((e) => [e.agentWork.kind, e.agentWork.taskId])).toEqual([["ASSIGNED", fourth.id]]);
    } finally {
      await socket.dispose();
    }
  });

  it("pushes runAgent's reserved task to the agent, which claims it (nobody else can) and completes it; runAgent returns", async () => {
    const admin = server.client({ workspace: WS });
    const worker = await agentWithToken("runner", ["tasks:claim", "agents:write", "artifacts:read", "artifacts:write"]);
    const head = (await admin.request(EventLogHeadDocument)).eventLogHead;
    const socket = wsClient(server.wsUrl, worker.token);
    try {
      const work = collect(socket, AgentWorkDocument, { agentId: worker.id, after: head });
      const run = admin.request(RunAgentDocument, { input: { agentId: worker.id, inputs: [{ type: "Note", payload: { text: "hello" } }], timeoutSeconds: 60 } });
      const [pushed] = await work.waitFor(1);
      expect(pushed!.agentWork).toMatchObject({ kind: "RESERVED", type: "task.created", leaseToken: null, leaseExpiresAt: null, task: { status: "PENDING" } });
      const taskId = pushed!.agentWork.taskId;
      const claim = expectType((await worker.client.request(ClaimTaskDocument, { taskId, agentId: worker.id })).claimTask, "ClaimTaskPayload");
      expectType((await worker.client.request(CompleteTaskDocument, { taskId, leaseToken: claim.leaseToken })).completeTask, "CompleteTaskPayload");
      const result = expectType((await run).runAgent, "RunAgentPayload");
      expect(result).toMatchObject({ completed: true, task: { id: taskId, status: "COMPLETED" } });
      // Its own claim is not pushed back to it.
      expect(work.events).toHaveLength(1);
    } finally {
      await socket.dispose();
    }
  });
});

describe("taskEvents filtered by agentId", () => {
  it("delivers the events of that agent's work (named or, like progress, by its latest attempt) and nothing of another agent's", async () => {
    const operator = server.client({ workspace: WS, subject: "operator", scopes: ["tasks:write", "agents:read"] });
    const mine = await agentWithToken("filtered-mine");
    const theirs = await agentWithToken("filtered-theirs");
    const head = (await operator.request(EventLogHeadDocument)).eventLogHead;
    const socket = wsClient(server.wsUrl, server.token({ workspace: WS, subject: "watcher", scopes: ["tasks:read"] }));
    try {
      const mineEvents = collect(socket, AgentTaskEventsDocument, { filter: { agentId: mine.id }, after: head });
      const wrongType = collect(socket, AgentTaskEventsDocument, { filter: { agentId: await taskIdOf(operator) }, after: head });
      for (const agent of [theirs, mine]) {
        const task = expectType((await operator.request(CreateTaskDocument, { input: { description: `for ${agent.id}`, type: "filtered" } })).createTask, "CreateTaskPayload").task;
        const lease = expectType((await operator.request(AssignTaskForWorkDocument, { taskId: task.id, agentId: agent.id })).assignTask, "AssignTaskPayload");
        expect(lease.task.assignee?.id).toBe(agent.id);
        const claimed = await tokenOf(agent.token, agent.id);
        expectType((await agent.client.request(ReportProgressDocument, { taskId: task.id, leaseToken: claimed, progress: 0.25 })).reportProgress, "ReportProgressPayload");
        expectType((await agent.client.request(CompleteTaskDocument, { taskId: task.id, leaseToken: claimed })).completeTask, "CompleteTaskPayload");
      }
      const events = await mineEvents.waitFor(3);
      // Give the stream a chance to deliver anything wrongly matched: a later event of mine is the marker.
      const marker = expectType((await operator.request(CreateTaskDocument, { input: { description: "marker", type: "filtered" } })).createTask, "CreateTaskPayload").task;
      expectType((await operator.request(AssignTaskForWorkDocument, { taskId: marker.id, agentId: mine.id })).assignTask, "AssignTaskPayload");
      await mineEvents.waitFor(4);
      expect(mineEvents.events.map((e) => e.taskEvents.type)).toEqual(["task.claimed", "task.progress", "task.completed", "task.claimed"]);
      expect(events.every((e) => e.taskEvents.agentId === null || e.taskEvents.agentId === mine.id)).toBe(true);
      // A task's id is not an agent's: that filter matches nothing.
      expect(wrongType.events).toEqual([]);
      expect(wrongType.errors).toEqual([]);
      // Replayed from the same cursor after all of it happened: the same events. A creation is
      // nobody's work, even once the task's latest attempt is this agent's.
      const replay = collect(socket, AgentTaskEventsDocument, { filter: { agentId: mine.id }, after: head });
      await replay.waitFor(4);
      expect(replay.events.map((e) => e.taskEvents.cursor)).toEqual(mineEvents.events.map((e) => e.taskEvents.cursor));
    } finally {
      await socket.dispose();
    }
  });
});

/** The global id of some task (a valid id of the wrong type for an agent filter). */
async function taskIdOf(operator: ReturnType<TestServer["client"]>): Promise<string> {
  return expectType((await operator.request(CreateTaskDocument, { input: { description: "not an agent", type: "unrelated" } })).createTask, "CreateTaskPayload").task.id;
}

/** The lease the agent holds on its newest assignment, as agentWork's snapshot pushes it. */
async function tokenOf(token: string, agentId: string): Promise<string> {
  const socket = wsClient(server.wsUrl, token);
  try {
    const work = collect(socket, AgentWorkDocument, { agentId, after: null });
    const [held] = await work.waitFor(1);
    expect(held!.agentWork.kind).toBe("HELD");
    return held!.agentWork.leaseToken!;
  } finally {
    await socket.dispose();
  }
}
