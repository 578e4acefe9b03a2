/**
 * Quotas and allocations (seed 003's resource manager, seeds 001/002's tier limits), one model
 * for all: a Quota row per (workspace, resource) and Allocation rows for what holders got.
 *
 * Atomicity: every allocation locks the quota row (`SELECT … FOR NO KEY UPDATE`) before it reads usage
 * and writes, so concurrent callers serialize on it and the granted sum never exceeds the limit,
 * on any number of connections. CAPACITY quotas keep `allocated` (the sum of open allocations)
 * on the row, updated under that lock; RATE quotas sum the allocations inside the window.
 */
import { v7 as uuidv7 } from "uuid";
import { z } from "zod";
import type { Db, PrismaClient } from "../../db/client.ts";
import { InvalidInputError, NotHeldError, QuotaExceededError } from "../../errors.ts";
import { type Actor, recordEvent } from "../../events/eventLog.ts";
import type { Allocation, HolderType, Quota } from "../../generated/prisma/client.ts";
import { parseInput } from "../../validation.ts";
import { defaultQuota, defaultResources, RESOURCE_PATTERN } from "./resources.ts";

export interface Holder {
  type: HolderType;
  id: string;
}

export type AllocationMode = "PARTIAL" | "ALL_OR_NOTHING";

const resourceRule = z.string().trim().min(1, "must not be empty").max(100, "must be at most 100 characters").regex(RESOURCE_PATTERN, "must look like agents, tasks.running or workers:depth:0");
const amountRule = z.number().int("must be a whole number").min(1, "must be at least 1").max(1_000_000, "must be at most 1000000");

const setQuotaSchema = z
  .object({
    resource: resourceRule,
    limit: z.number().int("must be a whole number").min(0, "must not be negative").max(1_000_000_000, "must be at most 1000000000"),
    windowSeconds: z.number().int("must be a whole number").min(1, "must be at least 1").max(31_536_000, "must be at most a year").nullish(),
  })
  .strict();

/** Sets (or changes) a workspace's limit on a resource. A lower limit does not revoke held units. */
export async function setQuota(db: PrismaClient, actor: Actor, input: z.input<typeof setQuotaSchema>): Promise<Quota> {
  const valid = parseInput(setQuotaSchema, input);
  return db.$transaction(async (tx) => {
    const existing = await tx.quota.findUnique({ where: { workspaceId_resource: { workspaceId: actor.workspaceId, resource: valid.resource } } });
    const kind = existing?.kind ?? defaultQuota(valid.resource)?.kind ?? (valid.windowSeconds ? "RATE" : "CAPACITY");
    if (kind === "RATE" && !valid.windowSeconds && !existing?.windowSeconds) {
      throw new InvalidInputError([{ path: "input.windowSeconds", message: `${valid.resource} is a rate resource: give its window` }]);
    }
    if (kind === "CAPACITY" && valid.windowSeconds) {
      throw new InvalidInputError([{ path: "input.windowSeconds", message: `${valid.resource} is a capacity resource: it has no window` }]);
    }
    const quota = await tx.quota.upsert({
      where: { workspaceId_resource: { workspaceId: actor.workspaceId, resource: valid.resource } },
      create: { workspaceId: actor.workspaceId, resource: valid.resource, kind, limit: valid.limit, windowSeconds: valid.windowSeconds ?? null, custom: true },
      update: { limit: valid.limit, windowSeconds: valid.windowSeconds ?? undefined, custom: true },
    });
    await recordEvent(tx, actor, { topic: "quota", type: "quota.set", entityId: quota.id, payload: { resource: quota.resource, limit: quota.limit, windowSeconds: quota.windowSeconds } });
    return quota;
  });
}

/**
 * Removes an explicit quota: a resource with a default goes back to it; any other resource must
 * hold nothing.
 * @returns the quota now in force, or null when the resource has no default
 */
export async function removeQuota(db: PrismaClient, actor: Actor, resourceInput: string): Promise<Quota | null> {
  const resource = parseInput(resourceRule, resourceInput, "input.resource");
  return db.$transaction(async (tx) => {
    const quota = await lockQuota(tx, actor.workspaceId, resource);
    const fallback = defaultQuota(resource);
    if (fallback) {
      const reset = await tx.quota.update({ where: { id: quota.id }, data: { limit: fallback.limit, windowSeconds: fallback.windowSeconds, custom: false } });
      await recordEvent(tx, actor, { topic: "quota", type: "quota.removed", entityId: quota.id, payload: { resource, revertedTo: fallback.limit } });
      return reset;
    }
    const open = await usage(tx, quota);
    if (open > 0) throw new InvalidInputError([{ path: "input.resource", message: `${resource} has ${open} units allocated; release them before removing its quota` }]);
    await tx.quota.delete({ where: { id: quota.id } });
    await recordEvent(tx, actor, { topic: "quota", type: "quota.removed", entityId: quota.id, payload: { resource } });
    return null;
  });
}

export interface AllocationResult {
  allocation: Allocation;
  quota: Quota;
}

/**
 * Grants units of a resource to a holder: PARTIAL grants what is available (asked 3, granted 2),
 * ALL_OR_NOTHING grants the whole amount or nothing.
 * @throws QuotaExceededError when nothing (or, ALL_OR_NOTHING, not everything) can be granted
 */
export async function allocateResources(db: PrismaClient, actor: Actor, input: { resource: string; holder: Holder; amount: number; mode: AllocationMode }): Promise<AllocationResult> {
  const resource = parseInput(resourceRule, input.resource, "input.resource");
  const amount = parseInput(amountRule, input.amount, "input.amount");
  return recordingRefusals(db, actor, input.holder, () => db.$transaction((tx) => allocate(tx, actor, resource, input.holder, amount, input.mode)));
}

/**
 * Allocates inside the caller's transaction (the enforcement points: registering an agent,
 * claiming a task, creating tasks). Throws QuotaExceededError, rolling the caller back.
 *
 * Two statements, so that the quota row stays locked for as few round trips as possible (it is
 * held to the caller's commit, and every allocation of the resource in the workspace waits for
 * it): the lock, then one statement that reads the usage, decides, and writes the allocation,
 * the counter and the event together. They cannot be one: a statement's snapshot is taken when
 * it starts, before a lock wait, so a RATE quota's sum read in the locking statement would miss
 * the allocations its previous holder just committed (read committed re-reads only the locked
 * row itself). The second statement starts after the lock is ours and sees them all.
 */
export async function allocate(tx: Db, actor: Actor, resource: string, holder: Holder, amount: number, mode: AllocationMode = "ALL_OR_NOTHING"): Promise<AllocationResult> {
  const quota = await lockQuota(tx, actor.workspaceId, resource);
  const now = new Date();
  const capacity = quota.kind === "CAPACITY";
  const since = new Date(now.getTime() - (quota.windowSeconds ?? 0) * 1000);
  const [row] = await tx.$queryRaw<(Omit<Allocation, "holderType" | "granted"> & { holderType: HolderType | null; granted: number | null; inUse: number })[]>`
    WITH usage AS (
      SELECT CASE WHEN ${capacity} THEN ${quota.allocated}::int
        ELSE (SELECT COALESCE(SUM(granted), 0)::int FROM "Allocation" WHERE "quotaId" = ${quota.id} AND "createdAt" > ${since}) END AS in_use
    ), decision AS (
      SELECT in_use, CASE WHEN ${mode === "PARTIAL"} THEN LEAST(${amount}::int, GREATEST(${quota.limit}::int - in_use, 0))
                          WHEN in_use + ${amount}::int <= ${quota.limit}::int THEN ${amount}::int ELSE 0 END AS granted
      FROM usage
    ), allocation AS (
      INSERT INTO "Allocation" (id, "workspaceId", "quotaId", resource, "holderType", "holderId", requested, granted, "createdAt")
      SELECT ${uuidv7()}, ${actor.workspaceId}, ${quota.id}, ${resource}, ${holder.type}::"HolderType", ${holder.id}, ${amount}::int, granted, ${now}
      FROM decision WHERE granted > 0
      RETURNING *
    ), counted AS (
      UPDATE "Quota" q SET allocated = q.allocated + a.granted, "updatedAt" = ${now}
      FROM allocation a WHERE ${capacity} AND q.id = a."quotaId"
      RETURNING q.id
    ), event AS (
      INSERT INTO "PendingEvent" ("workspaceId", topic, type, "entityId", payload, actor)
      SELECT ${actor.workspaceId}, 'quota', 'quota.allocated', ${quota.id},
        jsonb_build_object('resource', ${resource}::text, 'holderType', ${holder.type}::text, 'holderId', ${holder.id}::text, 'requested', ${amount}::int,
          'granted', a.granted, 'inUse', d.in_use + a.granted, 'limit', ${quota.limit}::int),
        ${actor.subject}
      FROM allocation a CROSS JOIN decision d
    )
    SELECT d.in_use AS "inUse", a.id, a."workspaceId", a."quotaId", a.resource, a."holderType"::text AS "holderType", a."holderId", a.requested, a.granted, a."createdAt", a."releasedAt"
    FROM decision d LEFT JOIN allocation a ON true`;
  const { inUse, ...allocation } = row!;
  if (!allocation.granted) throw new QuotaExceededError(resource, quota.limit, inUse, amount, capacity ? null : await rateRetryAt(tx, quota, amount));
  const granted = allocation.granted;
  return {
    allocation: { ...allocation, holderType: allocation.holderType!, granted },
    quota: capacity ? { ...quota, allocated: quota.allocated + granted, updatedAt: now } : quota,
  };
}

/**
 * Releases a holder's open CAPACITY allocations (of one resource, or all).
 * @throws NotHeldError when there is nothing to release
 */
export async function releaseResources(db: PrismaClient, actor: Actor, holder: Holder, resourceInput?: string | null): Promise<Allocation[]> {
  const resource = resourceInput == null ? null : parseInput(resourceRule, resourceInput, "input.resource");
  return db.$transaction(async (tx) => {
    const released = await release(tx, actor, holder, resource);
    if (released.length === 0) throw new NotHeldError(holder.type, holder.id, resource);
    return released;
  });
}

/**
 * Releases in the caller's transaction; used when a holder ends (task finished, agent
 * terminated) so nothing leaks. Quota rows are locked in resource order (no deadlocks).
 */
export async function release(tx: Db, actor: Actor, holder: Holder, resource: string | null = null): Promise<Allocation[]> {
  const open = await tx.allocation.findMany({
    where: { workspaceId: actor.workspaceId, holderType: holder.type, holderId: holder.id, releasedAt: null, resource: resource ?? undefined, quota: { kind: "CAPACITY" } },
    orderBy: [{ resource: "asc" }, { id: "asc" }],
  });
  const released: Allocation[] = [];
  for (const allocation of open) {
    const quota = await lockQuota(tx, actor.workspaceId, allocation.resource);
    const done = await tx.allocation.updateMany({ where: { id: allocation.id, releasedAt: null }, data: { releasedAt: new Date() } });
    if (done.count === 0) continue; // released concurrently
    await tx.quota.update({ where: { id: quota.id }, data: { allocated: { decrement: allocation.granted } } });
    await recordEvent(tx, actor, { topic: "quota", type: "quota.released", entityId: quota.id, payload: { resource: allocation.resource, holderType: holder.type, holderId: holder.id, amount: allocation.granted } });
    released.push({ ...allocation, releasedAt: new Date() });
  }
  return released;
}

/**
 * Changes the units in use of a CAPACITY resource counted by its owner rather than by
 * allocations (memory.bytes: the bytes of live memory entries), in the caller's transaction.
 * Growth beyond the limit is refused; shrinking always succeeds. One statement in the common
 * case, so the quota row is locked only from there to the caller's commit: call it last.
 * @throws QuotaExceededError when `delta` > 0 does not fit
 */
export async function adjustCapacity(tx: Db, actor: Actor, resource: string, delta: number): Promise<void> {
  if (delta === 0) return;
  const updated = await tx.$executeRaw`
    UPDATE "Quota" SET allocated = GREATEST(allocated + ${delta}, 0), "updatedAt" = now()
    WHERE "workspaceId" = ${actor.workspaceId} AND resource = ${resource} AND (${delta} <= 0 OR allocated + ${delta} <= "limit")`;
  if (updated > 0) return;
  // No row yet (first use of the default), or no room: decide under the row lock.
  const quota = await lockQuota(tx, actor.workspaceId, resource);
  if (delta > 0 && quota.allocated + delta > quota.limit) throw new QuotaExceededError(resource, quota.limit, quota.allocated, delta, null);
  await tx.quota.update({ where: { id: quota.id }, data: { allocated: Math.max(quota.allocated + delta, 0) } });
}

export interface Usage {
  resource: string;
  kind: "CAPACITY" | "RATE";
  limit: number;
  allocated: number;
  available: number;
  windowSeconds: number | null;
  custom: boolean;
}

/**
 * Usage of the given resources (default: every resource with a quota or a default). `live`
 * supplies counts kept outside the Allocation table (open subscriptions).
 */
export async function quotaUsage(db: Db, workspaceId: string, resources?: readonly string[] | null, live: Record<string, number> = {}): Promise<Usage[]> {
  const quotas = await db.quota.findMany({ where: { workspaceId, resource: resources ? { in: [...resources] } : undefined } });
  const byResource = new Map(quotas.map((q) => [q.resource, q]));
  const names = resources ? [...resources] : [...new Set([...defaultResources(), ...quotas.map((q) => q.resource)])].sort();
  const result: Usage[] = [];
  for (const resource of names) {
    const quota = byResource.get(resource);
    const fallback = defaultQuota(resource);
    if (!quota && !fallback) continue;
    const allocated = live[resource] ?? (quota ? await usage(db, quota) : 0);
    const limit = quota?.limit ?? fallback!.limit;
    result.push({
      resource,
      kind: quota?.kind ?? fallback!.kind,
      limit,
      allocated,
      available: Math.max(0, limit - allocated),
      windowSeconds: quota?.windowSeconds ?? fallback?.windowSeconds ?? null,
      custom: quota?.custom ?? false,
    });
  }
  return result;
}

/** Whether the resource has a built-in default quota (so it can be used before setQuota). */
export function hasDefaultQuota(resource: string): boolean {
  return defaultQuota(resource) !== undefined;
}

// ── internals ───────────────────────────────────────────────────────────────────────────────

/** Locks the workspace's quota row for `resource`, creating it from the default first if needed. */
export async function lockQuota(tx: Db, workspaceId: string, resource: string): Promise<Quota> {
  const locked = await selectQuotaForUpdate(tx, workspaceId, resource);
  if (locked) return locked;
  await createDefaultQuota(tx, workspaceId, resource);
  return (await selectQuotaForUpdate(tx, workspaceId, resource))!;
}

/**
 * A resource's first use in a workspace: creates its quota row with the default limit, unless it
 * exists (a concurrent first use waits on the unique index, then skips).
 * @throws InvalidInputError when the resource has no default (it must be set first)
 */
export async function createDefaultQuota(db: Db, workspaceId: string, resource: string): Promise<void> {
  const fallback = defaultQuota(resource);
  if (!fallback) {
    throw new InvalidInputError([{ path: "input.resource", message: `unknown resource "${resource}": set a quota for it first (setQuota)` }]);
  }
  await db.quota.createMany({ data: [{ workspaceId, resource, ...fallback }], skipDuplicates: true });
}

/**
 * The quota row, locked, in one statement. FOR NO KEY UPDATE, as an UPDATE of it locks: it does
 * not wait for (or block) the KEY SHARE locks that inserting an Allocation takes on its quota.
 */
async function selectQuotaForUpdate(tx: Db, workspaceId: string, resource: string): Promise<Quota | undefined> {
  const rows = await tx.$queryRaw<Quota[]>`
    SELECT id, "workspaceId", resource, kind::text AS kind, "limit", "windowSeconds", allocated, custom, "createdAt", "updatedAt"
    FROM "Quota" WHERE "workspaceId" = ${workspaceId} AND resource = ${resource} FOR NO KEY UPDATE`;
  return rows[0];
}

/** Units in use: held units (CAPACITY) or units granted inside the window (RATE). */
async function usage(db: Db, quota: Quota): Promise<number> {
  if (quota.kind === "CAPACITY") return quota.allocated;
  const since = new Date(Date.now() - (quota.windowSeconds ?? 0) * 1000);
  const sum = await db.allocation.aggregate({ where: { quotaId: quota.id, createdAt: { gt: since } }, _sum: { granted: true } });
  return sum._sum.granted ?? 0;
}

/** When enough units of a RATE quota leave the window for `amount` to fit. */
async function rateRetryAt(db: Db, quota: Quota, amount: number): Promise<Date | null> {
  if (amount > quota.limit) return null;
  const windowMs = (quota.windowSeconds ?? 0) * 1000;
  const inWindow = await db.allocation.findMany({ where: { quotaId: quota.id, createdAt: { gt: new Date(Date.now() - windowMs) } }, orderBy: { createdAt: "asc" }, select: { createdAt: true, granted: true } });
  let used = inWindow.reduce((sum, a) => sum + a.granted, 0);
  for (const allocation of inWindow) {
    used -= allocation.granted;
    if (used + amount <= quota.limit) return new Date(allocation.createdAt.getTime() + windowMs);
  }
  return null;
}

/**
 * Runs `fn` (a transaction that may hit a quota) and, when it is refused, records the refusal
 * in a transaction of its own (the refused one rolled back) before rethrowing.
 */
export async function recordingRefusals<T>(db: PrismaClient, actor: Actor, holder: Holder, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof QuotaExceededError) await recordRefusal(db, actor, error, holder);
    throw error;
  }
}

/** A refusal is an event too (quotaEvents), written after the refused transaction rolled back. */
export async function recordRefusal(db: PrismaClient, actor: Actor, error: QuotaExceededError, holder: Holder): Promise<void> {
  const quota = await db.quota.findUnique({ where: { workspaceId_resource: { workspaceId: actor.workspaceId, resource: error.resource } }, select: { id: true } });
  if (!quota) return;
  await db.$transaction((tx) => recordEvent(tx, actor, {
    topic: "quota",
    type: "quota.refused",
    entityId: quota.id,
    payload: { resource: error.resource, holderType: holder.type, holderId: holder.id, requested: error.requested, inUse: error.inUse, limit: error.limit },
  }));
}
