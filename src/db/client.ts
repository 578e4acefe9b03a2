/**
 * The database: a Prisma client over either the embedded PGlite (default, persisted in the data
 * directory or in memory) or a PostgreSQL server (`DATABASE_URL`), plus a raw SQL runner on the
 * same connection(s) for migrations.
 */
import fs from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import pg from "pg";
import { PrismaClient } from "../generated/prisma/client.ts";
import { type DatabaseFailedError, guardPglite } from "./pgliteGuard.ts";
import { pgliteRunner, pgRunner, type SqlRunner } from "./sql.ts";

export type { PrismaClient };
/** The client a service receives: the root client or an interactive transaction. */
export type Db = Omit<PrismaClient, "$connect" | "$disconnect" | "$on" | "$transaction" | "$extends">;

export type DatabaseTarget =
  | {
      kind: "pglite";
      /** A directory, or "memory://" for a throwaway database. */
      dataDir: string;
      /**
       * A data directory dumped by PGlite's `dumpDataDir` to start a throwaway database from,
       * instead of running initdb (the bulk of PGlite's start-up time). Tests pass one with every
       * migration applied.
       */
      template?: Blob;
    }
  | { kind: "postgres"; url: string };

export interface Database {
  readonly kind: DatabaseTarget["kind"];
  readonly prisma: PrismaClient;
  readonly sql: SqlRunner;
  /** Why the embedded engine can no longer be trusted (see src/db/pgliteGuard.ts); null while it is sound. */
  failure(): DatabaseFailedError | null;
  /** PostgreSQL pool use (for metrics); absent on PGlite, which has one in-process connection. */
  pool?(): { total: number; idle: number; waiting: number };
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Called with every SQL statement Prisma sends (tests count them). */
  onQuery?: (sql: string) => void;
  /** Called once when the embedded engine fails for good (PGlite only; see src/db/pgliteGuard.ts). */
  onFailure?: (error: DatabaseFailedError) => void;
}

export async function openDatabase(target: DatabaseTarget, options: OpenDatabaseOptions = {}): Promise<Database> {
  if (target.kind === "pglite") {
    const dataDir = target.dataDir === "memory://" ? undefined : path.join(target.dataDir, "pglite");
    if (dataDir) fs.mkdirSync(dataDir, { recursive: true });
    // One options object: PGlite.create(undefined, options) ignores its options (it reads a
    // first argument that is not a string as the options), which silently ran initdb every time.
    const pglite = await PGlite.create({ dataDir, ...(target.template && !dataDir ? { loadDataDir: target.template } : {}) });
    const failure = guardPglite(pglite, (error) => options.onFailure?.(error));
    const prisma = createPrisma(new PrismaPGlite(pglite), options);
    return {
      kind: "pglite",
      prisma,
      sql: pgliteRunner(pglite),
      failure,
      async close() {
        await prisma.$disconnect();
        // A failed engine cannot shut down cleanly; what it committed before is on disk.
        await pglite.close().catch((error: unknown) => {
          if (!failure()) throw error;
        });
      },
    };
  }
  const pool = new pg.Pool({ connectionString: target.url, max: 10 });
  // An idle pooled connection that the server ends (restart, failover, DROP DATABASE … FORCE)
  // emits "error" on the pool; unhandled, that would crash the process. The pool replaces it.
  pool.on("error", () => undefined);
  const prisma = createPrisma(new PrismaPg(pool), options);
  return {
    kind: "postgres",
    prisma,
    sql: pgRunner(pool),
    failure: () => null,
    pool: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

function createPrisma(adapter: PrismaPg | PrismaPGlite, options: OpenDatabaseOptions): PrismaClient {
  const prisma = new PrismaClient({
    adapter,
    // Transactions that wait on a row lock (concurrent joins, claims) queue for a pooled
    // connection; Prisma's defaults (2 s to start, 5 s to run) turn a busy moment into errors.
    transactionOptions: { maxWait: 15_000, timeout: 30_000 },
    log: options.onQuery ? [{ emit: "event", level: "query" }] : [],
  });
  if (options.onQuery) {
    const onQuery = options.onQuery;
    (prisma as unknown as { $on(event: "query", cb: (e: { query: string }) => void): void }).$on("query", (e) => onQuery(e.query));
  }
  retryAbortedTransactions(prisma);
  return prisma;
}

/** How often an interactive transaction runs at most when PostgreSQL aborts it as a deadlock victim. */
export const TRANSACTION_ATTEMPTS = 3;

/**
 * SQLSTATEs after which a transaction can simply run again: PostgreSQL rolled it back whole to
 * break a deadlock (40P01) or a serialization conflict (40001), so nothing of it was applied.
 */
const RETRYABLE_SQLSTATES = new Set(["40P01", "40001"]);

/** True for Prisma's and the pg driver's shape of a deadlock or serialization abort. */
export function isRetryableTransactionError(error: unknown): boolean {
  const e = error as { code?: unknown; meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } } | null;
  if (e?.code === "P2034") return true;
  if (typeof e?.code === "string" && RETRYABLE_SQLSTATES.has(e.code)) return true;
  const sqlState = e?.meta?.driverAdapterError?.cause?.originalCode;
  return typeof sqlState === "string" && RETRYABLE_SQLSTATES.has(sqlState);
}

/**
 * Runs `transaction` (one whole transaction) again, up to TRANSACTION_ATTEMPTS times and after a
 * short random pause, when PostgreSQL aborted it as a deadlock or serialization victim. Safe
 * because such a transaction left nothing behind; `transaction` must keep its effects inside it.
 */
export async function retryAborted<T>(transaction: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction();
    } catch (error) {
      if (attempt >= TRANSACTION_ATTEMPTS || !isRetryableTransactionError(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 25 * attempt));
    }
  }
}

/**
 * Makes every interactive `$transaction(fn)` run again (retryAborted) when PostgreSQL aborted it
 * as a deadlock or serialization victim, instead of failing the caller's request; every service
 * keeps its effects inside the transaction.
 */
function retryAbortedTransactions(prisma: PrismaClient): void {
  const run = prisma.$transaction.bind(prisma) as (arg: unknown, options?: unknown) => Promise<unknown>;
  const retrying = async (arg: unknown, options?: unknown): Promise<unknown> => {
    if (typeof arg !== "function") return run(arg, options);
    return retryAborted(() => run(arg, options));
  };
  Object.defineProperty(prisma, "$transaction", { value: retrying, configurable: true, writable: true });
}
