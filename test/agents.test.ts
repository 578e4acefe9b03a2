/** Agents: registration, the lifecycle state machine, heartbeats and health, listing. */
import { encodeGlobalID } from "@pothos/plugin-relay";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AgentDocument,
  AgentsDocument,
  AgentStatusCountsDocument,
  HeartbeatDocument,
  PauseAgentDocument,
  RegisterAgentDocument,
  ResumeAgentDocument,
  TerminateAgentDocument,
  UpdateAgentDocument,
} from "./generated/graphql.ts";
import { type GraphQLClient, expectType } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
let api: GraphQLClient;

beforeAll(async () => {
  // Small health thresholds so a short silence is enough to observe DEGRADED.
  server = await startTestServer({ config: { heartbeatDegradedAfter: 1, heartbeatUnresponsiveAfter: 600 } });
  api = server.client({ workspace: "agents-ws" });
});
afterAll(() => server?.stop());

async function register(name: string, extra: Partial<{ type: string; capabilities: string[] }> = {}) {
  const { registerAgent } = await api.request(RegisterAgentDocument, { input: { name, type: extra.type ?? "coder", capabilities: extra.capabilities ?? [] } });
  return expectType(registerAgent, "RegisterAgentPayload").agent;
}

describe("registration", () => {
  it("registers an agent IDLE and HEALTHY with normalized capabilities, config and metadata", async () => {
    const { registerAgent } = await api.request(RegisterAgentDocument, {
      input: { name: "Coder-Beta", type: "coder", capabilities: ["testing", " code_generation", "testing"], config: { model: "m", temperature: 0.7 }, metadata: { team: "backend" } },
    });
    const agent = expectType(registerAgent, "RegisterAgentPayload").agent;
    expect(agent).toMatchObject({ name: "Coder-Beta", type: "coder", status: "IDLE", capabilities: ["code_generation", "testing"], config: { model: "m", temperature: 0.7 }, metadata: { team: "backend" } });
    expect(agent.health.status).toBe("HEALTHY");
    expect(agent.lastHeartbeatAt).toBeNull();
    const fetched = await api.request(AgentDocument, { id: agent.id });
    expect(fetched.agent?.name).toBe("Coder-Beta");
  });

  it("answers InvalidInputError naming every bad field, and stores nothing", async () => {
    const before = (await api.request(AgentsDocument, { first: 1 })).agents.totalCount;
    const { registerAgent } = await api.request(RegisterAgentDocument, { input: { name: "  ", type: "has space", capabilities: ["ok", ""], config: { big: "x".repeat(70_000) } } });
    const error = expectType(registerAgent, "InvalidInputError");
    expect(error.code).toBe("INVALID_INPUT");
    expect(error.issues.map((i) => i.path).sort()).toEqual(["input.capabilities.1", "input.config", "input.name", "input.type"]);
    expect((await api.request(AgentsDocument, { first: 1 })).agents.totalCount).toBe(before);
  });
});

describe("lifecycle", () => {
  it("pauses and resumes, refusing illegal transitions with a typed error that changes nothing", async () => {
    const agent = await register("Pauser");
    const paused = expectType((await api.request(PauseAgentDocument, { id: agent.id })).pauseAgent, "PauseAgentPayload");
    expect(paused.agent.status).toBe("PAUSED");

    const again = expectType((await api.request(PauseAgentDocument, { id: agent.id })).pauseAgent, "IllegalTransitionError");
    expect(again).toMatchObject({ code: "ILLEGAL_TRANSITION", entityId: agent.id, entityType: "Agent", fromStatus: "PAUSED", action: "pause", allowedFrom: ["IDLE", "BUSY"] });

    const resumed = expectType((await api.request(ResumeAgentDocument, { id: agent.id })).resumeAgent, "ResumeAgentPayload");
    expect(resumed.agent.status).toBe("IDLE");
    const resumeIdle = expectType((await api.request(ResumeAgentDocument, { id: agent.id })).resumeAgent, "IllegalTransitionError");
    expect(resumeIdle.fromStatus).toBe("IDLE");
  });

  it("terminates for good, keeping the final status, time and reason", async () => {
    const agent = await register("Doomed");
    const { terminateAgent } = await api.request(TerminateAgentDocument, { id: agent.id, reason: "replaced by v2" });
    const terminated = expectType(terminateAgent, "TerminateAgentPayload").agent;
    expect(terminated).toMatchObject({ status: "TERMINATED", terminationReason: "replaced by v2" });
    expect(terminated.health.status).toBe("OFFLINE");
    expect(Date.parse(terminated.terminatedAt!)).toBeGreaterThan(Date.parse(agent.createdAt) - 1);

    for (const attempt of [
      (await api.request(TerminateAgentDocument, { id: agent.id })).terminateAgent,
      (await api.request(PauseAgentDocument, { id: agent.id })).pauseAgent,
      (await api.request(HeartbeatDocument, { input: { id: agent.id } })).heartbeat,
      (await api.request(UpdateAgentDocument, { input: { id: agent.id, name: "zombie" } })).updateAgent,
    ]) {
      expect(expectType(attempt, "IllegalTransitionError").fromStatus).toBe("TERMINATED");
    }
    expect((await api.request(AgentDocument, { id: agent.id })).agent).toMatchObject({ name: "Doomed", status: "TERMINATED" });
  });

  it("updates fields, replacing config whole", async () => {
    const agent = await register("Updater", { capabilities: ["a"] });
    const { updateAgent } = await api.request(UpdateAgentDocument, { input: { id: agent.id, name: "Updated", capabilities: ["b", "c"], config: { only: true } } });
    expect(expectType(updateAgent, "UpdateAgentPayload").agent).toMatchObject({ name: "Updated", type: "coder", capabilities: ["b", "c"], config: { only: true } });
    const bad = expectType((await api.request(UpdateAgentDocument, { input: { id: agent.id, name: "" } })).updateAgent, "InvalidInputError");
    expect(bad.issues[0]?.path).toBe("input.name");
    expect((await api.request(AgentDocument, { id: agent.id })).agent?.name).toBe("Updated");
  });

  it("answers NotFoundError for unknown ids and for ids of another type", async () => {
    const unknown = encodeGlobalID("Agent", randomUUID());
    const missing = expectType((await api.request(PauseAgentDocument, { id: unknown })).pauseAgent, "NotFoundError");
    expect(missing).toMatchObject({ code: "NOT_FOUND", entityId: unknown, entityType: "Agent" });
    expect((await api.request(AgentDocument, { id: unknown })).agent).toBeNull();
    const swarmId = encodeGlobalID("Swarm", randomUUID());
    expect(expectType((await api.request(PauseAgentDocument, { id: swarmId })).pauseAgent, "NotFoundError").entityType).toBe("Agent");
  });
});

describe("heartbeats and health", () => {
  it("records heartbeats with metrics and derives health from their age", async () => {
    const agent = await register("Beater");
    const { heartbeat } = await api.request(HeartbeatDocument, { input: { id: agent.id, metrics: { cpu: 0.25, memory: 512 } } });
    const beat = expectType(heartbeat, "HeartbeatPayload").agent;
    expect(beat.lastHeartbeatAt).not.toBeNull();
    expect(beat.health).toMatchObject({ status: "HEALTHY", metrics: { cpu: 0.25, memory: 512 } });

    // Silence longer than HEARTBEAT_DEGRADED_AFTER_SECONDS (1 s in this suite).
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const silent = (await api.request(AgentDocument, { id: agent.id })).agent!;
    expect(silent.health.status).toBe("DEGRADED");
    expect(silent.health.secondsSinceLastSeen).toBeGreaterThanOrEqual(1);

    const { heartbeat: again } = await api.request(HeartbeatDocument, { input: { id: agent.id } });
    const fresh = expectType(again, "HeartbeatPayload").agent;
    expect(fresh.health.status).toBe("HEALTHY");
    expect(fresh.health.metrics).toEqual({ cpu: 0.25, memory: 512 }); // kept until new metrics arrive
  });

  it("keeps the paused status across heartbeats", async () => {
    const agent = await register("PausedBeater");
    await api.request(PauseAgentDocument, { id: agent.id });
    const { heartbeat } = await api.request(HeartbeatDocument, { input: { id: agent.id } });
    expect(expectType(heartbeat, "HeartbeatPayload").agent.status).toBe("PAUSED");
  });
});

describe("listing", () => {
  it("filters by status, type and capabilities, sorts, pages and counts", async () => {
    const lister = server.client({ workspace: "listing-ws" });
    const names = ["delta", "alpha", "charlie", "bravo", "echo"];
    const ids: Record<string, string> = {};
    for (const [i, name] of names.entries()) {
      const { registerAgent } = await lister.request(RegisterAgentDocument, { input: { name, type: i % 2 ? "tester" : "coder", capabilities: i < 3 ? ["ts", "go"] : ["ts"] } });
      ids[name] = expectType(registerAgent, "RegisterAgentPayload").agent.id;
    }
    await lister.request(PauseAgentDocument, { id: ids.alpha! });

    const byName = await lister.request(AgentsDocument, { first: 10, orderBy: { field: "NAME", direction: "ASC" } });
    expect(byName.agents.edges.map((e) => e.node.name)).toEqual(["alpha", "bravo", "charlie", "delta", "echo"]);
    expect(byName.agents.totalCount).toBe(5);

    const newest = await lister.request(AgentsDocument, { first: 10 });
    expect(newest.agents.edges.map((e) => e.node.name)).toEqual([...names].reverse());

    const coders = await lister.request(AgentsDocument, { first: 10, filter: { type: ["coder"] } });
    expect(coders.agents.totalCount).toBe(3);
    const goers = await lister.request(AgentsDocument, { first: 10, filter: { capabilities: ["go", "ts"] } });
    expect(goers.agents.edges.map((e) => e.node.name).sort()).toEqual(["alpha", "charlie", "delta"]);
    const paused = await lister.request(AgentsDocument, { first: 10, filter: { status: ["PAUSED"] } });
    expect(paused.agents.edges.map((e) => e.node.name)).toEqual(["alpha"]);

    const page1 = await lister.request(AgentsDocument, { first: 2, orderBy: { field: "NAME", direction: "ASC" } });
    expect(page1.agents.pageInfo.hasNextPage).toBe(true);
    const page2 = await lister.request(AgentsDocument, { first: 2, after: page1.agents.pageInfo.endCursor, orderBy: { field: "NAME", direction: "ASC" } });
    const page3 = await lister.request(AgentsDocument, { first: 2, after: page2.agents.pageInfo.endCursor, orderBy: { field: "NAME", direction: "ASC" } });
    expect([...page1.agents.edges, ...page2.agents.edges, ...page3.agents.edges].map((e) => e.node.name)).toEqual(["alpha", "bravo", "charlie", "delta", "echo"]);
    expect(page3.agents.pageInfo.hasNextPage).toBe(false);

    const counts = await lister.request(AgentStatusCountsDocument);
    expect(counts.agentStatusCounts).toEqual([
      { status: "IDLE", count: 4 },
      { status: "BUSY", count: 0 },
      { status: "PAUSED", count: 1 },
      { status: "TERMINATED", count: 0 },
    ]);
  });

  it("refuses page sizes above MAX_PAGE_SIZE instead of truncating", async () => {
    const result = await api.raw(AgentsDocument, { first: 101 });
    expect(result.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(result.errors?.[0]?.message).toMatch(/between 0 and 100/);
  });
});
