/**
 * rebalanceSwarm (seed 001's rebalance): an operator moves held or pending work between a swarm's
 * members. The old holder's lease stops working (LeaseLostError RECLAIMED), the new member holds
 * the task under a new lease; all moves or none; and a completion racing a move has exactly one
 * winner.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AgentDocument,
  ArchiveSwarmDocument,
  AssignTaskDocument,
  CompleteTaskDocument,
  CreateSwarmWithWorkDocument,
  CreateTaskDocument,
  CreateTasksDocument,
  JoinSwarmDocument,
  PauseSwarmDocument,
  RebalanceSwarmDocument,
  RegisterAgentDocument,
  ReportProgressDocument,
  ResumeSwarmDocument,
  StartTaskDocument,
  SwarmControlEventsDocument,
  TaskDocument,
} from "./generated/graphql.ts";
import { collect, expectType, type GraphQLClient, wsClient } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

const WS = "rebalance-ws";

async function newSwarm(api: GraphQLClient, name: string): Promise<string> {
  return expectType((await api.request(CreateSwarmWithWorkDocument, { input: { name, objective: "o", topology: "MESH" } })).createSwarm, "CreateSwarmPayload").swarm.id;
}

async function member(api: GraphQLClient, swarmId: string | null, name: string, capabilities: string[] = []): Promise<string> {
  const id = expectType((await api.request(RegisterAgentDocument, { input: { name, type: "coder", capabilities } })).registerAgent, "RegisterAgentPayload").agent.id;
  if (swarmId) expectType((await api.request(JoinSwarmDocument, { swarmId, agentId: id })).joinSwarm, "JoinSwarmPayload");
  return id;
}

async function task(api: GraphQLClient, swarmId: string, description: string, requiredCapabilities: string[] = []): Promise<string> {
  return expectType((await api.request(CreateTaskDocument, { input: { description, type: "rb", swarmId, requiredCapabilities } })).createTask, "CreateTaskPayload").task.id;
}

async function assign(api: GraphQLClient, taskId: string, agentId: string): Promise<string> {
  return expectType((await api.request(AssignTaskDocument, { taskId, agentId })).assignTask, "AssignTaskPayload").leaseToken;
}

describe("rebalanceSwarm", () => {
  it("moves a held and a pending task to another member: the old lease is void, the new holder completes", async () => {
    const api = server.client({ workspace: WS });
    const swarmId = await newSwarm(api, "moving");
    const a = await member(api, swarmId, "a");
    const b = await member(api, swarmId, "b");
    const held = await task(api, swarmId, "held by a");
    const pending = await task(api, swarmId, "pending");
    const oldToken = await assign(api, held, a);
    expectType((await api.request(ReportProgressDocument, { taskId: held, leaseToken: oldToken, progress: 0.4 })).reportProgress, "ReportProgressPayload");

    const socket = wsClient(server.wsUrl, server.token({ workspace: WS, scopes: ["swarms:read"] }));
    try {
      const events = collect(socket, SwarmControlEventsDocument, { swarmId, types: ["task.released", "task.claimed", "swarm.rebalanced"], after: "0" });
      const result = expectType(
        (await api.request(RebalanceSwarmDocument, { input: { swarmId, moves: [{ taskId: held, toAgentId: b }, { taskId: pending, toAgentId: b }], reason: "a is slow" } })).rebalanceSwarm,
        "RebalanceSwarmPayload",
      );
      expect(result.moves.map((m) => [m.task.id, m.task.status, m.task.assignee?.id, m.fromAgent?.id ?? null, m.toAgent.id, m.task.attemptCount])).toEqual([
        [held, "CLAIMED", b, a, b, 1], // the released attempt does not count
        [pending, "CLAIMED", b, null, b, 1],
      ]);
      const [movedHeld, movedPending] = result.moves;
      expect(movedHeld!.leaseToken).not.toBe(oldToken);
      expect(movedHeld!.fromAgent?.status).toBe("IDLE"); // holds nothing any more
      expect(movedHeld!.toAgent.status).toBe("BUSY");

      // The old holder's token stops working for every call: it learns it lost the task.
      expect((await api.request(ReportProgressDocument, { taskId: held, leaseToken: oldToken, progress: 0.5 })).reportProgress).toMatchObject({ __typename: "LeaseLostError", reason: "RECLAIMED" });
      expect((await api.request(CompleteTaskDocument, { taskId: held, leaseToken: oldToken, result: { by: "a" } })).completeTask).toMatchObject({ __typename: "LeaseLostError", reason: "RECLAIMED" });

      // The new member proceeds with its lease.
      expectType((await api.request(StartTaskDocument, { taskId: held, leaseToken: movedHeld!.leaseToken })).startTask, "StartTaskPayload");
      expect(expectType((await api.request(CompleteTaskDocument, { taskId: held, leaseToken: movedHeld!.leaseToken, result: { by: "b" } })).completeTask, "CompleteTaskPayload").task).toMatchObject({ status: "COMPLETED", result: { by: "b" } });
      expectType((await api.request(CompleteTaskDocument, { taskId: pending, leaseToken: movedPending!.leaseToken })).completeTask, "CompleteTaskPayload");

      const after = (await api.request(TaskDocument, { id: held })).task!;
      expect(after.attempts.map((x) => [x.agent.id, x.fence, x.outcome])).toEqual([
        [a, 1, "RELEASED"],
        [b, 2, "COMPLETED"],
      ]);
      expect((await api.request(AgentDocument, { id: b })).agent?.status).toBe("IDLE");

      // From the log: the assignment to a, then the rebalance's events, written with it.
      await events.waitFor(5);
      expect(events.events.map((e) => e.swarmEvents.type)).toEqual(["task.claimed", "task.released", "task.claimed", "task.claimed", "swarm.rebalanced"]);
      expect(events.events[4]!.swarmEvents).toMatchObject({
        reason: "a is slow",
        moves: [
          { taskId: held, fromAgentId: a, toAgentId: b },
          { taskId: pending, fromAgentId: null, toAgentId: b },
        ],
      });
      events.stop();
    } finally {
      await socket.dispose();
    }
  });

  it("refuses bad moves with typed errors, all moves or none", async () => {
    const api = server.client({ workspace: WS });
    const swarmId = await newSwarm(api, "strict");
    const otherSwarm = await newSwarm(api, "elsewhere");
    const a = await member(api, swarmId, "a2");
    const b = await member(api, swarmId, "b2");
    const outsider = await member(api, null, "outsider");
    const held = await task(api, swarmId, "held");
    const token = await assign(api, held, a);
    const pending = await task(api, swarmId, "pending");
    const foreign = await task(api, otherSwarm, "in another swarm");
    const needsGpu = await task(api, swarmId, "needs a gpu", ["gpu"]);
    const done = await task(api, swarmId, "done");
    expectType((await api.request(CompleteTaskDocument, { taskId: done, leaseToken: await assign(api, done, a) })).completeTask, "CompleteTaskPayload");
    const rebalance = async (moves: { taskId: string; toAgentId: string }[], id = swarmId, client = api) => (await client.request(RebalanceSwarmDocument, { input: { swarmId: id, moves } })).rebalanceSwarm;

    // A valid move first, then a bad one: the valid one is not applied either.
    expect(await rebalance([{ taskId: pending, toAgentId: b }, { taskId: held, toAgentId: outsider }])).toMatchObject({ __typename: "NotMemberError", swarmId, agentId: outsider });
    expect(await rebalance([{ taskId: pending, toAgentId: b }, { taskId: foreign, toAgentId: b }])).toMatchObject({
      __typename: "InvalidInputError",
      issues: [{ path: "input.moves.1.taskId" }],
    });
    expect(await rebalance([{ taskId: pending, toAgentId: b }, { taskId: held, toAgentId: a }])).toMatchObject({ __typename: "InvalidInputError", issues: [{ path: "input.moves.1.toAgentId" }] });
    expect(await rebalance([{ taskId: pending, toAgentId: b }, { taskId: done, toAgentId: b }])).toMatchObject({ __typename: "IllegalTransitionError", entityId: done, fromStatus: "COMPLETED" });
    expect(await rebalance([{ taskId: pending, toAgentId: b }, { taskId: needsGpu, toAgentId: b }])).toMatchObject({ __typename: "CapabilityMismatchError", taskId: needsGpu, missing: ["gpu"] });
    expect(await rebalance([{ taskId: pending, toAgentId: b }, { taskId: pending, toAgentId: a }])).toMatchObject({ __typename: "InvalidInputError", issues: [{ path: "input.moves.1.taskId", message: "the task is moved twice" }] });
    expect(await rebalance([])).toMatchObject({ __typename: "InvalidInputError", issues: [{ path: "input.moves" }] });
    const unknownTask = Buffer.from("Task:0197aaaa-0000-7000-8000-000000000000").toString("base64");
    expect(await rebalance([{ taskId: unknownTask, toAgentId: b }])).toMatchObject({ __typename: "NotFoundError", entityType: "Task" });
    // Another workspace's swarm is unknown.
    expect(await rebalance([{ taskId: pending, toAgentId: b }], swarmId, server.client({ workspace: "rebalance-other-ws" }))).toMatchObject({ __typename: "NotFoundError", entityType: "Swarm" });

    // Nothing moved: the pending task is still pending, the held one still a's with its token.
    expect((await api.request(TaskDocument, { id: pending })).task).toMatchObject({ status: "PENDING", assignee: null, attemptCount: 0 });
    expect((await api.request(TaskDocument, { id: held })).task).toMatchObject({ status: "CLAIMED", assignee: { id: a } });
    expectType((await api.request(ReportProgressDocument, { taskId: held, leaseToken: token, progress: 0.1 })).reportProgress, "ReportProgressPayload");

    // Only an ACTIVE swarm is rebalanced.
    expectType((await api.request(PauseSwarmDocument, { id: swarmId })).pauseSwarm, "PauseSwarmPayload");
    expect(await rebalance([{ taskId: held, toAgentId: b }])).toMatchObject({ __typename: "IllegalTransitionError", entityId: swarmId, fromStatus: "PAUSED", action: "rebalance" });
    expectType((await api.request(ResumeSwarmDocument, { id: swarmId })).resumeSwarm, "ResumeSwarmPayload");
    expectType((await api.request(ArchiveSwarmDocument, { id: swarmId })).archiveSwarm, "ArchiveSwarmPayload");
    expect(await rebalance([{ taskId: held, toAgentId: b }])).toMatchObject({ __typename: "IllegalTransitionError", fromStatus: "ARCHIVED" });
  });

  it("a completion racing the move has exactly one winner, for each of 30 tasks", async () => {
    const api = server.client({ workspace: WS });
    const swarmId = await newSwarm(api, "racing");
    const a = await member(api, swarmId, "racer-a");
    const b = await member(api, swarmId, "racer-b");
    const created = expectType(
      (await api.request(CreateTasksDocument, { input: { tasks: Array.from({ length: 30 }, (_, i) => ({ description: `race ${i}`, type: "race", swarmId })) } })).createTasks,
      "CreateTasksPayload",
    ).tasks.map((t) => t.id);
    const tokens = await Promise.all(created.map((id) => assign(api, id, a)));
    await Promise.all(created.map((id, i) => api.request(StartTaskDocument, { taskId: id, leaseToken: tokens[i]! })));

    // For every task, the holder completes while an operator moves it. The completion (one
    // statement) is sent a few milliseconds after the move (several), staggered from task to
    // task, so that both orders happen; whichever wins, the assertions below must hold.
    const outcomes = await Promise.all(
      created.map(async (taskId, i) => {
        const move = api.request(RebalanceSwarmDocument, { input: { swarmId, moves: [{ taskId, toAgentId: b }] } });
        await new Promise((resolve) => setTimeout(resolve, i % 10));
        const completion = await api.request(CompleteTaskDocument, { taskId, leaseToken: tokens[i]!, result: { by: "a" } });
        return { taskId, completion: completion.completeTask, move: (await move).rebalanceSwarm };
      }),
    );
    for (const { taskId, completion, move } of outcomes) {
      const final = (await api.request(TaskDocument, { id: taskId })).task!;
      if (completion.__typename === "CompleteTaskPayload") {
        expect(move).toMatchObject({ __typename: "IllegalTransitionError", entityId: taskId, fromStatus: "COMPLETED" });
        expect(final).toMatchObject({ status: "COMPLETED", result: { by: "a" } });
        expect(final.attempts.map((x) => [x.agent.id, x.outcome])).toEqual([[a, "COMPLETED"]]);
      } else {
        expect(completion).toMatchObject({ __typename: "LeaseLostError", reason: "RECLAIMED" });
        const moved = expectType(move, "RebalanceSwarmPayload").moves[0]!;
        expect(final).toMatchObject({ status: "CLAIMED", assignee: { id: b }, result: null });
        expect(final.attempts.map((x) => [x.agent.id, x.outcome])).toEqual([
          [a, "RELEASED"],
          [b, null],
        ]);
        // The new holder finishes it.
        expectType((await api.request(CompleteTaskDocument, { taskId, leaseToken: moved.leaseToken, result: { by: "b" } })).completeTask, "CompleteTaskPayload");
      }
    }
    expect(outcomes).toHaveLength(30);
    // Every task ended exactly once, and both agents hold nothing.
    for (const agentId of [a, b]) expect((await api.request(AgentDocument, { id: agentId })).agent?.status).toBe("IDLE");
  });
});
