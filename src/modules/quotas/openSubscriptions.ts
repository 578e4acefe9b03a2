/**
 * The workspace's `subscriptions` quota, counted across every replica.
 *
 * An open subscription is a row (OpenSubscription) owned by the replica (server process) that
 * serves it. Admission runs in one transaction: lock the workspace's `subscriptions` quota row,
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
import { lockQuota, recordRefusal } from "./service.ts";

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
 * `subscriptions` quota has room; returns the function that closes it (idempotent).
 * @throws QuotaExceededError (recorded as a `quota.refused` event)
 */
export async function openSubscription(db: PrismaClient, actor: Actor, replicaId: string): Promise<() => Promise<void>> {
  const id = randomUUID();
  const refusal = await db.$transaction(async (tx) => {
    const quota = await lockQuota(tx, actor.workspaceId, "subscriptions");
    const open = await openSubscriptionCount(tx, actor.workspaceId);
    if (open >= quota.limit) return new QuotaExceededError("subscriptions", quota.limit, open, 1, null);
    await tx.openSubscription.create({ data: { id, workspaceId: actor.workspaceId, subject: actor.subject, replicaId } });
    return null;
  });
  if (refusal) {
    await recordRefusal(db, actor, refusal, { type: "EXTERNAL", id: `subscription of ${actor.subject}` });
    throw refusal;
  }
  let closed: Promise<void> | undefined;
  return () => (closed ??= db.openSubscription.deleteMany({ where: { id } }).then(() => undefined));
}
