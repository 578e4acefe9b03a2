/**
 * `agent.status`: every IDLE ⇄ BUSY change caused by work is pushed with the previous status, from
 * the hot path (claimNextTask(s), completeTask(s)) and the general path (claimTask, failTask,
 * releaseTask) alike; and under many concurrent agents each agent's events alternate strictly and
 * match both the audit trail and the agent's status.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AgentStatusDocument,
  AgentStatusEventsDocument,
  type AgentStatusEventsSubscription,
  AuditTrailDocument,
  type AuditTrailQuery,
  ClaimNextTaskDocument,
  ClaimNextTasksDocument,
  ClaimTaskDocument,
  CompleteTaskDocument,
  CompleteTasksDocument,
  CreateTaskDocument,
  EventLogHeadDocument,
  FailTaskDocument,
  RegisterAgentDocument,
  ReleaseTaskDocument,
} from "./generated/graphql.ts";
import { collect, expectType, wsClient } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

type StatusEvent = AgentStatusEventsSubscription["agentEvents"];
const transitions = (events: StatusEvent[]) => events.map((e) => `${e.fromStatus}>${e.toStatus}`);

describe("agent.status", () => {
  it("is pushed on each IDLE ⇄ BUSY change by every claim and completion path, with the previous status", async () => {
    const workspace = "status-paths";
    const api = server.client({ workspace });
    const createTask = async () => expectType((await api.request(CreateTaskDocument, { input: { description: "d", type: "st" } })).createTask, "CreateTaskPayload").task;
    const agentId = expectType((await api.request(RegisterAgentDocument, { input: { name: "a", type: "w" } })).registerAgent, "RegisterAgentPayload").agent.id;
    const ws = wsClient(server.wsUrl, server.token({ workspace, scopes: ["agents:read"] }));
    try {
      // From the log's head read now: the subscription misses nothing that happens after this line.
      const { eventLogHead } = await api.request(EventLogHeadDocument, {});
      const events = collect(ws, AgentStatusEventsDocument, { filter: { agentIds: [agentId], types: ["agent.status"] }, after: eventLogHead });
      const expectTransitions = async (expected: string[]) => {
        await events.waitFor(expected.length, 20_000);
        expect(transitions(events.events.map((e) => e.agentEvents))).toEqual(expected);
      };

      // Hot path, single: the first claim makes it BUSY, the second changes nothing; the last completion makes it IDLE.
      for (let i = 0; i < 2; i++) await createTask();
      const first = expectType((await api.request(ClaimNextTaskDocument, { agentId, types: ["st"] })).claimNextTask, "ClaimNextTaskPayload");
      const second = expectType((await api.request(ClaimNextTaskDocument, { agentId, types: ["st"] })).claimNextTask, "ClaimNextTaskPayload");
      expectType((await api.request(CompleteTaskDocument, { taskId: first.task!.id, leaseToken: first.leaseToken! })).completeTask, "CompleteTaskPayload");
      expect((await api.request(AgentStatusDocument, { id: agentId })).node).toMatchObject({ status: "BUSY" });
      expectType((await api.request(CompleteTaskDocument, { taskId: second.task!.id, leaseToken: second.leaseToken! })).completeTask, "CompleteTaskPayload");
      await expectTransitions(["IDLE>BUSY", "BUSY>IDLE"]);

      // Hot path, batched.
      for (let i = 0; i < 3; i++) await createTask();
      const claims = expectType((await api.request(ClaimNextTasksDocument, { agentId, max: 3, types: ["st"] })).claimNextTasks, "ClaimNextTasksPayload").claims;
      expect(claims).toHaveLength(3);
      expectType((await api.request(CompleteTasksDocument, { completions: claims.map((c) => ({ taskId: c.task.id, leaseToken: c.leaseToken })) })).completeTasks, "CompleteTasksPayload");
      await expectTransitions(["IDLE>BUSY", "BUSY>IDLE", "IDLE>BUSY", "BUSY>IDLE"]);

      // General path: claimTask, then failTask (for good) and releaseTask each end the agent's only task.
      const failing = await createTask();
      const held = expectType((await api.request(ClaimTaskDocument, { taskId: failing.id, agentId })).claimTask, "ClaimTaskPayload");
      expectType((await api.request(FailTaskDocument, { taskId: failing.id, leaseToken: held.leaseToken, error: { message: "no" }, retryable: false })).failTask, "FailTaskPayload");
      const released = await createTask();
      const again = expectType((await api.request(ClaimTaskDocument, { taskId: released.id, agentId })).claimTask, "ClaimTaskPayload");
      expectType((await api.request(ReleaseTaskDocument, { taskId: released.id, leaseToken: again.leaseToken })).releaseTask, "ReleaseTaskPayload");
      await expectTransitions(["IDLE>BUSY", "BUSY>IDLE", "IDLE>BUSY", "BUSY>IDLE", "IDLE>BUSY", "BUSY>IDLE", "IDLE>BUSY", "BUSY>IDLE"]);
      expect(events.events.every((e) => e.agentEvents.agentId === agentId && e.agentEvents.type === "agent.status")).toBe(true);

      // The audit trail holds the same changes, in the same order.
      const audit = await api.request(AuditTrailDocument, { first: 50, filter: { entity: agentId, domain: ["agent"] } });
      const recorded = audit.auditTrail.edges.map((e) => e.node).filter((n) => n.action === "agent.status");
      expect(recorded.map((n) => `${(n.details as { from: string }).from}>${(n.details as { to: string }).to}`)).toEqual(transitions(events.events.map((e) => e.agentEvents)));
    } finally {
      await ws.dispose();
    }
  });

  it("alternates strictly per agent under many concurrent claiming agents, ending as the agent is", async () => {
    const workspace = "status-soak";
    const api = server.client({ workspace });
    const AGENTS = 8;
    const TASKS = 48;
    await Promise.all(Array.from({ length: TASKS }, (_, i) => api.request(CreateTaskDocument, { input: { description: `t${i}`, type: "soak" } })));
    const agentIds = await Promise.all(
      Array.from({ length: AGENTS }, async (_, i) => expectType((await api.request(RegisterAgentDocument, { input: { name: `s${i}`, type: "w" } })).registerAgent, "RegisterAgentPayload").agent.id),
    );
    const ws = wsClient(server.wsUrl, server.token({ workspace, scopes: ["agents:read"] }));
    try {
      const { eventLogHead } = await api.request(EventLogHeadDocument, {});
      const events = collect(ws, AgentStatusEventsDocument, { filter: { types: ["agent.status"] }, after: eventLogHead });
      // Each agent loops: claim one or a few (single and batched paths mixed), complete them; until nothing is left.
      await Promise.all(
        agentIds.map(async (agentId, n) => {
          for (;;) {
            if (n % 2 === 0) {
              const claim = expectType((await api.request(ClaimNextTaskDocument, { agentId, types: ["soak"] })).claimNextTask, "ClaimNextTaskPayload");
              if (!claim.task) return;
              expectType((await api.request(CompleteTaskDocument, { taskId: claim.task.id, leaseToken: claim.leaseToken! })).completeTask, "CompleteTaskPayload");
            } else {
              const claims = expectType((await api.request(ClaimNextTasksDocument, { agentId, max: 3, types: ["soak"] })).claimNextTasks, "ClaimNextTasksPayload").claims;
              if (claims.length === 0) return;
              expectType((await api.request(CompleteTasksDocument, { completions: claims.map((c) => ({ taskId: c.task.id, leaseToken: c.leaseToken })) })).completeTasks, "CompleteTasksPayload");
            }
          }
        }),
      );
      // The database's truth: every agent.status change recorded in the audit trail.
      const recorded: { action: string }[] = [];
      for (let after: string | null | undefined = null; ; ) {
        const page: AuditTrailQuery["auditTrail"] = (await api.request(AuditTrailDocument, { first: 100, after, filter: { domain: ["agent"] } })).auditTrail;
        recorded.push(...page.edges.map((e) => e.node).filter((n) => n.action === "agent.status"));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      await events.waitFor(recorded.length);
      expect(events.events).toHaveLength(recorded.length);
      for (const agentId of agentIds) {
        const mine = transitions(events.events.map((e) => e.agentEvents).filter((e) => e.agentId === agentId));
        expect(mine.length, agentId).toBeGreaterThanOrEqual(2);
        expect(mine, agentId).toEqual(mine.map((_, i) => (i % 2 === 0 ? "IDLE>BUSY" : "BUSY>IDLE")));
        expect((await api.request(AgentStatusDocument, { id: agentId })).node).toMatchObject({ status: "IDLE" });
      }
    } finally {
      await ws.dispose();
    }
  });
});
