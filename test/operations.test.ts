/**
 * Operating the server and the client conventions: Prometheus metrics, request ids and the access
 * log, compression, CORS, SSE at shutdown, systemStatus, Relay-safe ids, trusted documents and
 * @defer.
 */
import { Writable } from "node:stream";
import { isInterfaceType, isObjectType, isUnionType, getNamedType, type GraphQLObjectType } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../src/logger.ts";
import { getSchema } from "../src/schema/index.ts";
import {
  ClaimNextTaskDocument,
  CompleteTaskDocument,
  CreateTaskDocument,
  DeferredAgentsDocument,
  RegisterAgentDocument,
  SystemStatusDocument,
  ViewerDocument,
} from "./generated/graphql.ts";
import { collect, expectType, wsClient } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

/** The value of one series (labels as written in the exposition), or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const hashOf = (document: unknown) => (document as { __meta__: { hash: string } }).__meta__.hash;

describe("a server with metrics, request ids and the access log", () => {
  let server: TestServer;
  const lines: Record<string, unknown>[] = [];
  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split("\n")) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    server = await startTestServer({ logger: createLogger("info", sink) });
  });
  afterAll(() => server?.stop());

  const scrape = async () => {
    const response = await fetch(server.metricsUrl);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
    return response.text();
  };

  it("exposes request, task, queue, subscription and pool series that move when work happens", async () => {
    const api = server.client();
    const before = await scrape();
    for (const series of [
      "swarmgraph_open_connections",
      "swarmgraph_open_subscriptions",
      "swarmgraph_subscription_events_delivered_total",
      "swarmgraph_event_tailer_lag_events",
      "swarmgraph_task_events_total",
      "swarmgraph_tasks",
      "swarmgraph_quota_in_use",
      "swarmgraph_db_pool_connections",
      "graphql_envelop_request_duration",
      "graphql_envelop_error_result",
      "graphql_yoga_http_duration",
    ]) {
      expect(before, series).toContain(`# TYPE ${series} `);
    }
    expect(sample(before, 'swarmgraph_task_events_total{type="task.claimed"}')).toBe(0);

    const agent = expectType((await api.request(RegisterAgentDocument, { input: { name: "metered", type: "coder" } })).registerAgent, "RegisterAgentPayload").agent;
    expectType((await api.request(CreateTaskDocument, { input: { description: "count me", type: "metered-work" } })).createTask, "CreateTaskPayload");
    expectType((await api.request(CreateTaskDocument, { input: { description: "wait", type: "metered-work" } })).createTask, "CreateTaskPayload");
    const claim = expectType((await api.request(ClaimNextTaskDocument, { agentId: agent.id })).claimNextTask, "ClaimNextTaskPayload");
    expectType((await api.request(CompleteTaskDocument, { taskId: claim.task!.id, leaseToken: claim.leaseToken!, result: {} })).completeTask, "CompleteTaskPayload");
    await server.events.tailer.drain();

    const after = await scrape();
    expect(sample(after, 'swarmgraph_task_events_total{type="task.claimed"}')).toBe(1);
    expect(sample(after, 'swarmgraph_task_events_total{type="task.completed"}')).toBe(1);
    expect(sample(after, 'swarmgraph_tasks{status="COMPLETED",type="metered-work"}')).toBe(1);
    expect(sample(after, 'swarmgraph_tasks{status="PENDING",type="metered-work"}')).toBe(1);
    expect(sample(after, "swarmgraph_event_tailer_lag_events")).toBe(0);
    const requests = (text: string) => sample(text, 'graphql_envelop_request_duration_count{operationName="CreateTask",operationType="mutation"}') ?? 0;
    expect(requests(after)).toBe(requests(before) + 2);
    // PGlite has one in-process connection and no pool.
    if (server.target.kind === "postgres") expect(sample(after, 'swarmgraph_db_pool_connections{state="total"}')).toBeGreaterThan(0);
    else expect(sample(after, 'swarmgraph_db_pool_connections{state="total"}')).toBeUndefined();
  });

  it("echoes the client's x-request-id, puts it in error extensions and in one access-log line per operation", async () => {
    const response = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "trace-abc.123" },
      body: JSON.stringify({ query: "query Who { viewer { subject } }" }),
    });
    expect(response.headers.get("x-request-id")).toBe("trace-abc.123");
    const body = (await response.json()) as { errors: { extensions: Record<string, unknown> }[] };
    expect(body.errors[0]!.extensions).toMatchObject({ code: "UNAUTHENTICATED", requestId: "trace-abc.123" });
    const logged = lines.filter((l) => l.requestId === "trace-abc.123" && l.msg === "graphql operation");
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 30, operation: "Who", outcome: "error", codes: ["UNAUTHENTICATED"] });
    expect(logged[0]!.durationMs).toEqual(expect.any(Number));
  });

  it("generates a request id when the client sent none or an unusable one", async () => {
    for (const sent of [undefined, "has spaces and\ttabs"]) {
      const response = await fetch(server.url, {
        method: "POST",
        headers: { "content-type": "application/json", ...(sent ? { "x-request-id": sent } : {}), authorization: `Bearer ${server.token()}` },
        body: JSON.stringify({ query: "query Me { viewer { subject } }" }),
      });
      const id = response.headers.get("x-request-id");
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(lines.find((l) => l.requestId === id && l.msg === "graphql operation")).toMatchObject({ operation: "Me", outcome: "ok" });
    }
  });

  it("writes an access-log line for graphql-ws operations too", async () => {
    const client = wsClient(server.wsUrl, server.token({ subject: "over-ws" }));
    try {
      const viewer = collect(client, ViewerDocument, {});
      await viewer.ended;
      expect(viewer.events[0]!.viewer.subject).toBe("over-ws");
    } finally {
      await client.dispose();
    }
    expect(lines.filter((l) => l.transport === "websocket" && l.msg === "graphql operation")).toEqual([expect.objectContaining({ level: 30, operation: "Viewer", outcome: "ok" })]);
  });

  it("compresses responses for clients that accept gzip (not small ones), and leaves SSE streams uncompressed", async () => {
    const query = "{ __schema { types { name description fields { name description } } } }";
    const gzipped = await fetch(server.url, { method: "POST", headers: { "content-type": "application/json", "accept-encoding": "gzip, deflate" }, body: JSON.stringify({ query }) });
    expect(gzipped.headers.get("content-encoding")).toBe("gzip");
    expect(((await gzipped.json()) as { data: { __schema: { types: unknown[] } } }).data.__schema.types.length).toBeGreaterThan(50);
    const plain = await fetch(server.url, { method: "POST", headers: { "content-type": "application/json", "accept-encoding": "identity" }, body: JSON.stringify({ query }) });
    expect(plain.headers.get("content-encoding")).toBeNull();
    await plain.arrayBuffer();
    // A body under 1 KiB costs more to compress than it saves: sent as it is.
    const small = await fetch(server.url, { method: "POST", headers: { "content-type": "application/json", "accept-encoding": "gzip" }, body: JSON.stringify({ query: "{ __typename }" }) });
    expect(small.headers.get("content-encoding")).toBeNull();
    expect(await small.json()).toMatchObject({ data: { __typename: "Query" } });

    const controller = new AbortController();
    const sse = await fetch(server.url, {
      method: "POST",
      signal: controller.signal,
      headers: { "content-type": "application/json", accept: "text/event-stream", "accept-encoding": "gzip", authorization: `Bearer ${server.token()}` },
      body: JSON.stringify({ query: "subscription { taskEvents { type } }" }),
    });
    expect(sse.headers.get("content-type")).toMatch(/text\/event-stream/);
    expect(sse.headers.get("content-encoding")).not.toMatch(/gzip|deflate/);
    controller.abort();
  });

  it("answers systemStatus with version, database, migrations, replicas and tailer lag", async () => {
    const { systemStatus } = await server.client().request(SystemStatusDocument);
    expect(systemStatus).toMatchObject({ version: expect.stringMatching(/^\d+\.\d+\.\d+/), pendingMigrations: [], tailerLagEvents: expect.any(Number) });
    expect(systemStatus.databaseKind).toBe(server.target.kind === "postgres" ? "POSTGRES" : "PGLITE");
    expect(systemStatus.migrationsApplied).toBeGreaterThan(0);
    expect(systemStatus.latestMigration).toEqual(expect.any(String));
    expect(systemStatus.replicasSeen).toBeGreaterThanOrEqual(1);
    expect(BigInt(systemStatus.eventLogHead)).toBeGreaterThanOrEqual(BigInt(systemStatus.tailerPosition));
    const anonymous = await server.client(null).raw(SystemStatusDocument);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("delivers @defer incrementally: the first part without the deferred fields, then the rest", async () => {
    const api = server.client({ workspace: "ws-defer" });
    expectType((await api.request(RegisterAgentDocument, { input: { name: "deferred", type: "coder" } })).registerAgent, "RegisterAgentPayload");
    const response = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "multipart/mixed", authorization: `Bearer ${server.token({ workspace: "ws-defer" })}` },
      body: JSON.stringify({ query: (await import("graphql")).print(DeferredAgentsDocument) }),
    });
    expect(response.headers.get("content-type")).toMatch(/^multipart\/mixed/);
    const text = await response.text();
    const parts = text
      .split(/\r?\n---/)
      .map((part) => part.slice(part.indexOf("{")))
      .filter((part) => part.startsWith("{"))
      .map((part) => JSON.parse(part) as { data?: { agents: { edges: { node: Record<string, unknown> }[] } }; incremental?: { data: Record<string, unknown>; label?: string }[]; hasNext: boolean });
    expect(parts.length).toBeGreaterThanOrEqual(2);
    expect(parts[0]!.hasNext).toBe(true);
    expect(parts[0]!.data!.agents.edges[0]!.node).toEqual({ id: expect.any(String), name: "deferred" });
    const incremental = parts.slice(1).flatMap((p) => p.incremental ?? []);
    expect(incremental).toEqual([expect.objectContaining({ label: "health", data: { health: { status: "HEALTHY" } } })]);
    expect(parts.at(-1)!.hasNext).toBe(false);
  });

  it("refuses cross-origin requests when CORS_ORIGINS is unset", async () => {
    const preflight = await fetch(server.url, { method: "OPTIONS", headers: { origin: "https://app.example.com", "access-control-request-method": "POST" } });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("runs registered documents by id next to arbitrary ones (TRUSTED_DOCUMENTS=allow)", async () => {
    const byId = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${server.token()}` },
      body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: hashOf(ViewerDocument) } } }),
    });
    // The default manifest is the worker's: the test documents are not registered here.
    expect(((await byId.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe("PERSISTED_QUERY_NOT_FOUND");
  });
});

describe("a server with a CORS allow-list, trusted documents only and metrics on their own port behind a token", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      config: {
        corsOrigins: ["https://app.example.com"],
        trustedDocuments: "only",
        trustedDocumentManifests: ["test/generated/persisted-documents.json"],
        metricsPort: 0,
        metricsToken: "a-metrics-token-of-some-length",
      },
    });
  });
  afterAll(() => server?.stop());

  it("allows listed origins with credentials and refuses the others", async () => {
    const allowed = await fetch(server.url, { method: "OPTIONS", headers: { origin: "https://app.example.com", "access-control-request-method": "POST" } });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(allowed.headers.get("access-control-allow-credentials")).toBe("true");
    const refused = await fetch(server.url, { method: "OPTIONS", headers: { origin: "https://evil.example.com", "access-control-request-method": "POST" } });
    expect(refused.headers.get("access-control-allow-origin")).not.toBe("https://evil.example.com");
  });

  it("refuses a document that is not registered and runs a registered one by its id", async () => {
    const text = await server.client().raw("query { viewer { subject } }");
    expect(text.data ?? null).toBeNull();
    expect(text.errors?.[0]?.extensions?.code).toBe("PERSISTED_QUERY_ONLY");
    // The typed client sends text too: registered or not, text is refused in this mode.
    expect((await server.client().raw(ViewerDocument)).errors?.[0]?.extensions?.code).toBe("PERSISTED_QUERY_ONLY");

    const send = (body: unknown) =>
      fetch(server.url, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${server.token({ subject: "trusted" })}` }, body: JSON.stringify(body) }).then(
        (r) => r.json() as Promise<{ data?: { viewer: { subject: string } }; errors?: { extensions: { code: string } }[] }>,
      );
    expect((await send({ documentId: `sha256:${hashOf(ViewerDocument)}` })).data).toEqual({ viewer: expect.objectContaining({ subject: "trusted", workspaceId: "ws-a", scopes: ["admin"] }) });
    expect((await send({ extensions: { persistedQuery: { version: 1, sha256Hash: hashOf(ViewerDocument) } } })).data?.viewer.subject).toBe("trusted");
    expect((await send({ documentId: "0".repeat(64) })).errors?.[0]?.extensions.code).toBe("PERSISTED_QUERY_NOT_FOUND");
  });

  it("serves /metrics only on METRICS_PORT, and only with the token", async () => {
    expect(new URL(server.metricsUrl).port).not.toBe(String(server.port));
    expect((await fetch(server.url.replace(/\/graphql$/, "/metrics"))).status).toBe(404);
    const refused = await fetch(server.metricsUrl);
    expect(refused.status).toBe(401);
    await refused.text();
    const scraped = await fetch(server.metricsUrl, { headers: { authorization: "Bearer a-metrics-token-of-some-length" } });
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain("# TYPE swarmgraph_open_subscriptions gauge");
  });
});

describe("graceful shutdown", () => {
  it("ends open SSE streams with `complete` instead of waiting for SHUTDOWN_TIMEOUT_MS", async () => {
    // A close timeout far beyond the test's own: the stop below can only finish if the server
    // ended the stream itself.
    const server = await startTestServer({ config: { shutdownTimeoutMs: 3_600_000 } });
    let stopped = false;
    try {
      const response = await fetch(server.url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${server.token()}` },
        body: JSON.stringify({ query: "subscription { taskEvents { type task { description } } }" }),
      });
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      await server.client().request(CreateTaskDocument, { input: { description: "before shutdown", type: "x" } });
      let text = "";
      while (!text.includes("before shutdown")) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value);
      }
      expect(text).toContain("before shutdown");
      const stopping = server.stop().then(() => (stopped = true));
      let ended = false;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          ended = true;
          break;
        }
        text += decoder.decode(value);
      }
      await stopping;
      expect(ended).toBe(true);
      expect(text).toMatch(/event: complete/);
      expect(stopped).toBe(true);
    } finally {
      if (!stopped) await server.stop();
    }
  });
});

describe("the shipped possible-types map", () => {
  it("lists every interface's and union's members as the schema has them (run `npm run codegen` if this fails)", async () => {
    const fs = await import("node:fs");
    const shipped = JSON.parse(fs.readFileSync(new URL("../schema.possibleTypes.json", import.meta.url), "utf8")) as { possibleTypes: Record<string, string[]> };
    const schema = getSchema();
    const expected: Record<string, string[]> = {};
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith("__") || !(isInterfaceType(type) || isUnionType(type))) continue;
      expected[type.name] = schema.getPossibleTypes(type).map((t) => t.name).sort();
    }
    const normalized = Object.fromEntries(Object.entries(shipped.possibleTypes).map(([k, v]) => [k, [...v].sort()]));
    expect(normalized).toEqual(expected);
    expect(expected.Error).toContain("NotFoundError");
  });
});

describe("Relay-safe ids", () => {
  it("gives no error type an `id`, and only Nodes (and the audit log's numbered entries) an ID-typed `id`", () => {
    const schema = getSchema();
    const objects = Object.values(schema.getTypeMap()).filter((t): t is GraphQLObjectType => isObjectType(t) && !t.name.startsWith("__"));
    const errorType = schema.getType("Error");
    expect(isInterfaceType(errorType)).toBe(true);
    const errorsWithId = objects.filter((t) => t.getInterfaces().some((i) => i.name === "Error") && "id" in t.getFields());
    expect(errorsWithId.map((t) => t.name)).toEqual([]);
    const nonNodeIds = objects.filter((t) => {
      const id = t.getFields().id;
      return id && getNamedType(id.type).name === "ID" && !t.getInterfaces().some((i) => i.name === "Node");
    });
    // AuditEntry ids are event-log positions ("1", "2", …): they never equal a base64 global id.
    expect(nonNodeIds.map((t) => t.name)).toEqual(["AuditEntry"]);
  });
});
