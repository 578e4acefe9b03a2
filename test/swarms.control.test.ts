/**
 * Swarm control reaches the work: a paused swarm's tasks are not claimable by any path (single,
 * batched, given, assigned) nor offered by tasksAvailable until it resumes, held work finishes,
 * and an archived swarm takes no new tasks.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ArchiveSwarmDocument,
  AssignTaskDocument,
  ClaimNextTaskDocument,
  ClaimNextTasksDocument,
  ClaimTaskDocument,
  CompleteTaskDocument,
  CreateSwarmDocument,
  CreateTaskDocument,
  PauseSwarmDocument,
  RegisterAgentDocument,
  ResumeSwarmDocument,
  TasksAvailableIdsDocument,
} from "./generated/graphql.ts";
import { collect, expectType, wsClient } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

describe("swarm control", () => {
  it("pausing a swarm stops claims of its tasks by every path until it resumes; held work finishes", async () => {
    const api = server.client({ workspace: "control-ws" });
    const swarm = expectType((await api.request(CreateSwarmDocument, { input: { name: "paused", objective: "o", topology: "MESH" } })).createSwarm, "CreateSwarmPayload").swarm;
    const task = async (description: string, swarmId: string | null) =>
      expectType((await api.request(CreateTaskDocument, { input: { description, type: "ctl", swarmId } })).createTask, "CreateTaskPayload").task;
    const held = await task("held before the pause", swarm.id);
    const agentId = expectType((await api.request(RegisterAgentDocument, { input: { name: "ctl", type: "w" } })).registerAgent, "RegisterAgentPayload").agent.id;
    const holding = expectType((await api.request(ClaimNextTaskDocument, { agentId, types: ["ctl"] })).claimNextTask, "ClaimNextTaskPayload");
    expect(holding.task?.id).toBe(held.id);

    expectType((await api.request(PauseSwarmDocument, { id: swarm.id })).pauseSwarm, "PauseSwarmPayload");
    const inPaused = await task("waits for the resume", swarm.id);
    const outside = await task("not in a swarm", null);

    const watcher = wsClient(server.wsUrl, server.token({ workspace: "control-ws", scopes: ["tasks:claim"] }));
    try {
      const offers = collect(watcher, TasksAvailableIdsDocument, { agentId, after: null });
      await offers.waitFor(1);
      expect(offers.events.map((e) => e.tasksAvailable.taskId)).toEqual([outside.id]);

      // Every claim path passes the paused swarm's task by.
      const batch = expectType((await api.request(ClaimNextTasksDocument, { agentId, max: 10, types: ["ctl"] })).claimNextTasks, "ClaimNextTasksPayload").claims;
      expect(batch.map((c) => c.task.id)).toEqual([outside.id]);
      expect(expectType((await api.request(ClaimNextTaskDocument, { agentId, types: ["ctl"] })).claimNextTask, "ClaimNextTaskPayload").task).toBeNull();
      for (const refused of [
        (await api.request(ClaimTaskDocument, { taskId: inPaused.id, agentId })).claimTask,
        (await api.request(AssignTaskDocument, { taskId: inPaused.id, agentId })).assignTask,
      ]) {
        expect(refused).toMatchObject({ __typename: "IllegalTransitionError", entityId: swarm.id, fromStatus: "PAUSED", action: "claim its tasks" });
      }
      // Held work finishes normally.
      expectType((await api.request(CompleteTaskDocument, { taskId: held.id, leaseToken: holding.leaseToken! })).completeTask, "CompleteTaskPayload");

      // Resuming offers the waiting task at once, and it is claimable again.
      expectType((await api.request(ResumeSwarmDocument, { id: swarm.id })).resumeSwarm, "ResumeSwarmPayload");
      await offers.waitFor(2);
      expect(offers.events.map((e) => e.tasksAvailable.taskId)).toEqual([outside.id, inPaused.id]);
      const claimed = expectType((await api.request(ClaimNextTaskDocument, { agentId, types: ["ctl"] })).claimNextTask, "ClaimNextTaskPayload");
      expect(claimed.task?.id).toBe(inPaused.id);
    } finally {
      await watcher.dispose();
    }
  });

  it("an archived swarm takes no new tasks", async () => {
    const api = server.client({ workspace: "control-ws" });
    const swarm = expectType((await api.request(CreateSwarmDocument, { input: { name: "archived", objective: "o", topology: "MESH" } })).createSwarm, "CreateSwarmPayload").swarm;
    expectType((await api.request(ArchiveSwarmDocument, { id: swarm.id })).archiveSwarm, "ArchiveSwarmPayload");
    const refused = (await api.request(CreateTaskDocument, { input: { description: "late", type: "ctl", swarmId: swarm.id } })).createTask;
    expect(refused).toMatchObject({ __typename: "IllegalTransitionError", entityId: swarm.id, fromStatus: "ARCHIVED", action: "add tasks" });
    expect(await server.db.prisma.task.count({ where: { workspaceId: "control-ws", description: "late" } })).toBe(0);
  });
});
