/**
 * Subscriptions at their edges: the head cursor and dense positions, fresh nested data on every
 * event, missing and malformed tokens at connection_init, cursors out of range, and the
 * workspace's `subscriptions` quota under a burst of concurrent subscribes.
 */
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  AuditTrailDocument,
  CreateSwarmDocument,
  CreateTaskDocument,
  EventLogHeadDocument,
  JoinSwarmDocument,
  QuotaUsageDocument,
  RegisterAgentDocument,
  SetQuotaDocument,
  SoakTaskEventsDocument,
  SwarmProgressDocument,
  TasksAvailableIdsDocument,
  ClaimNextTaskDocument,
  CompleteTaskDocument,
} from "./generated/graphql.ts";
import { collect, expectType, wsClient } from "./support/client.ts";
import { onPostgres } from "./support/database.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

const createTask = async (workspace: string, description: string, swarmId?: string) =>
  expectType((await server.client({ workspace }).request(CreateTaskDocument, { input: { description, type: "edge", swarmId } })).createTask, "CreateTaskPayload").task;

describe("the head cursor", () => {
  it("eventLogHead is where a subscription starts without gap: the next change is head + 1, and its audit entry has the same number", async () => {
    const api = server.client({ workspace: "head-ws" });
    await createTask("head-ws", "before");
    const head = (await api.request(EventLogHeadDocument)).eventLogHead;
    const client = wsClient(server.wsUrl, server.token({ workspace: "head-ws" }));
    try {
      const live = collect(client, SoakTaskEventsDocument, { after: head });
      const task = await createTask("head-ws", "after");
      const [event] = await live.waitFor(1);
      expect(event!.taskEvents).toMatchObject({ type: "task.created", taskId: task.id, cursor: String(BigInt(head) + 1n) });
      const audit = await api.request(AuditTrailDocument, { first: 1, filter: { entity: task.id } });
      expect(audit.auditTrail.edges[0]!.node.id).toBe(event!.taskEvents.cursor);
      // A change is in the log (and at or below the head) as soon as its mutation has answered.
      expect(BigInt((await api.request(EventLogHeadDocument)).eventLogHead)).toBeGreaterThanOrEqual(BigInt(event!.taskEvents.cursor));
    } finally {
      await client.dispose();
    }
  });

  it("eventLogHead needs a token", async () => {
    const response = await server.client(null).raw(EventLogHeadDocument);
    expect(response.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });
});

describe("fresh data on every event", () => {
  it("swarmEvents shows the swarm's progress and members as they are after each event, not as they were at the first", async () => {
    const workspace = "fresh-ws";
    const api = server.client({ workspace });
    const swarm = expectType((await api.request(CreateSwarmDocument, { input: { name: "fresh", objective: "watch it move", topology: "STAR" } })).createSwarm, "CreateSwarmPayload").swarm;
    const head = (await api.request(EventLogHeadDocument)).eventLogHead;
    const client = wsClient(server.wsUrl, server.token({ workspace }));
    try {
      const feed = collect(client, SwarmProgressDocument, { swarmId: swarm.id, after: head });
      // One change at a time, each awaited on the feed, so "now" at delivery is "just after it".
      const tasks = [];
      for (let n = 1; n <= 3; n++) {
        tasks.push(await createTask(workspace, `fresh ${n}`, swarm.id));
        const events = await feed.waitFor(n);
        expect(events.at(-1)!.swarmEvents.swarm!.taskSummary.total).toBe(n);
      }
      for (let n = 1; n <= 2; n++) {
        const agent = expectType((await api.request(RegisterAgentDocument, { input: { name: `member-${n}`, type: "w" } })).registerAgent, "RegisterAgentPayload").agent;
        expectType((await api.request(JoinSwarmDocument, { swarmId: swarm.id, agentId: agent.id })).joinSwarm, "JoinSwarmPayload");
        const events = await feed.waitFor(3 + n);
        expect(events.at(-1)!.swarmEvents).toMatchObject({ type: "swarm.member_joined", swarm: { agentSummary: { total: n } } });
      }
      const worker = expectType((await api.request(RegisterAgentDocument, { input: { name: "finisher", type: "w" } })).registerAgent, "RegisterAgentPayload").agent;
      const claim = expectType((await api.request(ClaimNextTaskDocument, { agentId: worker.id, types: ["edge"], swarmId: swarm.id })).claimNextTask, "ClaimNextTaskPayload");
      await feed.waitFor(6);
      expectType((await api.request(CompleteTaskDocument, { taskId: claim.task!.id, leaseToken: claim.leaseToken!, result: {} })).completeTask, "CompleteTaskPayload");
      const events = await feed.waitFor(7);
      expect(events.at(-1)!.swarmEvents.type).toBe("task.completed");
      expect(events.at(-1)!.swarmEvents.swarm!.taskSummary.progress).toBeCloseTo(1 / 3, 2);
    } finally {
      await client.dispose();
    }
  });
});

describe("tokens at the edge", () => {
  it("taskEvents and tasksAvailable without a token answer UNAUTHENTICATED over graphql-ws and over SSE", async () => {
    const client = wsClient(server.wsUrl);
    try {
      const events = collect(client, SoakTaskEventsDocument, {});
      const available = collect(client, TasksAvailableIdsDocument, { agentId: "QWdlbnQ6bm9uZQ==" });
      await Promise.all([events.ended, available.ended]);
      for (const sub of [events, available]) expect(sub.errors).toMatchObject([{ extensions: { code: "UNAUTHENTICATED" } }]);
    } finally {
      await client.dispose();
    }
    const response = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ query: "subscription { taskEvents { cursor } }" }),
    });
    const text = await response.text();
    expect(response.status).not.toBe(500);
    expect(text).toContain("UNAUTHENTICATED");
    expect(text).not.toContain("INTERNAL_SERVER_ERROR");
  });

  /** Connects with this connection_init payload; resolves with the close code, or "open" once a query succeeds. */
  async function connectWith(payload: Record<string, unknown>): Promise<{ code: number | "open"; reason?: string }> {
    let closed: { code: number; reason: string } | undefined;
    const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, connectionParams: payload, on: { closed: (e) => (closed ??= e as { code: number; reason: string }) } });
    try {
      await new Promise<void>((resolve) => client.subscribe({ query: "{ eventLogHead }" }, { next: () => undefined, error: () => resolve(), complete: () => resolve() }));
      return closed && closed.code !== 1000 ? { code: closed.code, reason: closed.reason } : { code: "open" };
    } finally {
      await client.dispose();
    }
  }

  it("connection_init: `Bearer <token>` under authorization or Authorization works; a token without Bearer or two different values close 4401 at once", async () => {
    const token = server.token();
    expect(await connectWith({ authorization: `Bearer ${token}` })).toEqual({ code: "open" });
    expect(await connectWith({ Authorization: `Bearer ${token}` })).toEqual({ code: "open" });
    expect(await connectWith({ authorization: `Bearer ${token}`, Authorization: `Bearer ${token}` })).toEqual({ code: "open" });
    expect(await connectWith({ authorization: token })).toMatchObject({ code: 4401, reason: expect.stringContaining("Bearer") });
    expect(await connectWith({ authorization: `Bearer ${token}`, Authorization: `Bearer ${server.token({ subject: "other" })}` })).toMatchObject({ code: 4401, reason: expect.stringContaining("different") });
    expect(await connectWith({ authorization: 42 })).toMatchObject({ code: 4401 });
  });
});

describe("cursors out of range", () => {
  it("answers BAD_USER_INPUT naming `after` for garbage, for a number beyond bigint, and for a cursor ahead of the log", async () => {
    const client = wsClient(server.wsUrl, server.token());
    try {
      const head = BigInt((await server.client().request(EventLogHeadDocument)).eventLogHead);
      for (const after of ["9223372036854775808", "99999999999999999999", "-1", "abc", String(head + 1000n)]) {
        const sub = collect(client, SoakTaskEventsDocument, { after });
        await sub.ended;
        expect(sub.errors, after).toMatchObject([{ extensions: { code: "BAD_USER_INPUT", argument: "after" } }]);
      }
      // The largest valid bigint is well-formed, but ahead of the log.
      const sub = collect(client, SoakTaskEventsDocument, { after: "9223372036854775807" });
      await sub.ended;
      expect(sub.errors).toMatchObject([{ message: expect.stringContaining("ahead of the event log"), extensions: { code: "BAD_USER_INPUT" } }]);
    } finally {
      await client.dispose();
    }
  });
});

describe(`the subscriptions quota under concurrency (${onPostgres ? "PostgreSQL" : "PGlite"})`, () => {
  it("limit 20, 60 concurrent subscribes from 6 subjects: exactly 20 admitted, 40 QUOTA_EXCEEDED, usage 20 of 20", async () => {
    const workspace = "burst-ws";
    const admin = server.client({ workspace, subject: "admin" });
    expectType((await admin.request(SetQuotaDocument, { resource: "subscriptions", limit: 20 })).setQuota, "SetQuotaPayload");
    const clients = Array.from({ length: 6 }, (_, i) => wsClient(server.wsUrl, server.token({ workspace, subject: `burst-${i}` })));
    try {
      const subs = clients.flatMap((client) => Array.from({ length: 10 }, () => collect(client, SoakTaskEventsDocument, { after: "0" })));
      // Every admitted subscription receives the event; every refused one has ended.
      await createTask(workspace, "seen by the admitted");
      await Promise.all(subs.map((sub) => Promise.race([sub.waitFor(1).catch(() => undefined), sub.ended])));
      const admitted = subs.filter((sub) => sub.events.length > 0 && !sub.done);
      const refused = subs.filter((sub) => sub.done);
      expect(admitted).toHaveLength(20);
      expect(refused).toHaveLength(40);
      for (const sub of refused) expect(sub.errors).toMatchObject([{ extensions: { code: "QUOTA_EXCEEDED", resource: "subscriptions", limit: 20 } }]);
      expect((await admin.request(QuotaUsageDocument, { resources: ["subscriptions"] })).quotaUsage[0]).toMatchObject({ limit: 20, allocated: 20, available: 0 });
    } finally {
      await Promise.all(clients.map((c) => c.dispose()));
    }
  });

  if (onPostgres) {
    it("soak: limit 100, 300 subscribes at once over two replicas from 12 subjects → exactly 100 admitted, usage 100 of 100", async () => {
      const workspace = "admission-soak-ws";
      const replica = await startTestServer({ replicaOf: server });
      const admin = server.client({ workspace });
      const clients = Array.from({ length: 12 }, (_, i) => {
        const s = i % 2 === 0 ? server : replica;
        return wsClient(s.wsUrl, s.token({ workspace, subject: `soak-${i}` }));
      });
      try {
        expectType((await admin.request(SetQuotaDocument, { resource: "subscriptions", limit: 100 })).setQuota, "SetQuotaPayload");
        const subs = clients.flatMap((client) => Array.from({ length: 25 }, () => collect(client, SoakTaskEventsDocument, { after: "0" })));
        await createTask(workspace, "seen by the admitted");
        await Promise.all(subs.map((sub) => Promise.race([sub.waitFor(1).catch(() => undefined), sub.ended])));
        expect(subs.filter((sub) => sub.events.length > 0 && !sub.done)).toHaveLength(100);
        const refused = subs.filter((sub) => sub.done);
        expect(refused).toHaveLength(200);
        for (const sub of refused) expect(sub.errors).toMatchObject([{ extensions: { code: "QUOTA_EXCEEDED", resource: "subscriptions", limit: 100 } }]);
        expect((await admin.request(QuotaUsageDocument, { resources: ["subscriptions"] })).quotaUsage[0]).toMatchObject({ limit: 100, allocated: 100 });
      } finally {
        await Promise.all(clients.map((c) => c.dispose()));
        await replica.stop();
      }
    });

    it("counts across replicas: limit 4, 6 subscribes on each of two replicas → 4 admitted in all; a replica that stops gives its places back", async () => {
      const workspace = "replica-quota-ws";
      const replica = await startTestServer({ replicaOf: server });
      const admin = server.client({ workspace });
      const clients = [server, replica].map((s, i) => wsClient(s.wsUrl, s.token({ workspace, subject: `holder-${i}` })));
      try {
        expectType((await admin.request(SetQuotaDocument, { resource: "subscriptions", limit: 4 })).setQuota, "SetQuotaPayload");
        const subs = clients.flatMap((client, i) => Array.from({ length: 6 }, () => ({ on: i, sub: collect(client, SoakTaskEventsDocument, { after: "0" }) })));
        await createTask(workspace, "seen by the admitted");
        await Promise.all(subs.map(({ sub }) => Promise.race([sub.waitFor(1).catch(() => undefined), sub.ended])));
        const admitted = subs.filter(({ sub }) => sub.events.length > 0 && !sub.done);
        expect(admitted).toHaveLength(4);
        expect(subs.filter(({ sub }) => sub.done)).toHaveLength(8);
        for (const s of [server, replica]) {
          expect((await s.client({ workspace }).request(QuotaUsageDocument, { resources: ["subscriptions"] })).quotaUsage[0]).toMatchObject({ limit: 4, allocated: 4 });
        }
        await replica.stop();
        const onFirst = admitted.filter(({ on }) => on === 0).length;
        expect((await admin.request(QuotaUsageDocument, { resources: ["subscriptions"] })).quotaUsage[0]).toMatchObject({ allocated: onFirst });
      } finally {
        await Promise.all(clients.map((c) => c.dispose()));
        await replica.stop();
      }
    });
  }
});
