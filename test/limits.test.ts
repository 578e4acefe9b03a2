/**
 * What one request may cost: document limits answered with a code and HTTP 400 (and, over
 * graphql-ws, an `error` for that operation only), the cost reported to clients, and the body and
 * message size limits (413, close 1009).
 */
import http from "node:http";
import { print } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { AgentEventsDocument, HealthDocument, RegisterAgentDocument } from "./generated/graphql.ts";
import { collect, expectType, wsClient } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

const LIMITS = { maxQueryDepth: 8, maxQueryTokens: 1000, maxQueryAliases: 5, maxQueryDirectives: 5, maxQueryCost: 500, maxRequestBytes: 64 * 1024, maxWebSocketMessageBytes: 64 * 1024 };

/** One document per limit, each breaking only it, with the code it must be refused with. */
const BREAKING = [
  { limit: "depth", code: "QUERY_TOO_DEEP", setting: "MAX_QUERY_DEPTH", query: "subscription { swarmEvents(swarmId: \"U3dhcm06eA==\") { swarm { members { agent { swarms { swarm { members { agent { name } } } } } } } } }" },
  { limit: "cost", code: "QUERY_TOO_COMPLEX", setting: "MAX_QUERY_COST", query: "{ agents(first: 100) { edges { node { name type status } } } }" },
  { limit: "aliases", code: "TOO_MANY_ALIASES", setting: "MAX_QUERY_ALIASES", query: `{ ${Array.from({ length: 6 }, (_, i) => `a${i}: scopes { name }`).join(" ")} }` },
  { limit: "directives", code: "TOO_MANY_DIRECTIVES", setting: "MAX_QUERY_DIRECTIVES", query: `{ scopes { ${"name @include(if: true) ".repeat(6)} } }` },
  { limit: "tokens", code: "TOO_MANY_TOKENS", setting: "MAX_QUERY_TOKENS", query: `{ scopes { ${"name ".repeat(1200)} } }` },
] as const;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ config: LIMITS });
});
afterAll(() => server?.stop());

describe("document limits over HTTP", () => {
  for (const { limit, code, setting, query } of BREAKING) {
    it(`refuses a document over the ${limit} limit with ${code} and HTTP 400, running nothing`, async () => {
      const result = await server.client().raw(query);
      expect(result.status).toBe(400);
      expect(result.data ?? null).toBeNull();
      expect(result.errors?.[0]?.extensions?.code).toBe(code);
      expect(result.errors?.[0]?.message).toContain(setting);
      expect(result.errors?.[0]?.message).not.toMatch(/^Syntax Error/);
    });
  }

  it("reports the cost of an accepted query and the limit, and both on a refused one", async () => {
    const accepted = await server.client().raw(HealthDocument);
    expect(accepted.status).toBe(200);
    const cost = accepted as unknown as { extensions?: { cost?: { requested: number; limit: number } } };
    expect(cost.extensions?.cost).toEqual({ requested: expect.any(Number), limit: 500 });
    expect(cost.extensions!.cost!.requested).toBeGreaterThan(0);
    const refused = await server.client().raw("{ agents(first: 100) { edges { node { name type status } } } }");
    expect(refused.errors?.[0]?.extensions?.cost).toEqual({ requested: expect.any(Number), limit: 500 });
    expect((refused.errors![0]!.extensions!.cost as { requested: number }).requested).toBeGreaterThan(500);
  });
});

describe("document limits over graphql-ws", () => {
  it("answers each broken limit with an error for that operation only; the socket and its other subscription live on", async () => {
    const closes: number[] = [];
    const client = wsClient(server.wsUrl, server.token(), (event) => closes.push(event.code));
    try {
      const live = collect(client, AgentEventsDocument, { after: "0" });
      expectType((await server.client().request(RegisterAgentDocument, { input: { name: "before", type: "coder" } })).registerAgent, "RegisterAgentPayload");
      await live.waitFor(1);
      for (const { code, query } of BREAKING) {
        const errors = await new Promise<unknown>((resolve) => {
          client.subscribe({ query }, { next: () => undefined, error: resolve, complete: () => resolve("completed without an error") });
        });
        expect(Array.isArray(errors), `${code}: ${JSON.stringify(errors)}`).toBe(true);
        expect((errors as { extensions?: { code?: string } }[])[0]?.extensions?.code).toBe(code);
      }
      // The subscription opened before the refusals still delivers.
      expectType((await server.client().request(RegisterAgentDocument, { input: { name: "after", type: "coder" } })).registerAgent, "RegisterAgentPayload");
      const events = await live.waitFor(2);
      expect(events.map((e) => e.agentEvents.agent?.name)).toContain("after");
      expect(closes).toEqual([]);
      live.stop();
    } finally {
      await client.dispose();
    }
  });
});

describe("request size limits", () => {
  /** Sends a POST whose body is produced by `write`, and resolves with the response status and body. */
  const post = (headers: Record<string, string | number>, write: (req: http.ClientRequest) => void) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(server.url, { method: "POST", headers: { "content-type": "application/json", ...headers } }, (res) => {
        let body = "";
        res.on("data", (chunk) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode!, body }));
        res.on("error", reject);
      });
      // The server answers before the body is sent whole and closes: writes may fail after that.
      req.on("error", () => undefined);
      write(req);
    });

  it("refuses a body declared larger than MAX_REQUEST_BYTES with 413 without reading it", async () => {
    const result = await post({ "content-length": 10 * 1024 * 1024 }, (req) => req.write(`{"query":"#${"x".repeat(1000)}`));
    expect(result.status).toBe(413);
    expect(JSON.parse(result.body).errors[0].extensions.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("refuses a streamed (chunked) body once it passes MAX_REQUEST_BYTES with 413", async () => {
    const result = await post({ "transfer-encoding": "chunked" }, (req) => {
      req.write(`{"query":"#`);
      let sent = 0;
      const more = () => {
        while (sent < 1024 * 1024 && !req.destroyed) {
          sent += 16 * 1024;
          if (!req.write("x".repeat(16 * 1024))) return void req.once("drain", more);
        }
        req.end();
      };
      more();
    });
    expect(result.status).toBe(413);
    expect(JSON.parse(result.body).errors[0].extensions.code).toBe("PAYLOAD_TOO_LARGE");
    // A body under the limit is still served.
    const small = await post({}, (req) => req.end(JSON.stringify({ query: print(HealthDocument) })));
    expect(small.status).toBe(200);
    expect(JSON.parse(small.body).data.scopes.length).toBeGreaterThan(0);
  });

  it("closes a WebSocket that sends a message larger than MAX_WEBSOCKET_MESSAGE_BYTES with 1009", async () => {
    const socket = new WebSocket(server.wsUrl, "graphql-transport-ws");
    const closed = new Promise<number>((resolve) => socket.on("close", (code) => resolve(code)));
    socket.on("error", () => undefined);
    await new Promise<void>((resolve) => socket.on("open", () => resolve()));
    socket.send(JSON.stringify({ type: "connection_init", payload: { padding: "x".repeat(100 * 1024) } }));
    expect(await closed).toBe(1009);
  });
});
