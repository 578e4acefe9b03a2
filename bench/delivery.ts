/**
 * Scenario 2: event delivery, with the server in a process of its own and its subscribers (one
 * graphql-ws socket each, each its own principal) in the bench's process. Two audiences:
 * - "swarm": every subscriber follows one swarm's events (`swarmEvents`) while a driver creates
 *   tasks in that swarm at a fixed rate, so each event goes to every subscriber;
 * - "task": each subscriber follows its own task's progress (`taskProgress`) while a driver
 *   reports progress on the tasks in turn at a fixed rate, so each event goes to one subscriber.
 *
 * Reports deliveries/s, latency from the event's time to its arrival at the client, and the
 * delivered count (which must be all). The event's time is its writer's transaction time, stamped
 * by PostgreSQL (the transaction's start, so the writer's own queueing counts: an upper bound).
 *
 * The peer: a minimal graphql-ws server (bench/minimalServer.ts: graphql-js, an in-process
 * emitter, no database), also in a process of its own, pushing a tick stamped with its time to
 * the same number of clients with the same audience, caused by the same driver over HTTP: the
 * cost of the transport itself.
 *
 * Progress is reported as a worker holding many tasks reports it: `batch` reports per request
 * (reportProgresses), each still its own event to its own subscriber; the peer gets the same
 * number of ticks per request.
 *
 * The driver keeps at most MAX_IN_FLIGHT requests open: when the server cannot keep up with the
 * rate, the schedule slips and the rate it reached is reported (`causedPerSecond`), instead of
 * thousands of requests queueing in sockets.
 */
import { performance } from "node:perf_hooks";
import { print } from "graphql";
import type { Client as WsClient } from "graphql-ws";
import { ClaimNextTasksDocument, CreateSwarmDocument, CreateTaskDocument, ReportProgressesDocument, SetQuotaDocument, SwarmEventTimesDocument, TaskProgressTimesDocument } from "../test/generated/graphql.ts";
import { expectType, wsClient } from "../test/support/client.ts";
import type { BenchServer, MinimalServer } from "./serverProcess.ts";
import { createTasks, percentile, record, registerAgents, type Result } from "./support.ts";

export interface DeliveryLoad {
  subscribers: number;
  eventsPerSecond: number;
  seconds: number;
  /** Events caused per request (progress reports of one reportProgresses); 1 when absent. */
  batch?: number;
}

/** Who follows what: every subscriber the same swarm, or each its own task. */
export type Audience = "swarm" | "task";

const MAX_IN_FLIGHT = 32;
/** Subscriptions opened at once, so that thousands of sockets do not all knock at the same moment. */
const OPEN_AT_ONCE = 250;
/** How long the last deliveries may take after the last event was caused. */
const DRAIN_MS = 120_000;

/** The scenario's name in the report. */
export function deliveryScenario(who: string, audience: Audience, load: DeliveryLoad): string {
  return audience === "swarm"
    ? `${who}, ${load.subscribers} subscribers on one swarm, ${load.eventsPerSecond} events/s`
    : `${who}, ${load.subscribers} subscribers each on its own task, ${load.eventsPerSecond} progress reports/s${(load.batch ?? 1) > 1 ? `, ${load.batch} per request` : ""}`;
}

/** What one side of the comparison provides to the measurement. */
interface Target {
  wsUrl: string;
  token(i: number): string | undefined;
  query: string;
  variables(i: number): Record<string, unknown>;
  /** The event's origin time (ISO) in a delivered message. */
  timeOf(data: unknown): string;
  openSubscriptions(): Promise<number>;
  /** Causes the events numbered `events` in one request; resolves when the server acknowledged it. */
  cause(events: number[]): Promise<void>;
}

export async function swarmgraphDelivery(server: BenchServer, audience: Audience, load: DeliveryLoad): Promise<Result> {
  const workspace = `deliver-${audience}`;
  const api = server.client({ workspace });
  expectType((await api.request(SetQuotaDocument, { resource: "subscriptions", limit: load.subscribers + 10 })).setQuota, "SetQuotaPayload");
  const common = {
    wsUrl: server.wsUrl,
    openSubscriptions: () => server.metric("swarmgraph_open_subscriptions"),
  };
  if (audience === "swarm") {
    const swarmId = expectType((await api.request(CreateSwarmDocument, { input: { name: "delivery", objective: "bench event delivery", topology: "MESH" } })).createSwarm, "CreateSwarmPayload").swarm.id;
    return measure("swarmgraph", audience, load, {
      ...common,
      token: (i) => server.token({ workspace, subject: `watcher-${i}`, scopes: ["swarms:read"] }),
      query: print(SwarmEventTimesDocument),
      variables: () => ({ swarmId }),
      timeOf: (data) => (data as { swarmEvents: { at: string } }).swarmEvents.at,
      cause: async ([i]) => {
        expectType((await api.request(CreateTaskDocument, { input: { description: `d${i}`, type: "deliver", swarmId } })).createTask, "CreateTaskPayload");
      },
    });
  }
  // One task per subscriber, each claimed (progress comes from its holder).
  expectType((await api.request(SetQuotaDocument, { resource: "tasks.running", limit: load.subscribers + 10 })).setQuota, "SetQuotaPayload");
  await createTasks(api, "progress", load.subscribers);
  const held: { taskId: string; leaseToken: string }[] = [];
  for (const agentId of await registerAgents(api, "reporter", Math.ceil(load.subscribers / 100))) {
    const claims = expectType((await api.request(ClaimNextTasksDocument, { agentId, max: 100, types: ["progress"] })).claimNextTasks, "ClaimNextTasksPayload").claims;
    for (const claim of claims) held.push({ taskId: claim.task.id, leaseToken: claim.leaseToken });
  }
  if (held.length !== load.subscribers) throw new Error(`claimed ${held.length} of ${load.subscribers} tasks`);
  return measure("swarmgraph", audience, load, {
    ...common,
    token: (i) => server.token({ workspace, subject: `watcher-${i}`, scopes: ["tasks:read"] }),
    query: print(TaskProgressTimesDocument),
    variables: (i) => ({ taskId: held[i]!.taskId }),
    timeOf: (data) => (data as { taskProgress: { at: string } }).taskProgress.at,
    cause: async (events) => {
      const reports = events.map((i) => ({ ...held[i % held.length]!, progress: Math.min(1, (Math.floor(i / held.length) + 1) / 1000) }));
      const outcomes = expectType((await api.request(ReportProgressesDocument, { reports })).reportProgresses, "ReportProgressesPayload").outcomes;
      for (const outcome of outcomes) expectType(outcome, "Task");
    },
  });
}

export function minimalDelivery(server: MinimalServer, audience: Audience, load: DeliveryLoad): Promise<Result> {
  const keyOf = (i: number) => (audience === "swarm" ? "swarm" : `task-${i % load.subscribers}`);
  return measure("minimal graphql-ws server", audience, load, {
    wsUrl: server.wsUrl,
    token: () => undefined,
    query: "subscription ($key: String!) { ticks(key: $key) { key at } }",
    variables: (i) => ({ key: keyOf(i) }),
    timeOf: (data) => (data as { ticks: { at: string } }).ticks.at,
    openSubscriptions: () => server.subscribers(),
    cause: (events) => server.tick(events.map(keyOf)),
  });
}

async function measure(who: string, audience: Audience, load: DeliveryLoad, target: Target): Promise<Result> {
  const total = load.eventsPerSecond * load.seconds;
  // Every subscriber gets every event of a swarm; subscriber k gets events k, k + n, k + 2n… of tasks.
  const expectedBy = (k: number) => (audience === "swarm" ? total : Math.floor(total / load.subscribers) + (k < total % load.subscribers ? 1 : 0));
  const expected = Array.from({ length: load.subscribers }, (_, k) => expectedBy(k)).reduce((a, b) => a + b, 0);
  const latencies: number[] = [];
  const clients: WsClient[] = [];
  const arrivals: Promise<void>[] = [];
  try {
    const opened = performance.now();
    for (let k = 0; k < load.subscribers; k += OPEN_AT_ONCE) {
      for (let j = k; j < Math.min(load.subscribers, k + OPEN_AT_ONCE); j++) {
        const client = wsClient(target.wsUrl, target.token(j));
        clients.push(client);
        arrivals.push(follow(client, target.query, target.variables(j), expectedBy(j), (data) => latencies.push(Date.now() - Date.parse(target.timeOf(data)))));
      }
      while ((await target.openSubscriptions()) < clients.length) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const openSeconds = (performance.now() - opened) / 1000;
    const delivered = Promise.all(arrivals);
    const { seconds, causedPerSecond } = await drive(load, target.cause, delivered, () => `${latencies.length} of ${expected} delivered`);
    const sorted = latencies.sort((a, b) => a - b);
    return record({
      group: "event delivery",
      scenario: deliveryScenario(who, audience, load),
      ops: latencies.length,
      seconds,
      extra: {
        delivered: `${latencies.length}/${expected}`,
        causedPerSecond: Math.round(causedPerSecond),
        p50ms: percentile(sorted, 50),
        p95ms: percentile(sorted, 95),
        p99ms: percentile(sorted, 99),
        maxms: sorted.at(-1) ?? Number.NaN,
        subscribeSeconds: Number(openSeconds.toFixed(1)),
      },
    });
  } finally {
    await Promise.all(clients.map((client) => client.dispose()));
  }
}

/** Subscribes one client; resolves once it received `count` events. */
function follow(client: WsClient, query: string, variables: Record<string, unknown>, count: number, arrived: (data: unknown) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let seen = 0;
    if (count === 0) resolve();
    client.subscribe({ query, variables }, {
      next: ({ data, errors }) => {
        if (errors?.length) return reject(new Error(`subscription error: ${JSON.stringify(errors)}`));
        arrived(data);
        if (++seen === count) resolve();
      },
      error: reject,
      complete: () => (seen >= count ? resolve() : reject(new Error(`subscription ended after ${seen} of ${count} events`))),
    });
  });
}

/**
 * Causes `eventsPerSecond × seconds` events on schedule, `batch` per request and at most
 * MAX_IN_FLIGHT requests at a time; returns the seconds until every client had them all, and the
 * rate the events were acknowledged at.
 */
async function drive(load: DeliveryLoad, cause: (events: number[]) => Promise<void>, delivered: Promise<unknown>, progress: () => string): Promise<{ seconds: number; causedPerSecond: number }> {
  const total = load.eventsPerSecond * load.seconds;
  const start = performance.now();
  let inFlight = 0;
  let slotFreed: (() => void) | undefined;
  let failure: unknown;
  const acknowledged: Promise<void>[] = [];
  const batch = load.batch ?? 1;
  for (let i = 0; i < total && failure === undefined; i += batch) {
    const wait = start + (i * 1000) / load.eventsPerSecond - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    while (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((resolve) => (slotFreed = resolve));
    inFlight++;
    acknowledged.push(
      cause(Array.from({ length: Math.min(batch, total - i) }, (_, j) => i + j)).then(
        () => {
          inFlight--;
          slotFreed?.();
        },
        (error: unknown) => {
          failure ??= error;
          inFlight--;
          slotFreed?.();
        },
      ),
    );
  }
  await Promise.all(acknowledged);
  if (failure !== undefined) throw failure;
  const causedPerSecond = total / ((performance.now() - start) / 1000);
  let timer: NodeJS.Timeout | undefined;
  const drained = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`deliveries not complete ${DRAIN_MS / 1000} s after the last event: ${progress()}`)), DRAIN_MS)));
  try {
    await Promise.race([delivered, drained]);
  } finally {
    clearTimeout(timer);
  }
  return { seconds: (performance.now() - start) / 1000, causedPerSecond };
}
