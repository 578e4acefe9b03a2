/**
 * Scenario 2: event delivery. N graphql-ws subscribers (one socket each, each its own principal)
 * follow one swarm's events while a driver creates tasks in that swarm at a fixed rate. Reports deliveries/s, latency from the
 * event's time (its writer's transaction time, stamped by PostgreSQL) to each client, and the
 * delivered count (which must be all). The peer: a minimal graphql-ws server (graphql-js schema,
 * an in-process emitter, no database) pushing the same number of messages to the same number of
 * clients at the same rate — the cost of the transport itself.
 *
 * Latency has two bounds, since PostgreSQL does not stamp commit times by default: from the event's
 * time (its writer's transaction start, so the writer's own queueing counts: an upper bound), and
 * from the writer's acknowledgement (after its commit: a lower bound, 0 when the event came first).
 */
import { EventEmitter, on, once } from "node:events";
import http from "node:http";
import { performance } from "node:perf_hooks";
import { GraphQLObjectType, GraphQLSchema, GraphQLString, print } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import { CreateSwarmDocument, CreateTaskDocument, SetQuotaDocument, SwarmEventTimesDocument } from "../test/generated/graphql.ts";
import type { Client as WsClient } from "graphql-ws";
import { expectType, wsClient } from "../test/support/client.ts";
import type { TestServer } from "../test/support/server.ts";
import { percentile, record, type Result } from "./support.ts";

export interface DeliveryLoad {
  subscribers: number;
  eventsPerSecond: number;
  seconds: number;
}

export async function swarmgraphDelivery(server: TestServer, load: DeliveryLoad): Promise<Result> {
  const workspace = `deliver-${load.subscribers}-${load.eventsPerSecond}`;
  const api = server.client({ workspace });
  expectType((await api.request(SetQuotaDocument, { resource: "subscriptions", limit: load.subscribers + 10 })).setQuota, "SetQuotaPayload");
  const swarmId = expectType((await api.request(CreateSwarmDocument, { input: { name: "delivery", objective: "bench event delivery", topology: "MESH" } })).createSwarm, "CreateSwarmPayload").swarm.id;
  const clients = Array.from({ length: load.subscribers }, (_, i) => wsClient(server.wsUrl, server.token({ workspace, subject: `watcher-${i}`, scopes: ["swarms:read"] })));
  try {
    const total = load.eventsPerSecond * load.seconds;
    // Arrivals before the acknowledgement wait for it, and count 0.
    const acknowledged = new Map<string, number>();
    const arrivals: { taskId: string; at: number }[] = [];
    const followers = follow(clients, print(SwarmEventTimesDocument), { swarmId, after: null }, total, (data) => {
      const event = (data as { swarmEvents: { taskId: string; at: string } }).swarmEvents;
      arrivals.push({ taskId: event.taskId, at: Date.now() });
      return event.at;
    });
    while (server.events.limiter.total < load.subscribers) await new Promise((resolve) => setTimeout(resolve, 20));
    const seconds = await drive(load, (i) => {
      void api.request(CreateTaskDocument, { input: { description: `d${i}`, type: "deliver", swarmId } }).then((r) => acknowledged.set(expectType(r.createTask, "CreateTaskPayload").task.id, Date.now()));
    }, followers.done);
    while (acknowledged.size < total) await new Promise((resolve) => setTimeout(resolve, 10));
    const afterAck = arrivals.map((arrival) => Math.max(0, arrival.at - acknowledged.get(arrival.taskId)!)).sort((a, b) => a - b);
    const result = summary("swarmgraph", load, followers.latencies, seconds);
    result.extra = { ...result.extra, afterAckP50ms: percentile(afterAck, 50), afterAckP99ms: percentile(afterAck, 99) };
    return record(result);
  } finally {
    await Promise.all(clients.map((client) => client.dispose()));
  }
}

export async function minimalDelivery(load: DeliveryLoad): Promise<Result> {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const Tick = new GraphQLObjectType({ name: "Tick", fields: { at: { type: GraphQLString } } });
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: "Query", fields: { ok: { type: GraphQLString, resolve: () => "ok" } } }),
    subscription: new GraphQLObjectType({
      name: "Subscription",
      fields: {
        ticks: {
          type: Tick,
          subscribe: async function* () {
            for await (const [at] of on(emitter, "tick")) yield { ticks: { at } };
          },
        },
      },
    }),
  });
  const httpServer = http.createServer();
  const wss = new WebSocketServer({ server: httpServer, path: "/graphql" });
  const cleanup = useServer({ schema }, wss);
  httpServer.listen(0);
  await once(httpServer, "listening");
  const url = `ws://127.0.0.1:${(httpServer.address() as { port: number }).port}/graphql`;
  const clients = Array.from({ length: load.subscribers }, () => wsClient(url));
  try {
    const total = load.eventsPerSecond * load.seconds;
    const followers = follow(clients, "subscription { ticks { at } }", {}, total, (data) => (data as { ticks: { at: string } }).ticks.at);
    while (emitter.listenerCount("tick") < load.subscribers) await new Promise((resolve) => setTimeout(resolve, 20));
    const seconds = await drive(load, () => emitter.emit("tick", new Date().toISOString()), followers.done);
    return record(summary("minimal graphql-ws server", load, followers.latencies, seconds));
  } finally {
    await Promise.all(clients.map((client) => client.dispose()));
    await cleanup.dispose();
    httpServer.close();
  }
}

/**
 * Subscribes every client until each has `total` events. `timeOf` gives an event's origin time;
 * the ms from it to the arrival go into `latencies` (null: the caller measures itself).
 */
function follow(clients: WsClient[], query: string, variables: Record<string, unknown>, total: number, timeOf: (data: unknown) => string | null) {
  const latencies: number[] = [];
  const done = Promise.all(
    clients.map(
      (client) =>
        new Promise<void>((resolve, reject) => {
          let seen = 0;
          client.subscribe({ query, variables }, {
            next: ({ data }) => {
              const origin = timeOf(data);
              if (origin !== null) latencies.push(Date.now() - Date.parse(origin));
              if (++seen === total) resolve();
            },
            error: reject,
            complete: () => (seen === total ? resolve() : reject(new Error(`subscription ended after ${seen} of ${total} events`))),
          });
        }),
    ),
  ).then(() => undefined);
  return { latencies, done };
}

/** Causes `eventsPerSecond × seconds` events on schedule; returns the seconds until every client had them all. */
async function drive(load: DeliveryLoad, cause: (i: number) => void, delivered: Promise<void>): Promise<number> {
  const total = load.eventsPerSecond * load.seconds;
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const wait = start + (i * 1000) / load.eventsPerSecond - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    cause(i);
  }
  await delivered;
  return (performance.now() - start) / 1000;
}

function summary(who: string, load: DeliveryLoad, latencies: number[], seconds: number): Result {
  const sorted = [...latencies].sort((a, b) => a - b);
  const expected = load.subscribers * load.eventsPerSecond * load.seconds;
  return {
    group: "event delivery",
    scenario: `${who}, ${load.subscribers} subscribers, ${load.eventsPerSecond} events/s`,
    ops: latencies.length,
    seconds,
    extra: { delivered: `${latencies.length}/${expected}`, p50ms: percentile(sorted, 50), p95ms: percentile(sorted, 95), p99ms: percentile(sorted, 99), maxms: sorted.at(-1) ?? Number.NaN },
  };
}
