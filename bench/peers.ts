/**
 * The peers of scenario 1, on the same PostgreSQL server: graphile-worker's default full job
 * cycle (add, fetch, run, complete) and the raw SQL limit, a `FOR UPDATE SKIP LOCKED` claim loop
 * over a minimal jobs table on plain pg connections. Both verify each job ran exactly once.
 */
import { makeWorkerUtils, run } from "graphile-worker";
import pg from "pg";
import { record, type Result, timed } from "./support.ts";

export async function graphileWorkerCycles(url: string, concurrency: number, jobs: number): Promise<Result> {
  // Our own pool (graphile-worker's default size), so that it is closed before the scratch
  // database is dropped and an idle connection's termination is not an unhandled error.
  const pgPool = quietPool(url, Math.max(10, concurrency + 2));
  const utils = await makeWorkerUtils({ pgPool });
  const ran = new Map<number, number>();
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  let count = 0;
  try {
    await utils.migrate();
    await utils.addJobs(Array.from({ length: jobs }, (_, n) => ({ identifier: `bench_c${concurrency}`, payload: { n } })));
    const seconds = await timed(async () => {
      const runner = await run({
        pgPool,
        concurrency,
        noHandleSignals: true,
        logger: quietLogger,
        taskList: {
          [`bench_c${concurrency}`]: async (payload) => {
            const n = (payload as { n: number }).n;
            ran.set(n, (ran.get(n) ?? 0) + 1);
            if (++count === jobs) done();
          },
        },
      });
      await finished;
      await runner.stop();
    });
    if (ran.size !== jobs || [...ran.values()].some((n) => n !== 1)) throw new Error(`graphile-worker ran ${ran.size} of ${jobs} jobs, some twice`);
    return record({ group: "claim+complete cycles", scenario: `graphile-worker C=${concurrency}`, ops: jobs, seconds });
  } finally {
    await utils.release();
    await pgPool.end();
  }
}

export async function rawSqlClaims(url: string, concurrency: number, jobs: number): Promise<Result> {
  const pool = quietPool(url, concurrency + 1);
  try {
    await pool.query(`DROP TABLE IF EXISTS bench_jobs; CREATE TABLE bench_jobs (id bigserial PRIMARY KEY, status text NOT NULL DEFAULT 'pending', locked_by text, locked_at timestamptz)`);
    await pool.query(`CREATE INDEX ON bench_jobs (id) WHERE status = 'pending'`);
    await pool.query(`INSERT INTO bench_jobs (status) SELECT 'pending' FROM generate_series(1, $1)`, [jobs]);
    const claimed: string[] = [];
    const seconds = await timed(async () => {
      await Promise.all(
        Array.from({ length: concurrency }, async (_, c) => {
          const client = await pool.connect();
          try {
            for (;;) {
              const { rows } = await client.query(
                `UPDATE bench_jobs SET status = 'claimed', locked_by = $1, locked_at = now()
                 WHERE id = (SELECT id FROM bench_jobs WHERE status = 'pending' ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING id`,
                [`c${c}`],
              );
              if (rows.length === 0) return;
              claimed.push(String(rows[0].id));
            }
          } finally {
            client.release();
          }
        }),
      );
    });
    if (new Set(claimed).size !== jobs || claimed.length !== jobs) throw new Error(`raw SQL claimed ${claimed.length} of ${jobs}`);
    return record({ group: "claim+complete cycles", scenario: `raw SQL claim C=${concurrency}`, ops: jobs, seconds });
  } finally {
    await pool.query("DROP TABLE IF EXISTS bench_jobs").catch(() => undefined);
    await pool.end();
  }
}

/** A pool whose connections' errors (the scratch database being dropped under an idle one) are ignored. */
function quietPool(url: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on("error", () => undefined);
  pool.on("connect", (client) => client.on("error", () => undefined));
  return pool;
}

const quietLogger = new (await import("graphile-worker")).Logger(() => () => undefined);
