/** Swarms over HTTP: lifecycle, membership rules, workspace isolation, lists, and batching. */
import { randomUUID } from "node:crypto";
import { encodeGlobalID } from "@pothos/plugin-relay";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AgentDocument,
  ArchiveSwarmDocument,
  type CreateSwarmInput,
  CreateSwarmDocument,
  JoinSwarmDocument,
  LeaveSwarmDocument,
  NodeDocument,
  PauseAgentDocument,
  PauseSwarmDocument,
  RegisterAgentDocument,
  ResumeSwarmDocument,
  SwarmDocument,
  SwarmsDocument,
  SwarmsWithMembersDocument,
  type SwarmRole,
  TerminateAgentDocument,
  UpdateSwarmDocument,
} from "./generated/graphql.ts";
import { expectType, type GraphQLClient } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
let admin: GraphQLClient;
beforeAll(async () => {
  server = await startTestServer();
  admin = server.client();
});
afterAll(() => server?.stop());

async function createSwarm(input: Partial<CreateSwarmInput> = {}, client = admin) {
  const result = await client.request(CreateSwarmDocument, { input: { name: `swarm-${randomUUID().slice(0, 8)}`, objective: "find bugs", topology: "MESH", ...input } });
  return expectType(result.createSwarm, "CreateSwarmPayload").swarm;
}

async function registerAgent(name = `agent-${randomUUID().slice(0, 8)}`, client = admin) {
  const result = await client.request(RegisterAgentDocument, { input: { name, type: "coder" } });
  return expectType(result.registerAgent, "RegisterAgentPayload").agent;
}

async function join(swarmId: string, agentId: string, role?: SwarmRole, client = admin) {
  return (await client.request(JoinSwarmDocument, { swarmId, agentId, role })).joinSwarm;
}

async function swarmById(id: string, client = admin) {
  const swarm = (await client.request(SwarmDocument, { id })).swarm;
  if (!swarm) throw new Error(`swarm ${id} not found`);
  return swarm;
}

async function swarmCount(client = admin) {
  return (await client.request(SwarmsDocument, { first: 1 })).swarms.totalCount;
}

const missingId = (type: "Swarm" | "Agent") => encodeGlobalID(type, randomUUID());

describe("createSwarm", () => {
  it("creates the swarm ACTIVE with no members, as given", async () => {
    const swarm = await createSwarm({ name: "alpha", objective: "map the codebase", topology: "HIERARCHICAL", maxAgents: 4, config: { auto_scale: true } });
    expect(swarm).toMatchObject({ name: "alpha", objective: "map the codebase", topology: "HIERARCHICAL", status: "ACTIVE", maxAgents: 4, config: { auto_scale: true }, archivedAt: null, members: [] });
    expect(swarm.agentSummary.total).toBe(0);
    expect(swarm.agentSummary.byStatus).toEqual([
      { status: "IDLE", count: 0 },
      { status: "BUSY", count: 0 },
      { status: "PAUSED", count: 0 },
      { status: "TERMINATED", count: 0 },
    ]);
    expect(await swarmById(swarm.id)).toEqual(swarm);
    const defaults = await createSwarm({ topology: "STAR" });
    expect(defaults).toMatchObject({ maxAgents: null, config: {}, status: "ACTIVE" });
  });

  it.each([
    ["an empty name", { name: "   " }, ["input.name"]],
    ["maxAgents 0", { maxAgents: 0 }, ["input.maxAgents"]],
    ["an objective over 10000 characters", { objective: "x".repeat(10_001) }, ["input.objective"]],
    ["all three at once", { name: "", maxAgents: 0, objective: "y".repeat(10_001) }, ["input.maxAgents", "input.name", "input.objective"]],
  ] as const)("refuses %s with InvalidInputError naming the field, creating nothing", async (_label, bad, paths) => {
    const before = await swarmCount();
    const result = await admin.request(CreateSwarmDocument, { input: { name: "ok", objective: "ok", topology: "RING", ...bad } });
    const error = expectType(result.createSwarm, "InvalidInputError");
    expect(error.code).toBe("INVALID_INPUT");
    expect(error.issues.map((i) => i.path).sort()).toEqual([...paths]);
    for (const issue of error.issues) expect(issue.message).not.toBe("");
    expect(await swarmCount()).toBe(before);
  });
});

describe("updateSwarm", () => {
  it("changes the given fields and keeps the others", async () => {
    const swarm = await createSwarm({ name: "before", objective: "old", topology: "MESH", maxAgents: 3, config: { a: 1 } });
    const updated = expectType((await admin.request(UpdateSwarmDocument, { input: { id: swarm.id, name: "after", topology: "STAR", config: { b: 2 } } })).updateSwarm, "UpdateSwarmPayload").swarm;
    expect(updated).toMatchObject({ id: swarm.id, name: "after", objective: "old", topology: "STAR", maxAgents: 3, config: { b: 2 } });
    const again = expectType((await admin.request(UpdateSwarmDocument, { input: { id: swarm.id, objective: "new", maxAgents: 7 } })).updateSwarm, "UpdateSwarmPayload").swarm;
    expect(again).toMatchObject({ name: "after", objective: "new", topology: "STAR", maxAgents: 7, config: { b: 2 } });
    expect(await swarmById(swarm.id)).toMatchObject({ name: "after", objective: "new", maxAgents: 7 });
  });

  it("removes the limit with maxAgents: null, so more agents can join than before", async () => {
    const swarm = await createSwarm({ maxAgents: 1 });
    const [a, b] = [await registerAgent(), await registerAgent()];
    expectType(await join(swarm.id, a.id), "JoinSwarmPayload");
    expectType(await join(swarm.id, b.id), "SwarmFullError");
    const updated = expectType((await admin.request(UpdateSwarmDocument, { input: { id: swarm.id, maxAgents: null } })).updateSwarm, "UpdateSwarmPayload").swarm;
    expect(updated.maxAgents).toBeNull();
    expect((await swarmById(swarm.id)).maxAgents).toBeNull();
    expectType(await join(swarm.id, b.id), "JoinSwarmPayload");
    expect((await swarmById(swarm.id)).agentSummary.total).toBe(2);
  });

  it("refuses to lower maxAgents below the member count, changing nothing", async () => {
    const swarm = await createSwarm({ name: "three", maxAgents: 5 });
    for (let i = 0; i < 3; i++) expectType(await join(swarm.id, (await registerAgent()).id), "JoinSwarmPayload");
    const result = await admin.request(UpdateSwarmDocument, { input: { id: swarm.id, name: "renamed", maxAgents: 2 } });
    const error = expectType(result.updateSwarm, "InvalidInputError");
    expect(error.issues).toEqual([{ path: "input.maxAgents", message: expect.stringContaining("3 members") }]);
    expect(await swarmById(swarm.id)).toMatchObject({ name: "three", maxAgents: 5 });
    // Exactly the member count is fine.
    expect(expectType((await admin.request(UpdateSwarmDocument, { input: { id: swarm.id, maxAgents: 3 } })).updateSwarm, "UpdateSwarmPayload").swarm.maxAgents).toBe(3);
  });

  it("validates the new values", async () => {
    const swarm = await createSwarm({ name: "valid" });
    const error = expectType((await admin.request(UpdateSwarmDocument, { input: { id: swarm.id, name: "", maxAgents: 0 } })).updateSwarm, "InvalidInputError");
    expect(error.issues.map((i) => i.path).sort()).toEqual(["input.maxAgents", "input.name"]);
    expect((await swarmById(swarm.id)).name).toBe("valid");
  });
});

describe("swarm lifecycle", () => {
  it("pauses, refuses a second pause, resumes, archives, and is read-only afterwards", async () => {
    const swarm = await createSwarm({ name: "life" });
    const agent = await registerAgent();
    expectType(await join(swarm.id, agent.id), "JoinSwarmPayload");

    const paused = expectType((await admin.request(PauseSwarmDocument, { id: swarm.id })).pauseSwarm, "PauseSwarmPayload");
    expect(paused.swarm).toEqual({ id: swarm.id, status: "PAUSED" });
    expect((await swarmById(swarm.id)).status).toBe("PAUSED");

    const twice = expectType((await admin.request(PauseSwarmDocument, { id: swarm.id })).pauseSwarm, "IllegalTransitionError");
    expect(twice).toMatchObject({ code: "ILLEGAL_TRANSITION", entityId: swarm.id, entityType: "Swarm", fromStatus: "PAUSED", action: "pause", allowedFrom: ["ACTIVE"] });

    // Members may still join and leave while paused.
    const second = await registerAgent();
    expectType(await join(swarm.id, second.id), "JoinSwarmPayload");

    const resumed = expectType((await admin.request(ResumeSwarmDocument, { id: swarm.id })).resumeSwarm, "ResumeSwarmPayload");
    expect(resumed.swarm).toEqual({ id: swarm.id, status: "ACTIVE" });
    const resumeActive = expectType((await admin.request(ResumeSwarmDocument, { id: swarm.id })).resumeSwarm, "IllegalTransitionError");
    expect(resumeActive).toMatchObject({ fromStatus: "ACTIVE", action: "resume", allowedFrom: ["PAUSED"] });

    const archived = expectType((await admin.request(ArchiveSwarmDocument, { id: swarm.id })).archiveSwarm, "ArchiveSwarmPayload").swarm;
    expect(archived.status).toBe("ARCHIVED");
    expect(archived.archivedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    const stored = await swarmById(swarm.id);
    expect(stored).toMatchObject({ status: "ARCHIVED", archivedAt: archived.archivedAt, name: "life" });
    expect(stored.members.map((m) => m.agent.id)).toEqual([agent.id, second.id]);

    const update = expectType((await admin.request(UpdateSwarmDocument, { input: { id: swarm.id, name: "changed" } })).updateSwarm, "IllegalTransitionError");
    expect(update).toMatchObject({ entityId: swarm.id, entityType: "Swarm", fromStatus: "ARCHIVED", action: "update", allowedFrom: ["ACTIVE", "PAUSED"] });
    const third = await registerAgent();
    const joinArchived = expectType(await join(swarm.id, third.id), "IllegalTransitionError");
    expect(joinArchived).toMatchObject({ entityType: "Swarm", fromStatus: "ARCHIVED", action: "add a member", allowedFrom: ["ACTIVE", "PAUSED"] });
    const leaveArchived = expectType((await admin.request(LeaveSwarmDocument, { swarmId: swarm.id, agentId: agent.id })).leaveSwarm, "IllegalTransitionError");
    expect(leaveArchived).toMatchObject({ fromStatus: "ARCHIVED", action: "remove a member" });
    const resume = expectType((await admin.request(ResumeSwarmDocument, { id: swarm.id })).resumeSwarm, "IllegalTransitionError");
    expect(resume).toMatchObject({ fromStatus: "ARCHIVED", action: "resume", allowedFrom: ["PAUSED"] });
    const pause = expectType((await admin.request(PauseSwarmDocument, { id: swarm.id })).pauseSwarm, "IllegalTransitionError");
    expect(pause).toMatchObject({ fromStatus: "ARCHIVED", action: "pause" });
    const archiveAgain = expectType((await admin.request(ArchiveSwarmDocument, { id: swarm.id })).archiveSwarm, "IllegalTransitionError");
    expect(archiveAgain).toMatchObject({ fromStatus: "ARCHIVED", action: "archive", allowedFrom: ["ACTIVE", "PAUSED"] });

    const after = await swarmById(swarm.id);
    expect(after).toEqual(stored);
  });
});

describe("membership", () => {
  it("joins with a role, refuses a second join, and shows up on the swarm and the agent", async () => {
    const swarm = await createSwarm({ name: "members" });
    const lead = await registerAgent("lead");
    const worker = await registerAgent("worker");

    const joined = expectType(await join(swarm.id, lead.id, "COORDINATOR"), "JoinSwarmPayload");
    expect(joined.member).toMatchObject({ role: "COORDINATOR", agent: { id: lead.id }, swarm: { id: swarm.id, agentSummary: { total: 1 } } });
    const defaulted = expectType(await join(swarm.id, worker.id), "JoinSwarmPayload");
    expect(defaulted.member.role).toBe("WORKER");

    const again = expectType(await join(swarm.id, lead.id, "REVIEWER"), "AlreadyMemberError");
    expect(again).toMatchObject({ code: "ALREADY_MEMBER", swarmId: swarm.id, agentId: lead.id });

    expectType((await admin.request(PauseAgentDocument, { id: worker.id })).pauseAgent, "PauseAgentPayload");
    const stored = await swarmById(swarm.id);
    expect(stored.members.map((m) => ({ role: m.role, agent: m.agent }))).toEqual([
      { role: "COORDINATOR", agent: { id: lead.id, name: "lead" } },
      { role: "WORKER", agent: { id: worker.id, name: "worker" } },
    ]);
    expect(stored.agentSummary).toEqual({
      total: 2,
      byStatus: [
        { status: "IDLE", count: 1 },
        { status: "BUSY", count: 0 },
        { status: "PAUSED", count: 1 },
        { status: "TERMINATED", count: 0 },
      ],
    });

    const agent = (await admin.request(AgentDocument, { id: lead.id })).agent;
    expect(agent?.swarms).toEqual([{ role: "COORDINATOR", swarm: { id: swarm.id, name: "members" } }]);
  });

  it("leaves, and refuses to leave twice", async () => {
    const swarm = await createSwarm();
    const a = await registerAgent();
    const b = await registerAgent();
    expectType(await join(swarm.id, a.id), "JoinSwarmPayload");
    expectType(await join(swarm.id, b.id), "JoinSwarmPayload");

    const left = expectType((await admin.request(LeaveSwarmDocument, { swarmId: swarm.id, agentId: a.id })).leaveSwarm, "LeaveSwarmPayload");
    expect(left.swarm.members).toHaveLength(1);
    const stored = await swarmById(swarm.id);
    expect(stored.members.map((m) => m.agent.id)).toEqual([b.id]);
    expect(stored.agentSummary.total).toBe(1);
    expect((await admin.request(AgentDocument, { id: a.id })).agent?.swarms).toEqual([]);

    const twice = expectType((await admin.request(LeaveSwarmDocument, { swarmId: swarm.id, agentId: a.id })).leaveSwarm, "NotMemberError");
    expect(twice).toMatchObject({ code: "NOT_MEMBER", swarmId: swarm.id, agentId: a.id });
    // A rejoin after leaving is allowed.
    expectType(await join(swarm.id, a.id), "JoinSwarmPayload");
  });

  it("refuses a join beyond maxAgents with SwarmFullError", async () => {
    const swarm = await createSwarm({ maxAgents: 2 });
    const agents = [await registerAgent(), await registerAgent(), await registerAgent()];
    expectType(await join(swarm.id, agents[0]!.id), "JoinSwarmPayload");
    expectType(await join(swarm.id, agents[1]!.id), "JoinSwarmPayload");
    const full = expectType(await join(swarm.id, agents[2]!.id), "SwarmFullError");
    expect(full).toMatchObject({ code: "SWARM_FULL", swarmId: swarm.id, maxAgents: 2 });
    const stored = await swarmById(swarm.id);
    expect(stored.members.map((m) => m.agent.id)).toEqual([agents[0]!.id, agents[1]!.id]);
    expect((await admin.request(AgentDocument, { id: agents[2]!.id })).agent?.swarms).toEqual([]);

    // A freed seat can be taken again.
    expectType((await admin.request(LeaveSwarmDocument, { swarmId: swarm.id, agentId: agents[0]!.id })).leaveSwarm, "LeaveSwarmPayload");
    expectType(await join(swarm.id, agents[2]!.id), "JoinSwarmPayload");
  });

  it("refuses a terminated agent, and terminating a member removes it from its swarms", async () => {
    const swarm = await createSwarm();
    const other = await createSwarm();
    const stays = await registerAgent();
    const goes = await registerAgent();
    for (const s of [swarm, other]) expectType(await join(s.id, goes.id), "JoinSwarmPayload");
    expectType(await join(swarm.id, stays.id), "JoinSwarmPayload");
    expect((await swarmById(swarm.id)).members).toHaveLength(2);

    const terminated = expectType((await admin.request(TerminateAgentDocument, { id: goes.id, reason: "done" })).terminateAgent, "TerminateAgentPayload");
    expect(terminated.agent).toMatchObject({ status: "TERMINATED", swarms: [] });
    const stored = await swarmById(swarm.id);
    expect(stored.members.map((m) => m.agent.id)).toEqual([stays.id]);
    expect(stored.agentSummary.total).toBe(1);
    expect(stored.agentSummary.byStatus.find((s) => s.status === "TERMINATED")?.count).toBe(0);
    expect((await swarmById(other.id)).members).toEqual([]);

    const refused = expectType(await join(swarm.id, goes.id), "IllegalTransitionError");
    expect(refused).toMatchObject({ entityId: goes.id, entityType: "Agent", fromStatus: "TERMINATED", action: "join a swarm" });
    expect(refused.allowedFrom).not.toContain("TERMINATED");
    expect((await swarmById(swarm.id)).members).toHaveLength(1);
  });
});

describe("unknown ids and other workspaces", () => {
  it("answers NotFoundError naming the entity type for ids that do not exist", async () => {
    const swarm = await createSwarm();
    const agent = await registerAgent();
    const ghostSwarm = missingId("Swarm");
    const ghostAgent = missingId("Agent");

    expect((await admin.request(SwarmDocument, { id: ghostSwarm })).swarm).toBeNull();
    expect((await admin.request(NodeDocument, { id: ghostSwarm })).node).toBeNull();

    const results = [
      (await admin.request(UpdateSwarmDocument, { input: { id: ghostSwarm, name: "x" } })).updateSwarm,
      (await admin.request(PauseSwarmDocument, { id: ghostSwarm })).pauseSwarm,
      (await admin.request(ResumeSwarmDocument, { id: ghostSwarm })).resumeSwarm,
      (await admin.request(ArchiveSwarmDocument, { id: ghostSwarm })).archiveSwarm,
      await join(ghostSwarm, agent.id),
      (await admin.request(LeaveSwarmDocument, { swarmId: ghostSwarm, agentId: agent.id })).leaveSwarm,
    ];
    for (const result of results) expect(expectType(result, "NotFoundError")).toMatchObject({ code: "NOT_FOUND", entityId: ghostSwarm, entityType: "Swarm" });

    expect(expectType(await join(swarm.id, ghostAgent), "NotFoundError")).toMatchObject({ entityId: ghostAgent, entityType: "Agent" });
    // A well-formed id of the wrong type is unknown as well.
    expect(expectType(await join(agent.id, agent.id), "NotFoundError")).toMatchObject({ entityType: "Swarm" });
    expect(expectType((await admin.request(PauseSwarmDocument, { id: agent.id })).pauseSwarm, "NotFoundError").entityType).toBe("Swarm");
    expect((await swarmById(swarm.id)).members).toEqual([]);
  });

  it("hides swarms of another workspace completely", async () => {
    const ours = await createSwarm({ name: "ws-a-secret" });
    const ourAgent = await registerAgent();
    const other = server.client({ workspace: "ws-b" });
    const theirs = await createSwarm({ name: "ws-b-swarm" }, other);
    const theirAgent = await registerAgent("ws-b-agent", other);

    expect((await other.request(SwarmDocument, { id: ours.id })).swarm).toBeNull();
    expect((await other.request(NodeDocument, { id: ours.id })).node).toBeNull();
    expect((await admin.request(NodeDocument, { id: ours.id })).node).toMatchObject({ __typename: "Swarm", id: ours.id, name: "ws-a-secret" });
    expect(expectType((await other.request(UpdateSwarmDocument, { input: { id: ours.id, name: "hijacked" } })).updateSwarm, "NotFoundError")).toMatchObject({ entityId: ours.id, entityType: "Swarm" });
    expect(expectType((await other.request(PauseSwarmDocument, { id: ours.id })).pauseSwarm, "NotFoundError").entityType).toBe("Swarm");
    expect(expectType((await other.request(ArchiveSwarmDocument, { id: ours.id })).archiveSwarm, "NotFoundError").entityType).toBe("Swarm");

    // ws-b's agent into ws-a's swarm, from either side.
    expect(expectType(await join(ours.id, theirAgent.id, undefined, other), "NotFoundError")).toMatchObject({ entityId: ours.id, entityType: "Swarm" });
    expect(expectType(await join(ours.id, theirAgent.id), "NotFoundError")).toMatchObject({ entityId: theirAgent.id, entityType: "Agent" });
    // ws-a's agent into ws-b's swarm.
    expect(expectType(await join(theirs.id, ourAgent.id), "NotFoundError")).toMatchObject({ entityId: theirs.id, entityType: "Swarm" });

    const stored = await swarmById(ours.id);
    expect(stored).toMatchObject({ name: "ws-a-secret", status: "ACTIVE", members: [] });
    expect((await swarmById(theirs.id, other)).members).toEqual([]);

    const theirList = await other.request(SwarmsDocument, { first: 100 });
    expect(theirList.swarms.totalCount).toBe(1);
    expect(theirList.swarms.edges.map((e) => e.node.id)).toEqual([theirs.id]);
    const ourList = await admin.request(SwarmsDocument, { first: 100 });
    expect(ourList.swarms.edges.map((e) => e.node.id)).toContain(ours.id);
    expect(ourList.swarms.edges.map((e) => e.node.id)).not.toContain(theirs.id);
  });
});

describe("swarms list", () => {
  const prefix = `List-${randomUUID().slice(0, 6)}`;
  const names = ["echo", "alpha", "delta", "charlie", "bravo"].map((n) => `${prefix}-${n}`);
  const ids = new Map<string, string>();

  beforeAll(async () => {
    const topologies = ["MESH", "STAR", "MESH", "RING", "HIERARCHICAL"] as const;
    for (const [i, name] of names.entries()) ids.set(name, (await createSwarm({ name, topology: topologies[i] })).id);
    expectType((await admin.request(PauseSwarmDocument, { id: ids.get(`${prefix}-delta`)! })).pauseSwarm, "PauseSwarmPayload");
    expectType((await admin.request(ArchiveSwarmDocument, { id: ids.get(`${prefix}-bravo`)! })).archiveSwarm, "ArchiveSwarmPayload");
  });

  it("filters by name (case-insensitive), status and topology, sorted by name", async () => {
    const byName = await admin.request(SwarmsDocument, { first: 10, filter: { nameContains: prefix.toUpperCase() }, orderBy: { field: "NAME", direction: "ASC" } });
    expect(byName.swarms.totalCount).toBe(5);
    expect(byName.swarms.edges.map((e) => e.node.name)).toEqual([...names].sort());
    const desc = await admin.request(SwarmsDocument, { first: 10, filter: { nameContains: prefix }, orderBy: { field: "NAME", direction: "DESC" } });
    expect(desc.swarms.edges.map((e) => e.node.name)).toEqual([...names].sort().reverse());

    const paused = await admin.request(SwarmsDocument, { first: 10, filter: { nameContains: prefix, status: ["PAUSED", "ARCHIVED"] }, orderBy: { field: "NAME", direction: "ASC" } });
    expect(paused.swarms.edges.map((e) => [e.node.name, e.node.status])).toEqual([
      [`${prefix}-bravo`, "ARCHIVED"],
      [`${prefix}-delta`, "PAUSED"],
    ]);
    expect(paused.swarms.totalCount).toBe(2);

    const mesh = await admin.request(SwarmsDocument, { first: 10, filter: { nameContains: prefix, topology: ["MESH"] }, orderBy: { field: "NAME", direction: "ASC" } });
    expect(mesh.swarms.edges.map((e) => e.node.name)).toEqual([`${prefix}-delta`, `${prefix}-echo`]);
    expect(mesh.swarms.edges.every((e) => e.node.topology === "MESH")).toBe(true);

    const both = await admin.request(SwarmsDocument, { first: 10, filter: { nameContains: prefix, topology: ["MESH", "RING"], status: ["ACTIVE"] }, orderBy: { field: "NAME", direction: "ASC" } });
    expect(both.swarms.edges.map((e) => e.node.name)).toEqual([`${prefix}-charlie`, `${prefix}-echo`]);
    expect(both.swarms.totalCount).toBe(2);

    const none = await admin.request(SwarmsDocument, { first: 10, filter: { nameContains: `${prefix}-zulu` } });
    expect(none.swarms).toMatchObject({ totalCount: 0, edges: [], pageInfo: { hasNextPage: false } });
  });

  it("pages with first/after through every row exactly once", async () => {
    const seen: string[] = [];
    let after: string | null | undefined;
    const hasNext: boolean[] = [];
    for (let page = 0; page < 5; page++) {
      const result = await admin.request(SwarmsDocument, { first: 2, after, filter: { nameContains: prefix }, orderBy: { field: "NAME", direction: "ASC" } });
      expect(result.swarms.totalCount).toBe(5);
      seen.push(...result.swarms.edges.map((e) => e.node.name));
      hasNext.push(result.swarms.pageInfo.hasNextPage);
      if (!result.swarms.pageInfo.hasNextPage) break;
      after = result.swarms.pageInfo.endCursor;
    }
    expect(seen).toEqual([...names].sort());
    expect(hasNext).toEqual([true, true, false]);
    expect(seen.map((name) => ids.get(name))).toEqual([...names].sort().map((name) => ids.get(name)));
  });

  it("refuses a page larger than the maximum with BAD_USER_INPUT", async () => {
    const result = await admin.raw(SwarmsDocument, { first: 1000 });
    expect(result.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(result.errors?.[0]?.message).toMatch(/`first` must be between 0 and 100; got 1000/);
    expect(result.data?.swarms ?? null).toBeNull();
  });
});

describe("batching", () => {
  let counted: TestServer;
  const statements: string[] = [];
  beforeAll(async () => {
    // No lease sweeper: its background statements would be counted too.
    counted = await startTestServer({ onQuery: (sql) => statements.push(sql), config: { leaseSweepIntervalMs: 0 } });
    const client = counted.client();
    for (let i = 0; i < 50; i++) {
      const name = `batch-${String(i).padStart(2, "0")}`;
      const swarm = expectType((await client.request(CreateSwarmDocument, { input: { name, objective: "o", topology: "MESH" } })).createSwarm, "CreateSwarmPayload").swarm;
      for (const role of ["COORDINATOR", "WORKER"] as const) {
        const agent = expectType((await client.request(RegisterAgentDocument, { input: { name: `${name}-${role}`, type: "coder" } })).registerAgent, "RegisterAgentPayload").agent;
        expectType((await client.request(JoinSwarmDocument, { swarmId: swarm.id, agentId: agent.id, role })).joinSwarm, "JoinSwarmPayload");
      }
    }
  });
  afterAll(() => counted?.stop());

  async function measure(first: number) {
    statements.length = 0;
    const data = await counted.client().request(SwarmsWithMembersDocument, { first });
    return { data, statements: [...statements] };
  }

  it("loads swarms with members, agents and summaries in a bounded number of statements", async () => {
    const fifty = await measure(50);
    const ten = await measure(10);
    console.log(`SwarmsWithMembers SQL statements: first: 50 → ${fifty.statements.length}, first: 10 → ${ten.statements.length}`);
    console.log(fifty.statements.map((sql, i) => `  ${i + 1}. ${sql.replace(/\s+/g, " ").slice(0, 160)}`).join("\n"));

    expect(fifty.data.swarms.totalCount).toBe(50);
    expect(fifty.data.swarms.edges).toHaveLength(50);
    for (const { node } of fifty.data.swarms.edges) {
      expect(node.members.map((m) => m.role)).toEqual(["COORDINATOR", "WORKER"]);
      expect(node.members.map((m) => m.agent.name)).toEqual([`${node.name}-COORDINATOR`, `${node.name}-WORKER`]);
      expect(node.members.every((m) => m.agent.status === "IDLE" && m.agent.health.status)).toBe(true);
      expect(node.agentSummary.total).toBe(2);
      expect(node.agentSummary.byStatus.find((s) => s.status === "IDLE")?.count).toBe(2);
    }
    expect(ten.data.swarms.edges).toHaveLength(10);

    expect(fifty.statements.length).toBeGreaterThan(0);
    expect(fifty.statements.length).toBeLessThanOrEqual(8);
    expect(ten.statements.length).toBe(fifty.statements.length);
  });
});
