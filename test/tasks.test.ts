/** Tasks: claims with leases, the holder's calls, retries, and the rules that keep work exactly-once. */
import { decodeGlobalID } from "@pothos/plugin-relay";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AgentDocument,
  ClaimNextTaskDocument,
  ClaimTaskDocument,
  CompleteTaskDocument,
  CreateTaskDocument,
  FailTaskDocument,
  RegisterAgentDocument,
  ReleaseTaskDocument,
  ReportProgressDocument,
  StartTaskDocument,
  TaskDocument,
  TasksDocument,
  TerminateAgentDocument,
} from "./generated/graphql.ts";
import { type GraphQLClient, expectType } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
let api: GraphQLClient;

beforeAll(async () => {
  // No retry delay so retries are observable at once; the sweeper runs often. Leases are long
  // enough for a loaded machine; the lease test fast-forwards one instead of waiting.
  server = await startTestServer({ config: { leaseSeconds: 60, retryBaseSeconds: 0, leaseSweepIntervalMs: 200 } });
  api = server.client({ workspace: "tasks-ws" });
});
afterAll(() => server?.stop());

async function agent(name: string, capabilities: string[] = []) {
  return expectType((await api.request(RegisterAgentDocument, { input: { name, type: "worker", capabilities } })).registerAgent, "RegisterAgentPayload").agent;
}
async function task(input: Partial<{ type: string; priority: "LOW" | "MEDIUM" | "HIGH" | "CRITICAL"; requiredCapabilities: string[]; maxAttempts: number }> = {}) {
  const { createTask } = await api.request(CreateTaskDocument, { input: { description: "do it", type: input.type ?? "work", ...input } });
  return expectType(createTask, "CreateTaskPayload").task;
}
async function claimNext(agentId: string, types?: string[]) {
  return expectType((await api.request(ClaimNextTaskDocument, { agentId, types })).claimNextTask, "ClaimNextTaskPayload");
}

describe("lifecycle", () => {
  it("claims, starts, reports progress and completes; the agent is BUSY while it holds work", async () => {
    const worker = await agent("lifecycle", ["ts"]);
    const created = await task({ type: "lifecycle", requiredCapabilities: ["ts"] });
    expect(created).toMatchObject({ status: "PENDING", attemptCount: 0, progress: 0 });

    const claim = await claimNext(worker.id, ["lifecycle"]);
    expect(claim.task).toMatchObject({ id: created.id, status: "CLAIMED", fence: 1, attemptCount: 1 });
    expect(claim.leaseToken).toBeTruthy();
    expect((await api.request(AgentDocument, { id: worker.id })).agent?.status).toBe("BUSY");

    expect(expectType((await api.request(StartTaskDocument, { taskId: created.id, leaseToken: claim.leaseToken! })).startTask, "StartTaskPayload").task.status).toBe("RUNNING");
    const progressed = expectType((await api.request(ReportProgressDocument, { taskId: created.id, leaseToken: claim.leaseToken!, progress: 0.5, partialResult: { lines: 10 } })).reportProgress, "ReportProgressPayload");
    expect(progressed.task).toMatchObject({ progress: 0.5, partialResult: { lines: 10 } });
    const done = expectType((await api.request(CompleteTaskDocument, { taskId: created.id, leaseToken: claim.leaseToken!, result: { ok: true } })).completeTask, "CompleteTaskPayload");
    expect(done.task).toMatchObject({ status: "COMPLETED", progress: 1, result: { ok: true } });

    const final = (await api.request(TaskDocument, { id: created.id })).task!;
    expect(final.assignee).toBeNull();
    expect(final.attempts).toEqual([{ fence: 1, outcome: "COMPLETED", agent: { id: worker.id }, error: null }]);
    expect((await api.request(AgentDocument, { id: worker.id })).agent?.status).toBe("IDLE");

    const again = expectType((await api.request(CompleteTaskDocument, { taskId: created.id, leaseToken: claim.leaseToken! })).completeTask, "LeaseLostError");
    expect(again.reason).toBe("FINISHED");
  });

  it("claims by priority then age, and only tasks whose capabilities the agent has", async () => {
    const type = "ordering";
    const low = await task({ type, priority: "LOW" });
    const critical = await task({ type, priority: "CRITICAL" });
    const needsGo = await task({ type, priority: "CRITICAL", requiredCapabilities: ["go"] });
    const high1 = await task({ type, priority: "HIGH" });
    const high2 = await task({ type, priority: "HIGH" });
    const worker = await agent("orderer", ["ts"]);
    const order: string[] = [];
    for (;;) {
      const claim = await claimNext(worker.id, [type]);
      if (!claim.task) break;
      order.push(claim.task.id);
      await api.request(CompleteTaskDocument, { taskId: claim.task.id, leaseToken: claim.leaseToken! });
    }
    expect(order).toEqual([critical.id, high1.id, high2.id, low.id]);
    expect((await api.request(TaskDocument, { id: needsGo.id })).task?.status).toBe("PENDING");

    const mismatch = expectType((await api.request(ClaimTaskDocument, { taskId: needsGo.id, agentId: worker.id })).claimTask, "CapabilityMismatchError");
    expect(mismatch.missing).toEqual(["go"]);
    const gopher = await agent("gopher", ["go", "ts"]);
    expectType((await api.request(ClaimTaskDocument, { taskId: needsGo.id, agentId: gopher.id })).claimTask, "ClaimTaskPayload");
    const taken = expectType((await api.request(ClaimTaskDocument, { taskId: needsGo.id, agentId: gopher.id })).claimTask, "IllegalTransitionError");
    expect(taken.fromStatus).toBe("CLAIMED");
  });

  it("retries a retryable failure until maxAttempts, then FAILED (the dead-letter list)", async () => {
    const worker = await agent("failer");
    const created = await task({ type: "flaky", maxAttempts: 2 });
    const first = await claimNext(worker.id, ["flaky"]);
    const retried = expectType((await api.request(FailTaskDocument, { taskId: created.id, leaseToken: first.leaseToken!, error: { message: "boom" } })).failTask, "FailTaskPayload");
    expect(retried.task).toMatchObject({ status: "PENDING", attemptCount: 1, error: { message: "boom" } });
    const second = await claimNext(worker.id, ["flaky"]);
    expect(second.task?.fence).toBe(2);
    const failed = expectType((await api.request(FailTaskDocument, { taskId: created.id, leaseToken: second.leaseToken!, error: { message: "boom again" } })).failTask, "FailTaskPayload");
    expect(failed.task.status).toBe("FAILED");
    const deadLetters = await api.request(TasksDocument, { first: 10, filter: { status: ["FAILED"], type: ["flaky"] } });
    expect(deadLetters.tasks.edges.map((e) => e.node.id)).toEqual([created.id]);
    expect((await api.request(TaskDocument, { id: created.id })).task?.attempts.map((a) => a.outcome)).toEqual(["FAILED", "FAILED"]);
  });

  it("fails for good at once when the failure is not retryable; release gives the task back without counting", async () => {
    const worker = await agent("releaser");
    const a = await task({ type: "release" });
    const claim = await claimNext(worker.id, ["release"]);
    const released = expectType((await api.request(ReleaseTaskDocument, { taskId: a.id, leaseToken: claim.leaseToken! })).releaseTask, "ReleaseTaskPayload");
    expect(released.task).toMatchObject({ status: "PENDING", attemptCount: 0 });
    const again = await claimNext(worker.id, ["release"]);
    const fatal = expectType((await api.request(FailTaskDocument, { taskId: a.id, leaseToken: again.leaseToken!, error: { message: "bad input" }, retryable: false })).failTask, "FailTaskPayload");
    expect(fatal.task.status).toBe("FAILED");
  });
});

describe("leases", () => {
  it("re-queues an expired lease; another agent finishes the task; the first agent's late calls are refused", async () => {
    const slow = await agent("slow");
    const fast = await agent("fast");
    const created = await task({ type: "lease" });
    const stale = await claimNext(slow.id, ["lease"]);
    // The slow agent goes silent until its lease runs out (fast-forwarded here rather than waited
    // for); the sweeper (every 200 ms) re-queues the task.
    await server.db.prisma.task.update({ where: { id: decodeGlobalID(created.id).id }, data: { leaseExpiresAt: new Date(Date.now() - 1000) } });
    let reclaimed: Awaited<ReturnType<typeof claimNext>> | undefined;
    for (let i = 0; i < 200 && !reclaimed?.task; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      reclaimed = await claimNext(fast.id, ["lease"]);
    }
    expect(reclaimed?.task?.id).toBe(created.id);
    expect(reclaimed?.task?.fence).toBe(2);

    const late = expectType((await api.request(CompleteTaskDocument, { taskId: created.id, leaseToken: stale.leaseToken!, result: { by: "slow" } })).completeTask, "LeaseLostError");
    expect(late).toMatchObject({ code: "LEASE_LOST", reason: "RECLAIMED", taskId: created.id });
    expectType((await api.request(ReportProgressDocument, { taskId: created.id, leaseToken: stale.leaseToken!, progress: 0.9 })).reportProgress, "LeaseLostError");

    expectType((await api.request(CompleteTaskDocument, { taskId: created.id, leaseToken: reclaimed!.leaseToken!, result: { by: "fast" } })).completeTask, "CompleteTaskPayload");
    const final = (await api.request(TaskDocument, { id: created.id })).task!;
    expect(final.result).toEqual({ by: "fast" });
    expect(final.attempts.map((a) => [a.fence, a.outcome, a.agent.id])).toEqual([
      [1, "LEASE_EXPIRED", slow.id],
      [2, "COMPLETED", fast.id],
    ]);
    expect((await api.request(AgentDocument, { id: slow.id })).agent?.status).toBe("IDLE");
  });

  it("gives a terminated agent's tasks back and refuses its claims", async () => {
    const doomed = await agent("doomed");
    const created = await task({ type: "orphan" });
    await claimNext(doomed.id, ["orphan"]);
    await api.request(TerminateAgentDocument, { id: doomed.id });
    expect((await api.request(TaskDocument, { id: created.id })).task).toMatchObject({ status: "PENDING", assignee: null, attemptCount: 0 });
    const refused = expectType((await api.request(ClaimNextTaskDocument, { agentId: doomed.id })).claimNextTask, "IllegalTransitionError");
    expect(refused).toMatchObject({ entityType: "Agent", fromStatus: "TERMINATED", action: "claim work" });
  });
});

describe("bad input", () => {
  it("refuses progress outside 0..1 and invalid tasks with InvalidInputError, changing nothing", async () => {
    const worker = await agent("validator");
    const created = await task({ type: "validate" });
    const claim = await claimNext(worker.id, ["validate"]);
    for (const progress of [-0.1, 1.5]) {
      const bad = expectType((await api.request(ReportProgressDocument, { taskId: created.id, leaseToken: claim.leaseToken!, progress })).reportProgress, "InvalidInputError");
      expect(bad.issues).toEqual([{ path: "input.progress", message: "must be between 0 and 1" }]);
    }
    expect((await api.request(TaskDocument, { id: created.id })).task?.progress).toBe(0);
    const invalid = expectType((await api.request(CreateTaskDocument, { input: { description: "", type: "x y", maxAttempts: 0 } })).createTask, "InvalidInputError");
    expect(invalid.issues.map((i) => i.path).sort()).toEqual(["input.description", "input.maxAttempts", "input.type"]);
  });

  it("treats another workspace's agent and task as unknown", async () => {
    const mine = await task({ type: "private" });
    const other = server.client({ workspace: "other-ws" });
    const { registerAgent } = await other.request(RegisterAgentDocument, { input: { name: "intruder", type: "worker" } });
    const intruder = expectType(registerAgent, "RegisterAgentPayload").agent;
    expectType((await other.request(ClaimTaskDocument, { taskId: mine.id, agentId: intruder.id })).claimTask, "NotFoundError");
    expect((await other.request(ClaimNextTaskDocument, { agentId: intruder.id, types: ["private"] })).claimNextTask).toMatchObject({ task: null });
    const foreignAgent = expectType((await api.request(ClaimNextTaskDocument, { agentId: intruder.id })).claimNextTask, "NotFoundError");
    expect(foreignAgent.entityType).toBe("Agent");
    expect((await api.request(TaskDocument, { id: mine.id })).task?.status).toBe("PENDING");
  });
});
