/**
 * Live subscriptions over graphql-ws and SSE: replay after a cursor then live, with no gap and
 * no duplicate; token expiry (4401); workspace and scope isolation; expired cursors; the
 * per-principal limit; delivery across replicas.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { deleteEventsBefore } from "../src/events/eventLog.ts";
import { BroadcastToSwarmDocument, CreateSwarmDocument, CreateTaskDocument, CreateTasksDocument, QuotaUsageDocument, SetQuotaDocument, SwarmEventsDocument, TaskEventsDocument, AgentEventsDocument, ConflictEventsDocument, FindingEventsDocument, PostFindingDocument, QuotaEventsDocument, TaskProgressDocument, ClaimNextTaskDocument, ReportProgressDocument, CompleteTaskDocument, RegisterAgentDocument, PauseAgentDocument } from "./generated/graphql.ts";
import { collect, expectType, wsClient } from "./support/client.ts";
import { onPostgres } from "./support/database.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

const createTask = async (s: TestServer, description: string, workspace = "ws-a") =>
  expectType((await s.client({ workspace }).request(CreateTaskDocument, { input: { description, type: "sub-test" } })).createTask, "CreateTaskPayload").task;

describe("replay after a cursor, then live", () => {
  it("delivers exactly the 100 events missed while disconnected, in order, then live ones", async () => {
    const first = wsClient(server.wsUrl, server.token());
    // `after: "0"` replays this workspace's log from its start: no race with the subscription's set-up.
    const live = collect(first, TaskEventsDocument, { filter: { types: ["task.created"] }, after: "0" });
    // A subscription is live once it has been set up; the first event proves it.
    const seed = await createTask(server, "before the disconnect");
    const [received] = await live.waitFor(1);
    expect(received!.taskEvents.taskId).toBe(seed.id);
    const cursor = received!.taskEvents.cursor;
    await first.dispose();

    const missed: string[] = [];
    const batch = await server.client().request(CreateTasksDocument, {
      input: { tasks: Array.from({ length: 100 }, (_, i) => ({ description: `missed ${i}`, type: "sub-test" })) },
    });
    missed.push(...expectType(batch.createTasks, "CreateTasksPayload").tasks.map((t) => t.id));

    const second = wsClient(server.wsUrl, server.token());
    try {
      const resumed = collect(second, TaskEventsDocument, { filter: { types: ["task.created"] }, after: cursor });
      const replayed = await resumed.waitFor(100);
      expect(replayed.map((e) => e.taskEvents.taskId)).toEqual(missed);
      const cursors = replayed.map((e) => BigInt(e.taskEvents.cursor));
      expect(cursors.every((c, i) => c > (i === 0 ? BigInt(cursor) : cursors[i - 1]!))).toBe(true);
      expect(replayed[0]!.taskEvents).toMatchObject({ type: "task.created", status: "PENDING", actor: "test", task: { description: "missed 0" } });

      const after = await createTask(server, "live again");
      const all = await resumed.waitFor(101);
      expect(all[100]!.taskEvents.taskId).toBe(after.id);
      await server.events.tailer.drain();
      expect(resumed.events).toHaveLength(101);
      expect(resumed.errors).toEqual([]);
    } finally {
      await second.dispose();
    }
  });

  it("answers EVENTS_EXPIRED for a cursor older than the retained events", async () => {
    // Its own server: the purge below empties the whole log.
    const own = await startTestServer();
    const a = await createTask(own, "soon expired");
    const client = wsClient(own.wsUrl, own.token());
    try {
      const probe = collect(client, TaskEventsDocument, { filter: { taskIds: [a.id] }, after: "0" });
      const [event] = await probe.waitFor(1);
      probe.stop();
      const cursor = event!.taskEvents.cursor;
      await deleteEventsBefore(own.db.prisma, new Date(Date.now() + 60_000));
      await createTask(own, "after the purge");
      const stale = collect(client, TaskEventsDocument, { after: String(BigInt(cursor) - 1n) });
      await stale.ended;
      expect(stale.errors).toMatchObject([{ extensions: { code: "EVENTS_EXPIRED" } }]);
    } finally {
      await client.dispose();
      await own.stop();
    }
  });
});

describe("authentication and isolation", () => {
  it("closes the socket with 4401 when the token expires", async () => {
    let closedWith: number | undefined;
    const client = wsClient(server.wsUrl, server.token({ ttl: 2 }), (event) => (closedWith = event.code));
    const sub = collect(client, TaskEventsDocument, {});
    await sub.ended;
    await client.dispose();
    expect(closedWith).toBe(4401);
  });

  it("never delivers another workspace's events, nor events its scopes do not allow", async () => {
    const client = wsClient(server.wsUrl, server.token({ workspace: "ws-b", scopes: ["tasks:read"] }));
    const noScope = wsClient(server.wsUrl, server.token({ workspace: "ws-b", scopes: ["agents:read"] }));
    try {
      const mine = collect(client, TaskEventsDocument, { after: "0" });
      const forbidden = collect(noScope, TaskEventsDocument, {});
      await forbidden.ended;
      expect(forbidden.errors).toMatchObject([{ extensions: { code: "FORBIDDEN", requiredScopes: ["tasks:read"] } }]);
      await createTask(server, "ws-a secret", "ws-a");
      const own = await createTask(server, "ws-b task", "ws-b");
      await mine.waitFor(1);
      await server.events.tailer.drain();
      expect(mine.events.map((e) => e.taskEvents.taskId)).toEqual([own.id]);
    } finally {
      await client.dispose();
      await noScope.dispose();
    }
  });
});

describe("agent, finding, conflict and quota events", () => {
  it("pushes each topic's events to its field, filtered, with the entity to select from", async () => {
    const workspace = "topics-ws";
    const api = server.client({ workspace });
    const client = wsClient(server.wsUrl, server.token({ workspace }));
    try {
      const agents = collect(client, AgentEventsDocument, { after: "0" });
      const findings = collect(client, FindingEventsDocument, { filter: { types: ["finding.posted"] }, after: "0" });
      const escalations = collect(client, ConflictEventsDocument, { filter: { escalationRecommended: true }, after: "0" });
      const refusals = collect(client, QuotaEventsDocument, { filter: { types: ["quota.refused"] }, after: "0" });

      const agent = expectType((await api.request(RegisterAgentDocument, { input: { name: "watched", type: "w" } })).registerAgent, "RegisterAgentPayload").agent;
      await api.request(PauseAgentDocument, { id: agent.id });
      const post = (position: string, confidence: number) =>
        api.request(PostFindingDocument, { input: { claim: `Redis persistence should use ${position}`, subject: "redis persistence", position, confidence } });
      await post("aof", 0.92);
      await post("rdb", 0.57);
      await api.request(SetQuotaDocument, { resource: "agents", limit: 1 });
      expectType((await api.request(RegisterAgentDocument, { input: { name: "refused", type: "w" } })).registerAgent, "QuotaExceededError");

      const agentEvents = await agents.waitFor(2);
      expect(agentEvents.slice(0, 2).map((e) => [e.agentEvents.type, e.agentEvents.toStatus, e.agentEvents.agent?.name])).toEqual([
        ["agent.registered", null, "watched"],
        ["agent.paused", "PAUSED", "watched"],
      ]);
      const posted = await findings.waitFor(2);
      expect(posted.map((e) => [e.findingEvents.type, e.findingEvents.finding?.position])).toEqual([
        ["finding.posted", "aof"],
        ["finding.posted", "rdb"],
      ]);
      const [detected] = await escalations.waitFor(1);
      expect(detected!.conflictEvents).toMatchObject({ type: "conflict.detected", escalationRecommended: true, conflict: { confidenceDelta: 0.35, status: "OPEN" } });
      const [refused] = await refusals.waitFor(1);
      expect(refused!.quotaEvents).toMatchObject({ type: "quota.refused", resource: "agents", quota: { resource: "agents", limit: 1 } });
      expect(refusals.events).toHaveLength(1);
    } finally {
      await client.dispose();
    }
  });
});

describe("taskProgress", () => {
  it("follows one task from creation to completion, progress and partial results included, and nothing else", async () => {
    const workspace = "progress-ws";
    const api = server.client({ workspace });
    const client = wsClient(server.wsUrl, server.token({ workspace }));
    try {
      const watched = await createTask(server, "watched", workspace);
      await createTask(server, "ignored", workspace);
      const progress = collect(client, TaskProgressDocument, { taskId: watched.id, after: "0" });
      const agent = expectType((await api.request(RegisterAgentDocument, { input: { name: "p", type: "w" } })).registerAgent, "RegisterAgentPayload").agent;
      const claim = expectType((await api.request(ClaimNextTaskDocument, { agentId: agent.id })).claimNextTask, "ClaimNextTaskPayload");
      const other = claim.task!.id === watched.id ? null : claim;
      const mine = other ? expectType((await api.request(ClaimNextTaskDocument, { agentId: agent.id })).claimNextTask, "ClaimNextTaskPayload") : claim;
      expect(mine.task!.id).toBe(watched.id);
      await api.request(ReportProgressDocument, { taskId: watched.id, leaseToken: mine.leaseToken!, progress: 0.4, partialResult: { files: 2 } });
      await api.request(CompleteTaskDocument, { taskId: watched.id, leaseToken: mine.leaseToken! });
      const events = await progress.waitFor(4);
      expect(events.map((e) => e.taskProgress.type)).toEqual(["task.created", "task.claimed", "task.progress", "task.completed"]);
      expect(events.every((e) => e.taskProgress.taskId === watched.id)).toBe(true);
      expect(events[2]!.taskProgress).toMatchObject({ progress: 0.4, partialResult: { files: 2 } });
      expect(events[3]!.taskProgress.status).toBe("COMPLETED");
    } finally {
      await client.dispose();
    }
  });
});

describe("limits and transports", () => {
  it("refuses subscriptions over the workspace's `subscriptions` quota with QUOTA_EXCEEDED, and counts open ones in quotaUsage", async () => {
    const admin = server.client({ workspace: "sub-quota" });
    expectType((await admin.request(SetQuotaDocument, { resource: "subscriptions", limit: 1 })).setQuota, "SetQuotaPayload");
    const alice = wsClient(server.wsUrl, server.token({ workspace: "sub-quota", subject: "alice" }));
    const bob = wsClient(server.wsUrl, server.token({ workspace: "sub-quota", subject: "bob" }));
    try {
      const first = collect(alice, TaskEventsDocument, { after: "0" });
      await createTask(server, "opens the first subscription", "sub-quota");
      await first.waitFor(1);
      expect((await admin.request(QuotaUsageDocument, { resources: ["subscriptions"] })).quotaUsage[0]).toMatchObject({ limit: 1, allocated: 1, available: 0 });
      const second = collect(bob, TaskEventsDocument, {});
      await second.ended;
      expect(second.errors).toMatchObject([{ extensions: { code: "QUOTA_EXCEEDED", resource: "subscriptions", limit: 1, inUse: 1 } }]);
      first.stop();
      await expect.poll(async () => (await admin.request(QuotaUsageDocument, { resources: ["subscriptions"] })).quotaUsage[0]!.allocated, { timeout: 30_000 }).toBe(0);
      await server.events.tailer.settle();
      const refusals = await server.db.prisma.event.count({ where: { workspaceId: "sub-quota", type: "quota.refused" } });
      expect(refusals).toBe(1);
    } finally {
      await alice.dispose();
      await bob.dispose();
    }
  });

  it("refuses more than MAX_SUBSCRIPTIONS_PER_PRINCIPAL open subscriptions with SUBSCRIPTION_LIMIT", async () => {
    const limited = await startTestServer({ config: { maxSubscriptionsPerPrincipal: 2 } });
    const client = wsClient(limited.wsUrl, limited.token({ subject: "greedy" }));
    try {
      // Sent together, they are admitted in whatever order their checks finish: any one is refused.
      const subs = [1, 2, 3].map(() => collect(client, TaskEventsDocument, {}));
      const refused = await Promise.race(subs.map((sub) => sub.ended.then(() => sub)));
      expect(refused.errors).toMatchObject([{ extensions: { code: "SUBSCRIPTION_LIMIT", limit: 2 } }]);
      const [one, two] = subs.filter((sub) => sub !== refused) as [(typeof subs)[number], (typeof subs)[number]];
      await vi.waitFor(() => expect(limited.events.limiter.total).toBe(2));
      // A slot is taken before the quota check; both are live once an event reaches them.
      await createTask(limited, "reaches both");
      await Promise.all([one.waitFor(1), two.waitFor(1)]);
      one.stop();
      const other = wsClient(limited.wsUrl, limited.token({ subject: "someone-else" }));
      const fourth = collect(client, TaskEventsDocument, { after: "0" });
      const elsewhere = collect(other, TaskEventsDocument, { after: "0" });
      await createTask(limited, "counted");
      await fourth.waitFor(1);
      await elsewhere.waitFor(1);
      expect(two.errors).toEqual([]);
      await other.dispose();
    } finally {
      await client.dispose();
      await limited.stop();
    }
  });

  it("delivers over GraphQL over SSE with the Authorization header", async () => {
    const controller = new AbortController();
    const response = await fetch(server.url, {
      method: "POST",
      signal: controller.signal,
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${server.token({ workspace: "ws-sse" })}` },
      body: JSON.stringify({ query: "subscription { taskEvents { type task { description } } }" }),
    });
    expect(response.headers.get("content-type")).toMatch(/text\/event-stream/);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    // Yoga has the subscription open once the response started; the task below is live.
    await createTask(server, "over SSE", "ws-sse");
    let text = "";
    while (!text.includes("over SSE")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    controller.abort();
    expect(text).toContain('"taskEvents":{"type":"task.created","task":{"description":"over SSE"}}');
  });

  it("delivers swarm broadcasts and the swarm's task progress to swarmEvents", async () => {
    const api = server.client({ workspace: "ws-swarm" });
    const swarm = expectType((await api.request(CreateSwarmDocument, { input: { name: "s", objective: "o", topology: "MESH" } })).createSwarm, "CreateSwarmPayload").swarm;
    const client = wsClient(server.wsUrl, server.token({ workspace: "ws-swarm" }));
    try {
      const events = collect(client, SwarmEventsDocument, { swarmId: swarm.id, after: "0" });
      await api.request(BroadcastToSwarmDocument, { input: { swarmId: swarm.id, message: "standup in 5", targetRoles: ["WORKER"], priority: "HIGH" } });
      await api.request(CreateTaskDocument, { input: { description: "in the swarm", type: "x", swarmId: swarm.id } });
      await api.request(CreateTaskDocument, { input: { description: "elsewhere", type: "x" } });
      const [created, broadcast, task] = await events.waitFor(3);
      expect(created!.swarmEvents.type).toBe("swarm.created");
      expect(broadcast!.swarmEvents).toMatchObject({ type: "swarm.broadcast", message: "standup in 5", priority: "HIGH", targetRoles: ["WORKER"] });
      expect(task!.swarmEvents.type).toBe("task.created");
      await server.events.tailer.drain();
      expect(events.events).toHaveLength(3);
    } finally {
      await client.dispose();
    }
  });

  it("lets go of every closed subscription", async () => {
    // Sockets and SSE responses close asynchronously on the server side.
    await vi.waitFor(() => {
      expect(server.events.limiter.total).toBe(0);
      expect(server.events.bus.listenerCount).toBe(0);
    }, { timeout: 60_000, interval: 50 });
  });
});

describe(onPostgres ? "replicas: two servers on one PostgreSQL database, nudged through Redis" : "one server on PGlite, nudged through Redis (replicas need PostgreSQL)", () => {
  it("delivers to a subscriber on one server what a mutation on another caused", async () => {
    const redisUrl = "redis://127.0.0.1:6379";
    // Long poll intervals: delivery here comes from the Redis nudge, not from polling.
    const a = await startTestServer({ config: { redisUrl, eventPollIntervalMs: 600_000 } });
    const b = onPostgres ? await startTestServer({ replicaOf: a, config: { redisUrl, eventPollIntervalMs: 600_000 } }) : a;
    const client = wsClient(b.wsUrl, b.token({ workspace: "ws-replica" }));
    try {
      const sub = collect(client, TaskEventsDocument, { after: "0" });
      // Set up first (an empty replay), so the event below arrives live through the nudge.
      while (b.events.limiter.total === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      const created = await createTask(a, "made on A", "ws-replica");
      const [event] = await sub.waitFor(1);
      expect(event!.taskEvents).toMatchObject({ taskId: created.id, task: { description: "made on A" } });
    } finally {
      await client.dispose();
      if (b !== a) await b.stop();
      await a.stop();
    }
  });
});
