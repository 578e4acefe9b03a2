/** The event log (outbox): every state change writes its event in the same transaction; refused changes write none. */
import { decodeGlobalID } from "@pothos/plugin-relay";
import { afterAll, beforeAll, expect, it } from "vitest";
import { AgentsDocument, CreateSwarmDocument, JoinSwarmDocument, PauseAgentDocument, RegisterAgentDocument, TerminateAgentDocument } from "./generated/graphql.ts";
import { type GraphQLClient, expectType } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
let api: GraphQLClient;
beforeAll(async () => {
  server = await startTestServer();
  api = server.client({ workspace: "events-ws", subject: "operator-1" });
});
afterAll(() => server?.stop());

/** The logged events of an entity; settle() first so that the latest commits have their positions. */
const eventsOf = async (entityId: string) => {
  await server.events.tailer.settle();
  return server.db.prisma.event.findMany({ where: { entityId }, orderBy: { id: "asc" }, select: { type: true, topic: true, actor: true, workspaceId: true, payload: true } });
};

it("records each agent state change, in order, with the actor and workspace", async () => {
  const agent = expectType((await api.request(RegisterAgentDocument, { input: { name: "evented", type: "coder" } })).registerAgent, "RegisterAgentPayload").agent;
  await api.request(PauseAgentDocument, { id: agent.id });
  await api.request(TerminateAgentDocument, { id: agent.id, reason: "done" });
  const events = await eventsOf(decodeGlobalID(agent.id).id);
  expect(events.map((e) => e.type)).toEqual(["agent.registered", "agent.paused", "agent.terminated"]);
  expect(events.every((e) => e.actor === "operator-1" && e.workspaceId === "events-ws" && e.topic === "agent")).toBe(true);
  expect(events[1]!.payload).toEqual({ from: "IDLE", to: "PAUSED" });
});

it("writes no event for a refused change", async () => {
  const agent = expectType((await api.request(RegisterAgentDocument, { input: { name: "refused", type: "coder" } })).registerAgent, "RegisterAgentPayload").agent;
  await api.request(TerminateAgentDocument, { id: agent.id });
  expectType((await api.request(PauseAgentDocument, { id: agent.id })).pauseAgent, "IllegalTransitionError");
  expect((await eventsOf(decodeGlobalID(agent.id).id)).map((e) => e.type)).toEqual(["agent.registered", "agent.terminated"]);
});

it("records membership changes on the swarm, and filters agents by swarm", async () => {
  const swarm = expectType((await api.request(CreateSwarmDocument, { input: { name: "s", objective: "o", topology: "STAR", maxAgents: 1 } })).createSwarm, "CreateSwarmPayload").swarm;
  const ids: string[] = [];
  for (const name of ["in", "out"]) {
    ids.push(expectType((await api.request(RegisterAgentDocument, { input: { name, type: "coder" } })).registerAgent, "RegisterAgentPayload").agent.id);
  }
  expectType((await api.request(JoinSwarmDocument, { swarmId: swarm.id, agentId: ids[0]!, role: "COORDINATOR" })).joinSwarm, "JoinSwarmPayload");
  expectType((await api.request(JoinSwarmDocument, { swarmId: swarm.id, agentId: ids[1]! })).joinSwarm, "SwarmFullError");
  const events = await eventsOf(decodeGlobalID(swarm.id).id);
  expect(events.map((e) => e.type)).toEqual(["swarm.created", "swarm.member_joined"]);
  expect(events[1]!.payload).toEqual({ agentId: decodeGlobalID(ids[0]!).id, role: "COORDINATOR" });

  const members = await api.request(AgentsDocument, { first: 10, filter: { swarm: swarm.id } });
  expect(members.agents.edges.map((e) => e.node.name)).toEqual(["in"]);
});
