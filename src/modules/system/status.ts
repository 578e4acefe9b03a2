/**
 * What `systemStatus` reports: the seeds' status endpoints, in GraphQL. Read on demand from the
 * database and this process; nothing here is workspace data.
 */
import fs from "node:fs";
import type { SqlRunner } from "../../db/sql.ts";
import { pendingMigrations, readMigrations } from "../../db/migrations.ts";
import { REPLICA_STALE_AFTER_SECONDS } from "../quotas/openSubscriptions.ts";

export interface SystemStatus {
  version: string;
  startedAt: Date;
  uptimeSeconds: number;
  databaseKind: "PGLITE" | "POSTGRES";
  migrationsApplied: number;
  latestMigration: string | null;
  pendingMigrations: string[];
  replicasSeen: number;
  eventLogHead: bigint;
  tailerPosition: bigint;
  tailerLagEvents: number;
}

export interface SystemStatusSource {
  read(): Promise<SystemStatus>;
}

const VERSION: string = (JSON.parse(fs.readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }).version;

export function createSystemStatus(deps: { sql: SqlRunner; kind: "pglite" | "postgres"; tailerPosition(): bigint }): SystemStatusSource {
  const startedAt = new Date();
  return {
    async read() {
      const migrations = readMigrations();
      const [pending, [row]] = await Promise.all([
        pendingMigrations(deps.sql, migrations),
        deps.sql.query<{ head: string | number | bigint; unsequenced: string | number | bigint; replicas: string | number }>(
          `SELECT (SELECT coalesce(max(position), 0) FROM "EventLogHead") AS head,
                  (SELECT count(*) FROM "PendingEvent") AS unsequenced,
                  (SELECT count(*) FROM "Replica" WHERE "heartbeatAt" >= now() - make_interval(secs => $1)) AS replicas`,
          [REPLICA_STALE_AFTER_SECONDS],
        ),
      ]);
      const applied = migrations.filter((m) => !pending.includes(m.name));
      const head = BigInt(row!.head);
      const position = deps.tailerPosition();
      const lag = head - position + BigInt(row!.unsequenced);
      return {
        version: VERSION,
        startedAt,
        uptimeSeconds: Math.floor((Date.now() - startedAt.getTime()) / 1000),
        databaseKind: deps.kind === "pglite" ? "PGLITE" : "POSTGRES",
        migrationsApplied: applied.length,
        latestMigration: applied.at(-1)?.name ?? null,
        pendingMigrations: pending,
        replicasSeen: Number(row!.replicas),
        eventLogHead: head,
        tailerPosition: position,
        tailerLagEvents: Number(lag < 0n ? 0n : lag),
      };
    },
  };
}
