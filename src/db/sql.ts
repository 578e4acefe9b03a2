/**
 * A minimal raw-SQL connection for the work Prisma's query API cannot do: running multi-statement
 * migration scripts and taking advisory locks. Implemented over the same PGlite instance or pg
 * pool that backs the Prisma client.
 */
import type { PGlite } from "@electric-sql/pglite";
import type pg from "pg";

export interface SqlRunner {
  /** Runs a script of one or more statements (simple query protocol), without parameters. */
  exec(script: string): Promise<void>;
  /** Runs one parameterised statement and returns its rows. */
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Runs `fn` on one dedicated connection inside BEGIN/COMMIT (ROLLBACK when it throws). */
  transaction<T>(fn: (sql: SqlRunner) => Promise<T>): Promise<T>;
}

export function pgliteRunner(db: Pick<PGlite, "exec" | "query" | "transaction">): SqlRunner {
  return {
    async exec(script) {
      await db.exec(script);
    },
    async query<Row>(sql: string, params: unknown[] = []) {
      return (await db.query<Row>(sql, params)).rows;
    },
    transaction(fn) {
      return db.transaction((tx) => fn(pgliteRunner({ exec: tx.exec.bind(tx), query: tx.query.bind(tx), transaction: () => { throw new Error("nested transaction"); } })));
    },
  };
}

export function pgRunner(pool: pg.Pool | pg.PoolClient): SqlRunner {
  return {
    async exec(script) {
      await pool.query(script);
    },
    async query<Row>(sql: string, params: unknown[] = []) {
      return (await pool.query(sql, params)).rows as Row[];
    },
    async transaction(fn) {
      const client = "connect" in pool && "totalCount" in pool ? await (pool as pg.Pool).connect() : (pool as pg.PoolClient);
      const owned = client !== pool;
      try {
        await client.query("BEGIN");
        const result = await fn(pgRunner(client));
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw error;
      } finally {
        if (owned) client.release();
      }
    },
  };
}
