/**
 * "A client never misses an event", proven under load: W agents claim, start, report progress
 * and complete tasks concurrently (through every replica), while live subscribers with
 * different filters listen on every replica. Afterwards each subscriber's received sequence
 * must equal the log's truth filtered by its filter: nothing missing, nothing twice, in order —
 * including a subscriber that disconnects mid-run and resumes from its cursor on another
 * replica. On PostgreSQL: one server, two replicas with Redis, two replicas without Redis. On
 * PGlite (one process, one connection): the single-server case.
 *
 * Bounded in count (tasks, writers, subscribers) and time (every wait has a limit that only a
 * lost or stalled event would reach).
 */
import { decodeGlobalID, encodeGlobalID } from "@pothos/plugin-relay";
import { afterEach, describe, expect, it } from "vitest";
import {
  ClaimNextTaskDocument,
  CompleteTaskDocument,
  CreateSwarmDocument,
  CreateTaskDocument,
  EventLogHeadDocument,
  RegisterAgentDocument,
  ReportProgressDocument,
  SoakTaskEventsDocument,
  type SoakTaskEventsSubscription,
  StartTaskDocument,
  type TaskEventFilter,
} from "./generated/graphql.ts";
import { type Collector, collect, expectType, wsClient } from "./support/client.ts";
import { onPostgres } from "./support/database.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

const WRITERS = 8;
const TASKS = onPostgres ? 96 : 32;
const REDIS_URL = "redis://127.0.0.1:6379";

type Received = SoakTaskEventsSubscription["taskEvents"];
interface LogEntry {
  cursor: string;
  type: string;
  taskId: string;
}

let running: TestServer[] = [];
afterEach(async () => {
  // Replicas first: the first server owns (and drops) the database.
  for (const server of running.reverse()) await server.stop();
  running = [];
});

async function cluster(replicas: 1 | 2, redis: boolean): Promise<TestServer[]> {
  const config = redis ? { redisUrl: REDIS_URL, eventPollIntervalMs: 600_000 } : { eventPollIntervalMs: 100 };
  const first = await startTestServer({ config });
  running.push(first);
  if (replicas === 2) running.push(await startTestServer({ replicaOf: first, config }));
  return running;
}

/** Compares what a subscriber got with the truth; the counts make a failure readable. */
function difference(received: LogEntry[], truth: LogEntry[]) {
  const key = (e: LogEntry) => `${e.cursor} ${e.type} ${e.taskId}`;
  const got = new Set(received.map(key));
  const want = new Set(truth.map(key));
  const cursors = received.map((e) => BigInt(e.cursor));
  return {
    missing: truth.filter((e) => !got.has(key(e))).length,
    unexpected: received.filter((e) => !want.has(key(e))).length,
    duplicates: received.length - got.size,
    outOfOrder: cursors.filter((c, i) => i > 0 && c <= cursors[i - 1]!).length,
  };
}

const entry = (e: Received): LogEntry => ({ cursor: e.cursor, type: e.type, taskId: e.taskId });

/** Waits for `condition`, at most `limitMs` (a stall detector: the comparison that follows reports what is missing). */
async function waitUntil(condition: () => boolean, limitMs = 60_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
}

async function soak(servers: TestServer[], workspace: string) {
  const api = (i: number) => servers[i % servers.length]!.client({ workspace, subject: `writer-${i}` });
  const swarm = expectType((await api(0).request(CreateSwarmDocument, { input: { name: "soak", objective: "prove delivery", topology: "MESH" } })).createSwarm, "CreateSwarmPayload").swarm;
  const head = (await api(0).request(EventLogHeadDocument)).eventLogHead;

  // Subscribers on every replica, each with its own filter, all starting at the head.
  const filters: { name: string; filter: TaskEventFilter | null; keeps: (e: LogEntry, swarmTasks: Set<string>) => boolean }[] = [
    { name: "all", filter: null, keeps: () => true },
    { name: "outcomes", filter: { types: ["task.progress", "task.completed"] }, keeps: (e) => e.type === "task.progress" || e.type === "task.completed" },
    { name: "swarm", filter: { swarmId: swarm.id }, keeps: (e, swarmTasks) => swarmTasks.has(e.taskId) },
  ];
  const clients: ReturnType<typeof wsClient>[] = [];
  const subscribers: { name: string; server: number; collector: Collector<{ taskEvents: Received }>; keeps: (typeof filters)[number]["keeps"] }[] = [];
  for (const [i, server] of servers.entries()) {
    const client = wsClient(server.wsUrl, server.token({ workspace, subject: `subscriber-${i}` }));
    clients.push(client);
    for (const f of filters) subscribers.push({ name: `${f.name}@${i}`, server: i, keeps: f.keeps, collector: collect(client, SoakTaskEventsDocument, { filter: f.filter, after: head }) });
  }
  // One subscriber that leaves mid-run and resumes from its cursor on the last replica.
  let resumingClient = wsClient(servers[0]!.wsUrl, servers[0]!.token({ workspace, subject: "resumer" }));
  const firstPart = collect(resumingClient, SoakTaskEventsDocument, { filter: null, after: head });

  // Work: tasks created through every replica at once, then W agents looping the hot path.
  await Promise.all(
    Array.from({ length: TASKS }, (_, n) =>
      api(n).request(CreateTaskDocument, { input: { description: `soak ${n}`, type: "soak", swarmId: n % 2 === 0 ? swarm.id : null } }),
    ),
  );
  const agents = await Promise.all(
    Array.from({ length: WRITERS }, async (_, i) => expectType((await api(i).request(RegisterAgentDocument, { input: { name: `soak-${i}`, type: "worker" } })).registerAgent, "RegisterAgentPayload").agent.id),
  );
  let resumed: Collector<{ taskEvents: Received }> | undefined;
  let firstPartEvents: Received[] = [];
  const leaveAndResume = (async () => {
    await firstPart.waitFor(TASKS);
    firstPart.stop();
    firstPartEvents = firstPart.events.map((e) => e.taskEvents);
    await resumingClient.dispose();
    // Away while the writers go on, then back on another replica with the last cursor.
    await subscribers[0]!.collector.waitFor(firstPartEvents.length + TASKS);
    const last = servers.at(-1)!;
    resumingClient = wsClient(last.wsUrl, last.token({ workspace, subject: "resumer" }));
    resumed = collect(resumingClient, SoakTaskEventsDocument, { filter: null, after: firstPartEvents.at(-1)!.cursor });
  })();
  await Promise.all(
    agents.map(async (agentId, i) => {
      const client = api(i);
      for (;;) {
        const claim = expectType((await client.request(ClaimNextTaskDocument, { agentId, types: ["soak"] })).claimNextTask, "ClaimNextTaskPayload");
        if (!claim.task) return;
        const lease = { taskId: claim.task.id, leaseToken: claim.leaseToken! };
        expectType((await client.request(StartTaskDocument, lease)).startTask, "StartTaskPayload");
        expectType((await client.request(ReportProgressDocument, { ...lease, progress: 0.5, partialResult: { by: i } })).reportProgress, "ReportProgressPayload");
        expectType((await client.request(CompleteTaskDocument, { ...lease, result: { by: i } })).completeTask, "CompleteTaskPayload");
      }
    }),
  );
  await leaveAndResume;

  // The truth: the log itself, after every commit has its position.
  await servers[0]!.events.tailer.settle();
  const rows = await servers[0]!.db.prisma.event.findMany({ where: { workspaceId: workspace, topic: "task", id: { gt: BigInt(head) } }, orderBy: { id: "asc" } });
  const truth: LogEntry[] = rows.map((r) => ({ cursor: String(r.id), type: r.type, taskId: encodeGlobalID("Task", r.entityId) }));
  const swarmTasks = new Set(
    (await servers[0]!.db.prisma.task.findMany({ where: { workspaceId: workspace, swarmId: decodeGlobalID(swarm.id).id }, select: { id: true } })).map((t) => encodeGlobalID("Task", t.id)),
  );
  expect(truth.length).toBe(TASKS * 5); // created, claimed, started, progress, completed

  for (const s of subscribers) {
    const expected = truth.filter((e) => s.keeps(e, swarmTasks));
    await waitUntil(() => s.collector.events.length >= expected.length);
    const got = s.collector.events.map((e) => entry(e.taskEvents));
    expect({ subscriber: s.name, errors: s.collector.errors, ...difference(got, expected) }).toEqual({ subscriber: s.name, errors: [], missing: 0, unexpected: 0, duplicates: 0, outOfOrder: 0 });
    expect(got).toEqual(expected);
  }
  await waitUntil(() => firstPartEvents.length + (resumed?.events.length ?? 0) >= truth.length);
  const resumedAll = [...firstPartEvents, ...(resumed?.events.map((e) => e.taskEvents) ?? [])].map(entry);
  expect({ subscriber: "resumer", ...difference(resumedAll, truth) }).toEqual({ subscriber: "resumer", missing: 0, unexpected: 0, duplicates: 0, outOfOrder: 0 });
  expect(resumedAll).toEqual(truth);
  expect(firstPartEvents.length).toBeGreaterThan(0);
  expect(resumed!.events.length).toBeGreaterThan(0);

  await Promise.all([...clients, resumingClient].map((c) => c.dispose()));
}

describe(`no event is lost under concurrent writers (${onPostgres ? "PostgreSQL" : "PGlite"})`, () => {
  it(`one server: ${WRITERS} writers, ${TASKS} tasks, subscribers with three filters and one that resumes`, async () => {
    await soak(await cluster(1, false), "soak-one");
  });

  // Replicas share a PostgreSQL database; PGlite belongs to one process.
  if (onPostgres) {
    it("two replicas with Redis: every subscriber on either replica gets every event of both", async () => {
      await soak(await cluster(2, true), "soak-redis");
    });

    it("two replicas without Redis (polling): the same", async () => {
      await soak(await cluster(2, false), "soak-poll");
    });
  }
});
