/**
 * `npm run bench`: the agent hot path and event delivery measured beside their peers, in one run
 * on one PostgreSQL server (BENCH_DATABASE_URL, default the local one), plus embedded PGlite as a
 * ratio. Prints a table of rates and the ratios the project's targets are stated in, and writes
 * JSON under bench/results/ (git-ignored). Asserts nothing about time; every scenario verifies
 * its own correctness (each task completed exactly once, every event delivered).
 *
 * Sizes are environment variables (defaults in brackets): BENCH_TASKS [2000] tasks per cycle
 * scenario (a quarter at C = 1; cycles for claim + release and claim + fail), BENCH_BATCH [10]
 * claims per claimNextTasks; delivery to one swarm: BENCH_SUBSCRIBERS [1000] at
 * BENCH_EVENTS_PER_SECOND [20]; delivery of each task's
 * progress: BENCH_PROGRESS_SUBSCRIBERS [5000] at BENCH_PROGRESS_PER_SECOND [1000] reports in all,
 * BENCH_PROGRESS_BATCH [10] per request;
 * BENCH_DELIVERY_SECONDS [10] per delivery run; BENCH_REQUESTS [400] per query-cost scenario.
 *
 * The cycle and delivery scenarios run the server in a process of its own, as in production
 * (bench/serverProcess.ts), each on a fresh database, and so does the delivery peer; query cost
 * runs it in the bench's process, because it reads the statement log.
 */
import pg from "pg";
import { claimCycles, functionCycles, giveBackCycles } from "./claims.ts";
import { type Audience, type DeliveryLoad, deliveryScenario, minimalDelivery, swarmgraphDelivery } from "./delivery.ts";
import { graphileWorkerCycles, rawSqlClaims } from "./peers.ts";
import { queryCost } from "./queryCost.ts";
import { withMinimalServer, withServerProcess } from "./serverProcess.ts";
import { figure, rate, report } from "./support.ts";

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const adminUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const TASKS = env("BENCH_TASKS", 2000);
const BATCH = env("BENCH_BATCH", 10);
const delivery = { subscribers: env("BENCH_SUBSCRIBERS", 1000), eventsPerSecond: env("BENCH_EVENTS_PER_SECOND", 20), seconds: env("BENCH_DELIVERY_SECONDS", 10) };
const progress = { subscribers: env("BENCH_PROGRESS_SUBSCRIBERS", 5000), eventsPerSecond: env("BENCH_PROGRESS_PER_SECOND", 1000), seconds: delivery.seconds, batch: env("BENCH_PROGRESS_BATCH", 10) };
const REQUESTS = env("BENCH_REQUESTS", 400);
const only = process.env.BENCH_ONLY?.split(",");
const runs = (group: string) => !only || only.includes(group);

/** A scratch database on the bench's PostgreSQL server for the peers, dropped afterwards. */
async function scratchDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const name = `swarmgraph_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return await fn(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
}

console.log(`swarmgraph bench: PostgreSQL at ${new URL(adminUrl).host}, ${TASKS} tasks per cycle scenario\n`);
const concurrencies = [1, 8, 32];
const tasksAt = (c: number) => (c === 1 ? Math.ceil(TASKS / 4) : TASKS);

if (runs("cycles")) {
  process.env.TEST_DATABASE_URL = adminUrl;
  // A fresh server and database per scenario: none inherits the dead rows of the one before.
  for (const c of concurrencies) await withServerProcess("postgres", (server) => claimCycles(server, "swarmgraph single", c, tasksAt(c)));
  for (const c of [8, 32]) await withServerProcess("postgres", (server) => claimCycles(server, "swarmgraph batched", c, TASKS, BATCH));
  await withServerProcess("postgres", (server) => functionCycles(server, 8, TASKS));
  for (const kind of ["release", "fail"] as const) {
    await withServerProcess("postgres", (server) => giveBackCycles(server, kind, 8, TASKS), { TASK_RETRY_BASE_SECONDS: "0" });
  }
  await scratchDatabase(async (url) => {
    for (const c of concurrencies) await graphileWorkerCycles(url, c, tasksAt(c));
    for (const c of concurrencies) await rawSqlClaims(url, c, tasksAt(c));
  });
  await withServerProcess("pglite", (server) => claimCycles(server, "swarmgraph single on PGlite", 8, Math.ceil(TASKS / 2)));
}
// Full load measures throughput (a backlog may build); half load, latency once the server keeps up.
const half = (load: DeliveryLoad) => ({ ...load, eventsPerSecond: Math.max(1, Math.floor(load.eventsPerSecond / 2)) });
const deliveryRuns: [Audience, DeliveryLoad][] = [["swarm", delivery], ["swarm", half(delivery)], ["task", progress], ["task", half(progress)]];
if (runs("delivery")) {
  process.env.TEST_DATABASE_URL = adminUrl;
  for (const [audience, load] of deliveryRuns) {
    await withServerProcess("postgres", (server) => swarmgraphDelivery(server, audience, load), { TASK_LEASE_SECONDS: "3600" });
    await withMinimalServer((server) => minimalDelivery(server, audience, load));
  }
}
if (runs("query")) {
  process.env.TEST_DATABASE_URL = adminUrl;
  await queryCost(REQUESTS);
}

const cycles = "claim+complete cycles";
const deliveryGroup = "event delivery";
const deliveries = (audience: Audience, load: DeliveryLoad) => rate(deliveryGroup, deliveryScenario("swarmgraph", audience, load)) / rate(deliveryGroup, deliveryScenario("minimal graphql-ws server", audience, load));
const p99 = (who: string, audience: Audience, load: DeliveryLoad) => figure(deliveryGroup, deliveryScenario(who, audience, load), "p99ms");
report({ tasks: TASKS, batch: BATCH, delivery, progress, requests: REQUESTS, database: "PostgreSQL" }, [
  { name: "single claims C=8 / graphile-worker C=8", value: rate(cycles, "swarmgraph single C=8") / rate(cycles, "graphile-worker C=8"), target: "≥ 1.0" },
  { name: "single claims C=32 / C=8", value: rate(cycles, "swarmgraph single C=32") / rate(cycles, "swarmgraph single C=8"), target: "≥ 1.0 (rising)" },
  { name: `batched claims C=8 / raw SQL claim C=8`, value: rate(cycles, `swarmgraph batched C=8 batch ${BATCH}`) / rate(cycles, "raw SQL claim C=8"), target: "≥ 0.5" },
  { name: `batched claims C=32 / raw SQL claim C=32`, value: rate(cycles, `swarmgraph batched C=32 batch ${BATCH}`) / rate(cycles, "raw SQL claim C=32"), target: "≥ 0.5" },
  { name: "single claims C=8 / the same SQL functions called directly C=8", value: rate(cycles, "swarmgraph single C=8") / rate(cycles, "swarmgraph SQL functions C=8"), target: "(information: the server's share)" },
  { name: "SQL functions called directly C=8 / graphile-worker C=8", value: rate(cycles, "swarmgraph SQL functions C=8") / rate(cycles, "graphile-worker C=8"), target: "(information: the SQL's share)" },
  { name: "claim + release C=8 / claim + complete C=8 (single)", value: rate(cycles, "swarmgraph claim + release C=8") / rate(cycles, "swarmgraph single C=8"), target: "(information: ≈ 1, one statement each)" },
  { name: "claim + fail C=8 / claim + complete C=8 (single)", value: rate(cycles, "swarmgraph claim + fail C=8") / rate(cycles, "swarmgraph single C=8"), target: "(information: ≈ 1, one statement each)" },
  { name: "PGlite / PostgreSQL, single claims C=8", value: rate(cycles, "swarmgraph single on PGlite C=8") / rate(cycles, "swarmgraph single C=8"), target: "(information)" },
  { name: "deliveries/s swarmgraph / minimal graphql-ws, one swarm", value: deliveries("swarm", delivery), target: "≥ 0.5" },
  { name: `p99 ms event → client at half load (${half(delivery).eventsPerSecond} events/s), one swarm, swarmgraph`, value: p99("swarmgraph", "swarm", half(delivery)), target: "< 50" },
  { name: "p99 ms at half load, one swarm, minimal graphql-ws server", value: p99("minimal graphql-ws server", "swarm", half(delivery)), target: "(information)" },
  { name: "deliveries/s swarmgraph / minimal graphql-ws, each its own task", value: deliveries("task", progress), target: "≥ 0.5" },
  { name: `p99 ms event → client at half load (${half(progress).eventsPerSecond} reports/s), own task, swarmgraph`, value: p99("swarmgraph", "task", half(progress)), target: "< 50" },
  { name: "p99 ms at half load, own task, minimal graphql-ws server", value: p99("minimal graphql-ws server", "task", half(progress)), target: "(information)" },
  { name: "TasksDeep first 50 req/s / trivial query", value: rate("query cost", "TasksDeep first: 50") / rate("query cost", "trivial query (baseline)"), target: "(information)" },
]);
process.exit(0);
