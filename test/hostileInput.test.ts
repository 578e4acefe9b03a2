/**
 * Hostile values get a precise typed error naming the field — InvalidInputError in a mutation's
 * result union, BAD_USER_INPUT at the top level — never an internal error, and leave nothing
 * behind; the inputs that used to stall the server are bounded.
 */
import jwt from "jsonwebtoken";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AgentsDocument,
  AuditTrailDocument,
  ClaimTaskDocument,
  CreateSwarmDocument,
  CreateTaskDocument,
  FindingsDocument,
  HealthDocument,
  NodeDocument,
  NodesDocument,
  RegisterAgentDocument,
  ReportProgressDocument,
  SwarmEventPayloadsDocument,
  ViewerDocument,
} from "./generated/graphql.ts";
import { collect, expectType, GraphQLClient, withinStallBound, wsClient } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

const register = (input: Record<string, unknown>) => server.client().request(RegisterAgentDocument, { input: { name: "agent", type: "coder", ...input } as never });
const issuesOf = (result: { __typename?: string }) => expectType(result as { __typename?: "InvalidInputError"; issues: { path: string; message: string }[] }, "InvalidInputError").issues;

describe("hostile values in mutation inputs → InvalidInputError naming the field", () => {
  it.each([
    ["a NUL in a name", { name: "a\u0000b" }, "input.name", /NUL/],
    ["a NUL in a capability", { capabilities: ["ok", "x\u0000"] }, "input.capabilities.1", /NUL/],
    ["a NUL in a JSON value", { metadata: { team: "a\u0000" } }, "input.metadata.team", /NUL/],
    ["a NUL in a JSON key", { config: { "k\u0000": 1 } }, "input.config.k\u0000", /key .*NUL/],
    ["a lone surrogate in JSON", { metadata: { note: "broken \ud800 text" } }, "input.metadata.note", /surrogate/],
  ])("%s", async (_what, input, path, message) => {
    const before = (await server.client().request(AgentsDocument, { first: 1 })).agents.totalCount;
    const issues = issuesOf((await register(input)).registerAgent);
    expect(issues).toContainEqual({ path, message: expect.stringMatching(message) });
    expect((await server.client().request(AgentsDocument, { first: 1 })).agents.totalCount).toBe(before);
  });

  it("JSON nested 10,000 deep (sent as raw JSON: no client library could build it) is refused at MAX_INPUT_DEPTH", async () => {
    const deep = '{"a":'.repeat(10_000) + "1" + "}".repeat(10_000);
    const query = "mutation($input: RegisterAgentInput!) { registerAgent(input: $input) { __typename ... on InvalidInputError { issues { path message } } } }";
    const response = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${server.token()}` },
      body: `{"query":${JSON.stringify(query)},"variables":{"input":{"name":"deep","type":"coder","metadata":${deep}}}}`,
    });
    const body = (await response.json()) as { data: { registerAgent: { __typename: string; issues: { path: string; message: string }[] } } };
    expect(body.data.registerAgent.__typename).toBe("InvalidInputError");
    expect(body.data.registerAgent.issues[0]!.path).toMatch(/^input\.metadata(\.a)+$/);
    expect(body.data.registerAgent.issues[0]!.message).toMatch(/deeper than 32 levels \(MAX_INPUT_DEPTH\)/);
  });

  it("an instant outside years 1–9999 (deadline 0000-01-01)", async () => {
    const result = await server.client().request(CreateTaskDocument, { input: { type: "x", description: "d", deadline: "0000-01-01T00:00:00Z" } });
    expect(issuesOf(result.createTask)).toEqual([{ path: "input.deadline", message: expect.stringMatching(/years 1 and 9999/) }]);
  });
});

describe("hostile values and malformed arguments of queries → BAD_USER_INPUT", () => {
  const codeOf = (result: { errors?: { extensions?: Record<string, unknown> }[] }) => result.errors?.[0]?.extensions?.code;

  it("a global id holding a NUL, a malformed id, a malformed cursor, a negative page size", async () => {
    const nulId = Buffer.from("Agent:\u0000").toString("base64");
    const api = server.client();
    const results = {
      nulId: await api.raw(NodeDocument, { id: nulId }),
      badId: await api.raw(NodeDocument, { id: "zzz" }),
      badCursor: await api.raw(AgentsDocument, { first: 1, after: "zzz" }),
      nulCursor: await api.raw(AgentsDocument, { first: 1, after: Buffer.from("GPC:S:\u0000").toString("base64") }),
      wrongKindCursor: await api.raw(AgentsDocument, { first: 1, after: Buffer.from("GPC:N:5").toString("base64") }),
      outOfRangeCursor: await api.raw(AuditTrailDocument, { first: 1, after: Buffer.from("GPC:I:99999999999999999999999").toString("base64") }),
      negative: await api.raw(AgentsDocument, { first: -1 }),
    };
    for (const [name, result] of Object.entries(results)) expect(codeOf(result), `${name}: ${JSON.stringify(result.errors)}`).toBe("BAD_USER_INPUT");
    expect(results.nulId.errors?.[0]?.extensions?.issues).toEqual([{ path: "id", message: expect.stringMatching(/NUL/) }]);
  });

  it("nodes(ids:) takes at most MAX_NODE_IDS ids; 20,000 are refused at once and the server keeps answering", async () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => Buffer.from(`Agent:${i}`).toString("base64"));
    const atLimit = await server.client().raw(NodesDocument, { ids: ids(100) });
    expect(atLimit.errors).toBeUndefined();
    expect(atLimit.data?.nodes).toHaveLength(100);
    const flood = server.client(null).raw(NodesDocument, { ids: ids(20_000) });
    const health = await withinStallBound(server.client(null).request(HealthDocument), "health query during a 20,000-id nodes()");
    expect(health.scopes.length).toBeGreaterThan(0);
    const refused = await withinStallBound(flood, "nodes() with 20,000 ids");
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", limit: 100 });
    expect(refused.errors?.[0]?.message).toMatch(/MAX_NODE_IDS/);
  });

  it("a full-text search longer than MAX_SEARCH_TEXT_LENGTH is refused before it reaches the database", async () => {
    const refused = await withinStallBound(server.client().raw(FindingsDocument, { first: 1, filter: { text: "a ".repeat(200_000) } }), "a 400 kB search");
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", issues: [{ path: "filter.text", message: expect.stringMatching(/at most 500 characters/) }] });
    const accepted = await server.client().request(FindingsDocument, { first: 1, filter: { text: "a ".repeat(250) } });
    expect(accepted.findings.totalCount).toBe(0);
    expect((await server.client().request(HealthDocument)).scopes.length).toBeGreaterThan(0);
  });
});

describe("tokens", () => {
  it("a validly signed token whose subject holds a NUL is UNAUTHENTICATED, with the reason", async () => {
    const token = jwt.sign({ ws: "ws-a", scopes: ["admin"] }, server.jwtSecret, { subject: "evil\u0000", issuer: "swarmgraph", audience: "swarmgraph", expiresIn: 600 });
    const result = await new GraphQLClient(server.url, token).raw(ViewerDocument);
    expect(result.status).toBe(401);
    expect(result.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(result.errors?.[0]?.message).toMatch(/sub claim .*NUL/);
  });
});

describe("payloads of another domain need that domain's read scope", () => {
  it("swarmEvents shows a task's progress payload (partialResult) only to a token that may read tasks", async () => {
    const api = server.client({ workspace: "ws-scope" });
    const swarm = expectType((await api.request(CreateSwarmDocument, { input: { name: "scoped", objective: "o", topology: "MESH", maxAgents: 3 } })).createSwarm, "CreateSwarmPayload").swarm;
    const agent = expectType((await api.request(RegisterAgentDocument, { input: { name: "worker", type: "coder" } })).registerAgent, "RegisterAgentPayload").agent;
    const task = expectType((await api.request(CreateTaskDocument, { input: { type: "t", description: "secret work", swarmId: swarm.id } })).createTask, "CreateTaskPayload").task;
    const claim = expectType((await api.request(ClaimTaskDocument, { taskId: task.id, agentId: agent.id })).claimTask, "ClaimTaskPayload");
    expectType((await api.request(ReportProgressDocument, { taskId: task.id, leaseToken: claim.leaseToken!, progress: 0.5, partialResult: { secret: "classified" } })).reportProgress, "ReportProgressPayload");

    const progressPayload = async (scopes: ("swarms:read" | "tasks:read")[]) => {
      const client = wsClient(server.wsUrl, server.token({ workspace: "ws-scope", scopes }));
      try {
        const events = collect(client, SwarmEventPayloadsDocument, { swarmId: swarm.id, after: "0" });
        const deadline = Date.now() + 30_000;
        while (!events.events.some((e) => e.swarmEvents.type === "task.progress") && Date.now() < deadline) await events.waitFor(events.events.length + 1);
        events.stop();
        return events.events.find((e) => e.swarmEvents.type === "task.progress")!.swarmEvents.payload;
      } finally {
        await client.dispose();
      }
    };
    expect(await progressPayload(["swarms:read"])).toEqual({});
    expect(await progressPayload(["swarms:read", "tasks:read"])).toMatchObject({ partialResult: { secret: "classified" } });
  });
});
