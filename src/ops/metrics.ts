/**
 * Prometheus metrics: Yoga's Prometheus plugin (requests, durations and errors by operation and
 * phase) plus swarmgraph's own series, on one registry per server (tests run several servers in
 * one process). Gauges that describe the database (queue depth, quotas, tailer lag) are read at
 * scrape time, so they are right whichever replica made the change.
 */
import { timingSafeEqual } from "node:crypto";
import type http from "node:http";
import { usePrometheus } from "@graphql-yoga/plugin-prometheus";
import { type GraphQLSchema, isEnumType, isInputObjectType, isInterfaceType, isObjectType } from "graphql";
import type { Plugin } from "graphql-yoga";
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import type { EventBus } from "../events/bus.ts";
import type { SqlRunner } from "../db/sql.ts";

export interface MetricSources {
  sql: SqlRunner;
  bus: EventBus;
  /** The tailer's position: the last event this replica published. */
  tailerPosition(): bigint;
  /** Open HTTP connections (keep-alive and SSE included) and WebSocket connections. */
  connections(): { http: number; websocket: number };
  /** Subscriptions open on this process (graphql-ws and SSE). */
  openSubscriptions(): number;
  /** PostgreSQL pool use; undefined on PGlite (one in-process connection). */
  pool(): { total: number; idle: number; waiting: number } | undefined;
}

/** Task events counted from the event log, by type: one place, no change to the task code. */
const TASK_EVENTS = new Set(["task.claimed", "task.completed", "task.failed", "task.retry_scheduled", "task.lease_expired"]);

export interface Metrics {
  registry: Registry;
  /** Envelop/Yoga plugins: Yoga's Prometheus plugin and the subscription-delivery counter. */
  plugins: Plugin[];
  /** Counts one subscription event's execution: its own, or shared with other subscribers (src/events/perEventContext.ts). */
  countExecution(shared: boolean): void;
  /** Answers a scrape (checks METRICS_TOKEN when set). */
  respond(authorization: string | null): Promise<{ status: number; headers: Record<string, string>; body: string }>;
  stop(): void;
}

/**
 * A scrape-time collector that reads the database: when the read fails (database unreachable or
 * failed) the series is left out of this scrape instead of failing the whole /metrics answer.
 */
function fromDatabase<G extends Gauge>(read: (gauge: G) => Promise<void>): (this: G) => Promise<void> {
  return async function (this: G) {
    try {
      await read(this);
    } catch {
      this.reset();
    }
  };
}

export function createMetrics(sources: MetricSources, options: { token?: string; schema: GraphQLSchema }): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "swarmgraph_process_" });

  const taskEvents = new Counter({
    name: "swarmgraph_task_events_total",
    help: "Task claims, completions, failures, scheduled retries and lease expiries this replica saw in the event log since it started (every replica sees every event: take max, not sum, across replicas).",
    labelNames: ["type"],
    registers: [registry],
  });
  for (const type of TASK_EVENTS) taskEvents.inc({ type }, 0);
  const unlisten = sources.bus.listenAll((event) => {
    if (TASK_EVENTS.has(event.type)) taskEvents.inc({ type: event.type });
  });

  const delivered = new Counter({
    name: "swarmgraph_subscription_events_delivered_total",
    help: "Subscription results sent to clients by this replica (graphql-ws and SSE).",
    registers: [registry],
  });

  const executions = new Counter({
    name: "swarmgraph_subscription_event_executions_total",
    help: "Subscription events resolved for a subscriber by this replica: `own` executed the operation for it, `shared` reused the result of another subscriber with the same operation, workspace and scopes.",
    labelNames: ["execution"],
    registers: [registry],
  });

  new Gauge({
    name: "swarmgraph_open_connections",
    help: "Open client connections on this replica, by transport (http counts keep-alive and SSE connections).",
    labelNames: ["transport"],
    registers: [registry],
    collect() {
      const { http, websocket } = sources.connections();
      this.set({ transport: "http" }, http);
      this.set({ transport: "websocket" }, websocket);
    },
  });
  new Gauge({
    name: "swarmgraph_open_subscriptions",
    help: "Subscriptions open on this replica (graphql-ws and SSE).",
    registers: [registry],
    collect() {
      this.set(sources.openSubscriptions());
    },
  });
  new Gauge({
    name: "swarmgraph_event_tailer_lag_events",
    help: "Committed events this replica has not yet delivered to its subscribers (sequenced but unread, plus not yet sequenced).",
    registers: [registry],
    collect: fromDatabase(async (gauge) => {
      const [row] = await sources.sql.query<{ head: string | number | bigint; pending: string | number | bigint }>(
        `SELECT (SELECT coalesce(max(position), 0) FROM "EventLogHead") AS head, (SELECT count(*) FROM "PendingEvent") AS pending`,
      );
      const lag = BigInt(row!.head) - sources.tailerPosition() + BigInt(row!.pending);
      gauge.set(Number(lag < 0n ? 0n : lag));
    }),
  });
  new Gauge({
    name: "swarmgraph_tasks",
    help: "Tasks in the database by status and type, all workspaces (the queue depth is status=\"PENDING\").",
    labelNames: ["status", "type"],
    registers: [registry],
    collect: fromDatabase(async (gauge) => {
      const rows = await sources.sql.query<{ status: string; type: string; n: string | number }>(`SELECT status::text AS status, type, count(*) AS n FROM "Task" GROUP BY 1, 2`);
      gauge.reset();
      for (const row of rows) gauge.set({ status: row.status, type: row.type }, Number(row.n));
    }),
  });
  new Gauge({
    name: "swarmgraph_quota_in_use",
    help: "Units held of each capacity quota, by workspace and resource.",
    labelNames: ["workspace", "resource"],
    registers: [registry],
    collect: fromDatabase(async (gauge) => {
      const rows = await sources.sql.query<{ workspace: string; resource: string; allocated: number }>(`SELECT "workspaceId" AS workspace, resource, allocated FROM "Quota" WHERE kind = 'CAPACITY'`);
      gauge.reset();
      for (const row of rows) gauge.set({ workspace: row.workspace, resource: row.resource }, Number(row.allocated));
    }),
  });
  new Gauge({
    name: "swarmgraph_quota_limit",
    help: "Limit of each quota, by workspace and resource (compare with swarmgraph_quota_in_use).",
    labelNames: ["workspace", "resource"],
    registers: [registry],
    collect: fromDatabase(async (gauge) => {
      const rows = await sources.sql.query<{ workspace: string; resource: string; limit: number }>(`SELECT "workspaceId" AS workspace, resource, "limit" FROM "Quota"`);
      gauge.reset();
      for (const row of rows) gauge.set({ workspace: row.workspace, resource: row.resource }, Number(row.limit));
    }),
  });
  new Gauge({
    name: "swarmgraph_db_pool_connections",
    help: "PostgreSQL pool connections by state (total, idle, waiting clients); absent on PGlite.",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      const pool = sources.pool();
      if (!pool) return;
      this.set({ state: "total" }, pool.total);
      this.set({ state: "idle" }, pool.idle);
      this.set({ state: "waiting" }, pool.waiting);
    },
  });

  const countDeliveries: Plugin = {
    onSubscribe: () => ({
      onSubscribeResult: () => ({
        onNext: () => {
          delivered.inc();
        },
      }),
    }),
  };

  const expected = options.token ? Buffer.from(`Bearer ${options.token}`) : undefined;
  return {
    registry,
    countExecution: (shared) => executions.inc({ execution: shared ? "shared" : "own" }),
    plugins: [
      usePrometheus({
        registry,
        endpoint: false,
        metrics: {
          graphql_envelop_request: true,
          graphql_envelop_request_duration: true,
          graphql_envelop_error_result: true,
          graphql_envelop_phase_parse: true,
          graphql_envelop_phase_validate: true,
          graphql_envelop_phase_execute: true,
          graphql_envelop_phase_subscribe: true,
          // Counting deprecated fields walks every operation's document on every request (about 8%
          // of the server's CPU on the agent hot path): only worth it once something is deprecated.
          graphql_envelop_deprecated_field: hasDeprecations(options.schema),
          graphql_yoga_http_duration: true,
        },
      }),
      countDeliveries,
    ],
    async respond(authorization): Promise<{ status: number; headers: Record<string, string>; body: string }> {
      if (expected) {
        const given = Buffer.from(authorization ?? "");
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
          return { status: 401, headers: { "content-type": "text/plain", "www-authenticate": "Bearer" }, body: "metrics need Authorization: Bearer <METRICS_TOKEN>\n" };
        }
      }
      return { status: 200, headers: { "content-type": registry.contentType }, body: await registry.metrics() };
    },
    stop: unlisten,
  };
}

/** A node:http handler serving only GET /metrics (METRICS_PORT). */
export function metricsListener(metrics: Metrics): http.RequestListener {
  return (req, res) => {
    if (req.method !== "GET" || new URL(req.url ?? "/", "http://x").pathname !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    metrics
      .respond(req.headers.authorization ?? null)
      .then(({ status, headers, body }) => res.writeHead(status, headers).end(body))
      .catch(() => res.writeHead(500, { "content-type": "text/plain" }).end("metrics failed\n"));
  };
}

/** A Yoga plugin serving GET /metrics on the API port. */
export function useMetricsEndpoint(metrics: Metrics): Plugin {
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== "/metrics") return;
      if (request.method !== "GET") {
        endResponse(new fetchAPI.Response("method not allowed\n", { status: 405, headers: { allow: "GET" } }));
        return;
      }
      const { status, headers, body } = await metrics.respond(request.headers.get("authorization"));
      endResponse(new fetchAPI.Response(body, { status, headers }));
    },
  };
}

/** Whether the schema deprecates any field, argument, input field or enum value. */
export function hasDeprecations(schema: GraphQLSchema): boolean {
  return Object.values(schema.getTypeMap()).some((type) => {
    if (isObjectType(type) || isInterfaceType(type)) return Object.values(type.getFields()).some((f) => f.deprecationReason != null || f.args.some((a) => a.deprecationReason != null));
    if (isInputObjectType(type)) return Object.values(type.getFields()).some((f) => f.deprecationReason != null);
    if (isEnumType(type)) return type.getValues().some((v) => v.deprecationReason != null);
    return false;
  });
}
