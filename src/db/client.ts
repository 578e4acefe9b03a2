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
import { pgliteRunner, pgRunner, type SqlRunner } from "./sql.ts";

export type { PrismaClient };
/** The client a service receives: the root client or an interactive transaction. */
export type Db = Omit<PrismaClient, "$connect" | "$disconnect" | "$on" | "$transaction" | "$extends">;

export type DatabaseTarget =
  | { kind: "pglite"; /** A directory, or "memory://" for a throwaway database. */ dataDir: string }
  | { kind: "postgres"; url: string };

export interface Database {
  readonly kind: DatabaseTarget["kind"];
  readonly prisma: PrismaClient;
  readonly sql: SqlRunner;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Called with every SQL statement Prisma sends (tests count them). */
  onQuery?: (sql: string) => void;
}

export async function openDatabase(target: DatabaseTarget, options: OpenDatabaseOptions = {}): Promise<Database> {
  if (target.kind === "pglite") {
    const dataDir = target.dataDir === "memory://" ? undefined : path.join(target.dataDir, "pglite");
    if (dataDir) fs.mkdirSync(dataDir, { recursive: true });
    const pglite = await PGlite.create(dataDir);
    const prisma = createPrisma(new PrismaPGlite(pglite), options);
    return {
      kind: "pglite",
      prisma,
      sql: pgliteRunner(pglite),
      async close() {
        await prisma.$disconnect();
        await pglite.close();
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
  return prisma;
}
