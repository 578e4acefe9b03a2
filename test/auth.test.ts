/** Authentication and scopes: who may call what, and the precise errors everyone else gets. */
import jwt from "jsonwebtoken";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentsDocument, RegisterAgentDocument, ScopesDocument, ViewerDocument } from "./generated/graphql.ts";
import { GraphQLClient, wsClient } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

describe("authentication", () => {
  it("answers UNAUTHENTICATED with HTTP 401 when no token is sent", async () => {
    const result = await server.client(null).raw(AgentsDocument, { first: 5 });
    expect(result.status).toBe(401);
    expect(result.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(result.errors?.[0]?.message).toMatch(/Authorization: Bearer/);
  });

  it("refuses an expired token, saying when it expired", async () => {
    const expired = server.token({ ttl: -60 });
    const result = await new GraphQLClient(server.url, expired).raw(AgentsDocument, { first: 5 });
    expect(result.status).toBe(401);
    expect(result.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(result.errors?.[0]?.message).toMatch(/expired at \d{4}-\d\d-\d\dT/);
  });

  it("refuses a token that expired after it was accepted (verified tokens are remembered only until they expire)", async () => {
    const shortLived = new GraphQLClient(server.url, server.token({ ttl: 2 }));
    expect((await shortLived.raw(AgentsDocument, { first: 5 })).status).toBe(200);
    expect((await shortLived.raw(AgentsDocument, { first: 5 })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const result = await shortLived.raw(AgentsDocument, { first: 5 });
    expect(result.status).toBe(401);
    expect(result.errors?.[0]?.message).toMatch(/expired at \d{4}-\d\d-\d\dT/);
  });

  it("refuses a token signed with another secret and a malformed header", async () => {
    const forged = jwt.sign({ ws: "ws-a", scopes: ["admin"] }, "not-the-secret-not-the-secret-not-the-secret", { subject: "x", issuer: "swarmgraph", audience: "swarmgraph", expiresIn: 60 });
    const bad = await new GraphQLClient(server.url, forged).raw(AgentsDocument, { first: 5 });
    expect(bad.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(bad.errors?.[0]?.message).toMatch(/invalid signature/);

    const response = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Basic abc" },
      body: JSON.stringify({ query: "{ viewer { subject } }" }),
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { errors: { message: string }[] }).errors[0]?.message).toMatch(/Bearer <token>/);
  });

  it("refuses a token that lacks the workspace or scope claims", async () => {
    const noWs = jwt.sign({ scopes: ["admin"] }, server.jwtSecret, { subject: "x", issuer: "swarmgraph", audience: "swarmgraph", expiresIn: 60 });
    const result = await new GraphQLClient(server.url, noWs).raw(ViewerDocument);
    expect(result.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("tells the caller who it is", async () => {
    const data = await server.client({ scopes: ["agents:read", "swarms:read"], subject: "alice", workspace: "acme" }).request(ViewerDocument);
    expect(data.viewer).toMatchObject({ subject: "alice", workspaceId: "acme", scopes: ["agents:read", "swarms:read"] });
    expect(new Date(data.viewer.expiresAt).getTime()).toBeGreaterThan(Date.now());
  });

  it("lists the scopes without a token", async () => {
    const data = await server.client(null).request(ScopesDocument);
    expect(data.scopes.map((s) => s.name)).toEqual(expect.arrayContaining(["agents:read", "tasks:claim", "admin"]));
  });
});

describe("scopes", () => {
  it("answers FORBIDDEN naming the missing scope", async () => {
    const result = await server.client({ scopes: ["swarms:read"] }).raw(AgentsDocument, { first: 5 });
    expect(result.status).toBe(403);
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: "FORBIDDEN", requiredScopes: ["agents:read"] });
    expect(result.errors?.[0]?.message).toContain("agents:read");
  });

  it("does not let a read scope write, and changes nothing", async () => {
    const reader = server.client({ scopes: ["agents:read"] });
    const result = await reader.raw(RegisterAgentDocument, { input: { name: "sneaky", type: "coder" } });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: "FORBIDDEN", requiredScopes: ["agents:write"] });
    const list = await reader.request(AgentsDocument, { first: 5 });
    expect(list.agents.totalCount).toBe(0);
  });

  it("lets the write scope write and admin do everything", async () => {
    const writer = server.client({ scopes: ["agents:write"] });
    const created = await writer.request(RegisterAgentDocument, { input: { name: "w", type: "coder" } });
    expect(created.registerAgent.__typename).toBe("RegisterAgentPayload");
    const admin = server.client({ scopes: ["admin"] });
    expect((await admin.request(AgentsDocument, { first: 5 })).agents.totalCount).toBe(1);
  });
});

describe("WebSocket authentication", () => {
  it("closes the socket with 4401 when connection_init carries an invalid token", async () => {
    const client = wsClient(server.wsUrl, server.token({ ttl: -10 }));
    const closed = await new Promise<{ code?: number }>((resolve) => {
      client.subscribe({ query: "{ viewer { subject } }" }, { next: () => resolve({}), error: (event) => resolve(event as { code: number }), complete: () => undefined });
    });
    await client.dispose();
    expect(closed.code).toBe(4401);
  });

  it("runs operations over the socket with the same token and scopes as HTTP", async () => {
    const client = wsClient(server.wsUrl, server.token({ scopes: ["agents:read"], subject: "ws-user" }));
    try {
      const result = await new Promise<{ data?: unknown; errors?: unknown }>((resolve, reject) => {
        client.subscribe({ query: "{ viewer { subject } agents(first: 1) { totalCount } }" }, { next: resolve, error: reject, complete: () => undefined });
      });
      expect(result.data).toEqual({ viewer: { subject: "ws-user" }, agents: { totalCount: 1 } });
      const forbidden = await new Promise<{ errors?: { extensions?: { code?: string } }[] }>((resolve, reject) => {
        client.subscribe({ query: "{ swarms(first: 1) { totalCount } }" }, { next: (v) => resolve(v as never), error: reject, complete: () => undefined });
      });
      expect(forbidden.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    } finally {
      await client.dispose();
    }
  });
});
