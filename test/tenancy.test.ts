/** Workspaces are sealed: another workspace's id behaves exactly like an id that does not exist. */
import { encodeGlobalID } from "@pothos/plugin-relay";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { AgentDocument, AgentsDocument, AgentStatusCountsDocument, HeartbeatDocument, NodeDocument, PauseAgentDocument, RegisterAgentDocument, TerminateAgentDocument } from "./generated/graphql.ts";
import { type GraphQLClient, expectType } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
let alice: GraphQLClient;
let mallory: GraphQLClient;
let aliceAgentId: string;

beforeAll(async () => {
  server = await startTestServer();
  alice = server.client({ workspace: "alice-co" });
  mallory = server.client({ workspace: "mallory-co" });
  const { registerAgent } = await alice.request(RegisterAgentDocument, { input: { name: "secret-agent", type: "coder" } });
  aliceAgentId = expectType(registerAgent, "RegisterAgentPayload").agent.id;
});
afterAll(() => server?.stop());

it("does not show another workspace's agents in lists or counts", async () => {
  const list = await mallory.request(AgentsDocument, { first: 10 });
  expect(list.agents.totalCount).toBe(0);
  expect(list.agents.edges).toEqual([]);
  const counts = await mallory.request(AgentStatusCountsDocument);
  expect(counts.agentStatusCounts.every((c) => c.count === 0)).toBe(true);
});

it("answers null for another workspace's id, exactly as for an unknown id", async () => {
  const unknown = encodeGlobalID("Agent", randomUUID());
  for (const id of [aliceAgentId, unknown]) {
    expect((await mallory.request(AgentDocument, { id })).agent).toBeNull();
    expect((await mallory.request(NodeDocument, { id })).node).toBeNull();
  }
});

it("answers the same NotFoundError for another workspace's id as for an unknown id, and changes nothing", async () => {
  const foreign = expectType((await mallory.request(PauseAgentDocument, { id: aliceAgentId })).pauseAgent, "NotFoundError");
  const unknownId = encodeGlobalID("Agent", randomUUID());
  const unknown = expectType((await mallory.request(PauseAgentDocument, { id: unknownId })).pauseAgent, "NotFoundError");
  expect(foreign.message.replace(aliceAgentId, "ID").replace(/[0-9a-f-]{36}/, "RAW")).toBe(unknown.message.replace(unknownId, "ID").replace(/[0-9a-f-]{36}/, "RAW"));
  expectType((await mallory.request(TerminateAgentDocument, { id: aliceAgentId })).terminateAgent, "NotFoundError");
  expectType((await mallory.request(HeartbeatDocument, { input: { id: aliceAgentId } })).heartbeat, "NotFoundError");
  const own = (await alice.request(AgentDocument, { id: aliceAgentId })).agent;
  expect(own).toMatchObject({ status: "IDLE", lastHeartbeatAt: null });
});
