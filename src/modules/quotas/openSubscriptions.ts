/**
 * The workspace's `subscriptions` quota, counted across every replica.
 *
 * An open subscription is a row (OpenSubscription) owned by the replica (server process) that
 * serves it. Admission is one SQL function call: lock the workspace's `subscriptions` quota row,
 * count the open rows of live replicas, insert one more or refuse. Concurrent subscribes — on
 * this replica or any other — queue on that row lock, each counting the ones admitted before it,
 * so the count never passes the limit. Replicas heartbeat (Replica.heartbeatAt); the rows of one
 * that stopped heartbeating (a crash) stop counting at once and are swept with it, and a replica
 * that stops cleanly deletes its own.
 */
import { randomUUID } from "node:crypto";
import type { PrismaClient } from "../../db/client.ts";
import { QuotaExceededError } from "../../errors.ts";
import type { Actor } from "../../events/eventLog.ts";
import type { SqlRunner } from "../../db/sql.ts";
import { defaultQuota } from "./resources.ts";
import { recordRefusal } from "./service.ts";

/** How often a replica proves it is alive. */
export const REPLICA_HEARTBEAT_MS = 10_000;
/** A replica silent for this long is taken for dead: its subscriptions no longer count. */
export const REPLICA_STALE_AFTER_SECONDS = 35;

export async function registerReplica(db: PrismaClient): Promise<string> {
  const id = randomUUID();
  await db.replica.create({ data: { id } });
  return id;
}

export async function heartbeatReplica(db: PrismaClient, id: string): Promise<void> {
  // upsert: a replica taken for dead and swept (a long stall) comes back.
  await db.replica.upsert({ where: { id }, create: { id }, update: { heartbeatAt: new Date() } });
}

/** A clean stop: the replica and its open subscriptions go. */
export async function forgetReplica(db: PrismaClient, id: string): Promise<void> {
  await db.replica.deleteMany({ where: { id } });
}

/** Deletes replicas that stopped heartbeating, with their subscriptions; returns how many. */
export async function sweepStaleReplicas(db: PrismaClient): Promise<number> {
  return db.$executeRaw`DELETE FROM "Replica" WHERE "heartbeatAt" < now() - make_interval(secs => ${REPLICA_STALE_AFTER_SECONDS})`;
}

/** Open subscriptions of a workspace on live replicas. */
export async function openSubscriptionCount(db: Pick<PrismaClient, "$queryRaw">, workspaceId: string): Promise<number> {
  const [row] = await db.$queryRaw<{ open: bigint | number }[]>`
    SELECT count(*) AS open FROM "OpenSubscription" o JOIN "Replica" r ON r.id = o."replicaId"
    WHERE o."workspaceId" = ${workspaceId} AND r."heartbeatAt" >= now() - make_interval(secs => ${REPLICA_STALE_AFTER_SECONDS})`;
  return Number(row!.open);
}

/**
 * Admits one more open subscription of `actor` on `replicaId` when the workspace's
 * `subscriptions` quota has room; returns the function that closes it (idempotent). One call of
 * `swarmgraph_open_subscription` (migration subscription_admission, whose header has the
 * argument): the quota row is locked only while PostgreSQL runs it, never across round trips.
 * @throws QuotaExceededError (recorded as a `quota.refused` event)
 */
export async function openSubscription(db: PrismaClient, sql: SqlRunner, actor: Actor, replicaId: string): Promise<() => Promise<void>> {
  const id = randomUUID();
  const [admission] = await sql.query<{ quota_limit: number; in_use: number | string; admitted: boolean }>(
    `SELECT quota_limit, in_use, admitted FROM "swarmgraph_open_subscription"($1, $2, $3, $4, $5, $6)`,
    [id, actor.workspaceId, actor.subject, replicaId, defaultQuota("subscriptions")!.limit, REPLICA_STALE_AFTER_SECONDS],
  );
  if (!admission!.admitted) {
    const refusal = new QuotaExceededError("subscriptions", admission!.quota_limit, Number(admission!.in_use), 1, null);
    await recordRefusal(db, actor, refusal, { type: "EXTERNAL", id: `subscription of ${actor.subject}` });
    throw refusal;
  }
  let closed: Promise<void> | undefined;
  return () => (closed ??= db.openSubscription.deleteMany({ where: { id } }).then(() => undefined));
}
