/** The server process: health, readiness, GraphiQL, query limits, restart and graceful stop. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentsDocument, RegisterAgentDocument } from "./generated/graphql.ts";
import WebSocket from "ws";
import { expectType } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

describe("a running server", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ config: { maxQueryDepth: 6, maxQueryTokens: 1000 } });
  });
  afterAll(() => server?.stop());

  it("reports alive on /health and ready (database reachable, migrations applied) on /ready", async () => {
    const base = server.url.replace(/\/graphql$/, "");
    expect((await fetch(`${base}/health`)).status).toBe(200);
    expect((await fetch(`${base}/ready`)).status).toBe(200);
  });

  it("serves GraphiQL with an example operation to browsers", async () => {
    const response = await fetch(server.url, { headers: { accept: "text/html" } });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain("swarmgraph");
    expect(html).toContain("agentStatusCounts");
  });

  it("refuses queries nested deeper than MAX_QUERY_DEPTH", async () => {
    const deep = "{ agents(first: 1) { edges { node { swarms { swarm { members { agent { name } } } } } } } }";
    const result = await server.client().raw(deep);
    expect(result.data ?? null).toBeNull();
    expect(result.errors?.[0]?.message).toMatch(/depth limit/i);
  });

  it("refuses documents with more than MAX_QUERY_TOKENS tokens and alias floods", async () => {
    const huge = `{ ${Array.from({ length: 600 }, (_, i) => `a${i}: __typename`).join(" ")} }`;
    const result = await server.client().raw(huge);
    expect(result.data ?? null).toBeNull();
    expect(result.errors?.[0]?.message).toMatch(/token limit/i);
    const aliases = `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: scopes { name }`).join(" ")} }`;
    const aliased = await server.client().raw(aliases);
    expect(aliased.errors?.[0]?.message).toMatch(/aliases/i);
  });

  it("answers a syntax error with a clear message and no data", async () => {
    const result = await server.client().raw("{ agents(first: ) }");
    expect(result.status).toBe(400);
    expect(result.errors?.[0]?.message).toMatch(/Syntax Error/);
  });
});

describe("restart and shutdown", () => {
  it("finds all committed data after a graceful stop and restart on the same data directory", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "swarmgraph-restart-"));
    try {
      const first = await startTestServer({ dataDir });
      const api = first.client();
      for (const name of ["one", "two", "three"]) {
        expectType((await api.request(RegisterAgentDocument, { input: { name, type: "coder" } })).registerAgent, "RegisterAgentPayload");
      }
      const socket = new WebSocket(first.wsUrl, "graphql-transport-ws");
      const closed = new Promise<number>((resolve) => socket.on("close", (code) => resolve(code)));
      await new Promise<void>((resolve) => {
        socket.on("open", () => socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${first.token()}` } })));
        socket.on("message", (data) => JSON.parse(String(data)).type === "connection_ack" && resolve());
      });
      await first.stop();
      // Open sockets are closed by the server (1001 Going Away) rather than left hanging.
      expect(await closed).toBe(1001);
      await expect(fetch(first.url)).rejects.toThrow();

      const second = await startTestServer({ dataDir });
      try {
        const list = await second.client().request(AgentsDocument, { first: 10, orderBy: { field: "NAME", direction: "ASC" } });
        expect(list.agents.edges.map((e) => e.node.name)).toEqual(["one", "three", "two"]);
      } finally {
        await second.stop();
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
