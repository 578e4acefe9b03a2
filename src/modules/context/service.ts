/**
 * Shared context (seed 000's cross-swarm context): named items of JSON data that reach one
 * swarm, several swarms or the whole workspace, expire with a TTL, and carry a chain of custody.
 *
 * Vocabulary
 * - item:      named data in a workspace (names are unique per workspace).
 * - scope:     WORKSPACE, or SWARMS with the list of swarms whose members may read it.
 * - custody:   the chain of who did what to the item: PUBLISHED, UPDATED, READ (every time its
 *              data was returned to someone), SHARED (its scope widened; with the swarms added).
 * - reader:    a principal with its agents and their swarms (see the memory module's access rule).
 *
 * Access rule (the one place it is written: {@link visibleContextSql}): an admin sees every item
 * of its workspace; anyone else sees WORKSPACE items, the items it published or that were
 * published as one of its agents, and SWARMS items that reach one of its swarms. Expired items
 * are seen by nobody. Whoever sees an item may republish it and widen its scope (propagation);
 * a scope never narrows.
 */
import { z } from "zod";
import type { Db, PrismaClient } from "../../db/client.ts";
import { AccessDeniedError, InvalidInputError, NotFoundError } from "../../errors.ts";
import { type Actor, recordEvent } from "../../events/eventLog.ts";
import { type ContextItem, Prisma } from "../../generated/prisma/client.ts";
import { labelRule, parseInput } from "../../validation.ts";
import { assertActsAs, expiryOf, jsonBytes, liveSql, type Reader, visibleValues } from "../memory/service.ts";

/** Most swarms one item reaches (and one call names). */
export const MAX_SWARMS = 50;
const MAX_TTL_SECONDS = 10 * 365 * 24 * 3600;

export interface ContextLimits {
  /** Largest data, as JSON text in UTF-8 (MEMORY_MAX_VALUE_BYTES). */
  maxValueBytes: number;
}

/** The access rule as a condition on the columns of `alias` (scope, swarmIds, createdBy, agentId). */
export function visibleContextSql(reader: Reader, alias: string): Prisma.Sql {
  if (reader.admin) return Prisma.sql`TRUE`;
  const col = (name: string) => Prisma.raw(`${alias}."${name}"`);
  return Prisma.sql`(${col("scope")}::text = 'WORKSPACE'
    OR ${col("createdBy")} = ${reader.subject}
    OR ${col("agentId")} = ANY(${[...reader.agentIds]}::text[])
    OR (${col("scope")}::text = 'SWARMS' AND ${col("swarmIds")} && ${[...reader.swarmIds]}::text[]))`;
}

const ITEM_COLUMNS = Prisma.raw(
  `c.id, c."workspaceId", c.name, c.scope::text AS scope, c."swarmIds", c.data, c.bytes, c."createdBy", c."agentId", c."expiresAt", c."createdAt", c."updatedAt"`,
);

const swarmListRule = z.array(z.string()).max(MAX_SWARMS, `at most ${MAX_SWARMS} swarms`);

const publishSchema = z.object({
  name: labelRule,
  data: z.record(z.string(), z.unknown()),
  swarmIds: swarmListRule.nullish(),
  ttlSeconds: z.number().int("must be a whole number").min(0, "must not be negative").max(MAX_TTL_SECONDS, "must be at most ten years").nullish(),
  agentId: z.string().nullish(),
});

export interface PublishedContext {
  item: ContextItem;
  created: boolean;
}

/**
 * Publishes the item `name`: creates it (scope: the given swarms, or the whole workspace) or
 * replaces the data of the existing one, and records PUBLISHED or UPDATED in its custody.
 * `ttlSeconds` sets the expiry from now (0: none; omitted: keep).
 * @throws AccessDeniedError when the name is taken by an item the reader may not see
 * @throws InvalidInputError when swarms are given for an existing item (shareContext widens scope)
 * @throws NotFoundError for an unknown swarm, or an agent the reader does not act as
 */
export async function publishContext(db: PrismaClient, reader: Reader, input: z.input<typeof publishSchema>, limits: ContextLimits): Promise<PublishedContext> {
  const valid = parseInput(publishSchema, input);
  const bytes = jsonBytes(valid.data);
  if (bytes > limits.maxValueBytes) {
    throw new InvalidInputError([{ path: "input.data", message: `the data is ${bytes} bytes as JSON; at most ${limits.maxValueBytes} (MEMORY_MAX_VALUE_BYTES)` }]);
  }
  const actor = actorOf(reader);
  return db.$transaction(async (tx) => {
    const swarmIds = await existingSwarms(tx, reader, valid.swarmIds ?? []);
    if (valid.agentId) await assertActsAs(tx, reader, valid.agentId);
    for (let attempt = 1; ; attempt++) {
      const current = await lockItem(tx, reader, Prisma.sql`c.name = ${valid.name}`);
      if (current && !current.visible) throw new AccessDeniedError(`context ${valid.name}`, "the name is taken by an item you may not see or change");
      if (current && valid.swarmIds) {
        throw new InvalidInputError([{ path: "input.swarmIds", message: "the item exists: widen its scope with shareContext (a scope never narrows)" }]);
      }
      const expiresAt = await expiryOf(tx, valid.ttlSeconds, current?.expiresAt ?? null);
      const data = valid.data as Prisma.InputJsonObject;
      let item: ContextItem;
      if (current) {
        item = await tx.contextItem.update({ where: { id: current.id }, data: { data, bytes, expiresAt, agentId: valid.agentId ?? current.agentId } });
      } else {
        const [created] = await tx.contextItem.createManyAndReturn({
          data: [{ workspaceId: reader.workspaceId, name: valid.name, scope: swarmIds.length > 0 ? "SWARMS" : "WORKSPACE", swarmIds, data, bytes, createdBy: reader.subject, agentId: valid.agentId ?? null, expiresAt }],
          skipDuplicates: true,
        });
        // A concurrent publisher created it first (we waited for its commit): lock that one.
        if (!created) {
          if (attempt >= 3) throw new Error(`context ${valid.name}: the item keeps being created and deleted concurrently`);
          continue;
        }
        item = created;
      }
      const action = current ? "UPDATED" : "PUBLISHED";
      await tx.contextCustody.create({ data: { workspaceId: reader.workspaceId, itemId: item.id, action, actor: reader.subject, agentId: valid.agentId ?? null, swarmIds: [] } });
      await recordEvent(tx, actor, { topic: "context", type: current ? "context.updated" : "context.published", entityId: item.id, payload: eventPayload(item) });
      return { item, created: !current };
    }
  });
}

const shareSchema = z
  .object({ id: z.string(), swarmIds: swarmListRule.default([]), toWorkspace: z.boolean().default(false), agentId: z.string().nullish() })
  .refine((v) => v.toWorkspace || v.swarmIds.length > 0, { path: ["swarmIds"], message: "name the swarms to share with, or set toWorkspace" });

export interface SharedContext {
  item: ContextItem;
  /** The swarms the item reaches now that it did not before (empty when widened to the workspace). */
  addedSwarmIds: string[];
}

/**
 * Widens an item's scope — to more swarms, or to the whole workspace — and records SHARED in its
 * custody with the swarms added. Anyone who sees the item may share it onward.
 * @throws NotFoundError when the item is not one the reader sees (or a swarm is unknown)
 * @throws InvalidInputError when nothing would widen (the swarms already reached, or already WORKSPACE)
 */
export async function shareContext(db: PrismaClient, reader: Reader, input: z.input<typeof shareSchema>): Promise<SharedContext> {
  const valid = parseInput(shareSchema, input);
  return db.$transaction(async (tx) => {
    const current = await lockItem(tx, reader, Prisma.sql`c.id = ${valid.id}`);
    if (!current?.visible) throw new NotFoundError("ContextItem", valid.id);
    if (current.scope === "WORKSPACE") throw new InvalidInputError([{ path: "input.id", message: "the item already reaches the whole workspace" }]);
    const swarmIds = await existingSwarms(tx, reader, valid.swarmIds);
    if (valid.agentId) await assertActsAs(tx, reader, valid.agentId);
    const added = valid.toWorkspace ? [] : swarmIds.filter((id) => !current.swarmIds.includes(id));
    if (!valid.toWorkspace && added.length === 0) throw new InvalidInputError([{ path: "input.swarmIds", message: "the item already reaches every one of these swarms" }]);
    const reach = [...current.swarmIds, ...added];
    if (reach.length > MAX_SWARMS) throw new InvalidInputError([{ path: "input.swarmIds", message: `an item reaches at most ${MAX_SWARMS} swarms; share it with the workspace instead` }]);
    const item = await tx.contextItem.update({ where: { id: current.id }, data: valid.toWorkspace ? { scope: "WORKSPACE", swarmIds: [] } : { swarmIds: reach } });
    await tx.contextCustody.create({ data: { workspaceId: reader.workspaceId, itemId: item.id, action: "SHARED", actor: reader.subject, agentId: valid.agentId ?? null, swarmIds: added } });
    await recordEvent(tx, actorOf(reader), { topic: "context", type: "context.shared", entityId: item.id, payload: { ...eventPayload(item), addedSwarmIds: added, toWorkspace: valid.toWorkspace } });
    return { item, addedSwarmIds: added };
  });
}

type LockedItem = ContextItem & { expired: boolean; visible: boolean };

/** Locks the item matching `match` in the reader's workspace, first deleting it if it has expired. */
async function lockItem(tx: Db, reader: Reader, match: Prisma.Sql): Promise<LockedItem | undefined> {
  const [row] = await tx.$queryRaw<LockedItem[]>`
    SELECT ${ITEM_COLUMNS}, NOT ${liveSql("c")} AS expired, ${visibleContextSql(reader, "c")} AS visible
    FROM "ContextItem" c WHERE c."workspaceId" = ${reader.workspaceId} AND ${match} FOR UPDATE`;
  if (!row?.expired) return row;
  await tx.contextItem.delete({ where: { id: row.id } });
  await recordEvent(tx, { workspaceId: row.workspaceId, subject: "system" }, { topic: "context", type: "context.expired", entityId: row.id, payload: eventPayload(row) });
  return undefined;
}

/** The swarms, checked to exist in the reader's workspace, without repeats. */
async function existingSwarms(tx: Db, reader: Reader, ids: readonly string[]): Promise<string[]> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return [];
  const found = await tx.swarm.findMany({ where: { id: { in: unique }, workspaceId: reader.workspaceId }, select: { id: true } });
  const missing = unique.find((id) => !found.some((s) => s.id === id));
  if (missing) throw new NotFoundError("Swarm", missing);
  return unique;
}

function eventPayload(item: ContextItem): Prisma.InputJsonObject {
  return { name: item.name, scope: item.scope, swarmIds: item.swarmIds, createdBy: item.createdBy, agentId: item.agentId };
}

function actorOf(reader: Reader): Actor {
  return { workspaceId: reader.workspaceId, subject: reader.subject };
}

// ── reads ───────────────────────────────────────────────────────────────────────────────────

/** The live item named `name` if the reader may see it. Reading its data is recorded by {@link recordReads}. */
export async function contextByName(db: Db, reader: Reader, name: string): Promise<ContextItem | null> {
  parseInput(labelRule, name, "name");
  const [row] = await db.$queryRaw<ContextItem[]>`
    SELECT ${ITEM_COLUMNS} FROM "ContextItem" c
    WHERE c."workspaceId" = ${reader.workspaceId} AND c.name = ${name} AND ${liveSql("c")} AND ${visibleContextSql(reader, "c")}`;
  return row ?? null;
}

/** Items by id, in order, null for each the reader may not see. */
export async function contextByIds(db: Db, reader: Reader, ids: readonly string[]): Promise<(ContextItem | null)[]> {
  const rows = await db.$queryRaw<ContextItem[]>`
    SELECT ${ITEM_COLUMNS} FROM "ContextItem" c
    WHERE c.id = ANY(${[...ids]}::text[]) AND c."workspaceId" = ${reader.workspaceId} AND ${liveSql("c")} AND ${visibleContextSql(reader, "c")}`;
  return ids.map((id) => rows.find((r) => r.id === id) ?? null);
}

export interface ContextFilter {
  /** Items reaching this swarm (WORKSPACE items reach every swarm). */
  swarmId?: string | null;
  namePrefix?: string | null;
}

function listWhere(reader: Reader, filter: ContextFilter): Prisma.Sql {
  const conditions = [Prisma.sql`c."workspaceId" = ${reader.workspaceId}`, liveSql("c"), visibleContextSql(reader, "c")];
  if (filter.swarmId) conditions.push(Prisma.sql`(c.scope::text = 'WORKSPACE' OR ${filter.swarmId} = ANY(c."swarmIds"))`);
  if (filter.namePrefix) conditions.push(Prisma.sql`starts_with(c.name, ${filter.namePrefix})`);
  return Prisma.join(conditions, " AND ");
}

/** A page of the items the reader may see, by name. */
export async function listContext(db: Db, reader: Reader, filter: ContextFilter, page: { offset: number; limit: number }): Promise<ContextItem[]> {
  return db.$queryRaw<ContextItem[]>`SELECT ${ITEM_COLUMNS} FROM "ContextItem" c WHERE ${listWhere(reader, filter)} ORDER BY c.name LIMIT ${page.limit} OFFSET ${page.offset}`;
}

export async function countContext(db: Db, reader: Reader, filter: ContextFilter): Promise<number> {
  const [row] = await db.$queryRaw<{ count: number }[]>`SELECT count(*)::int AS count FROM "ContextItem" c WHERE ${listWhere(reader, filter)}`;
  return row!.count;
}

/** Records that the reader was given the data of these items: one READ custody entry each, in one statement. */
export async function recordReads(db: Db, reader: Reader, items: readonly Pick<ContextItem, "id" | "workspaceId">[]): Promise<void> {
  if (items.length === 0) return;
  await db.contextCustody.createMany({ data: items.map((item) => ({ workspaceId: item.workspaceId, itemId: item.id, action: "READ" as const, actor: reader.subject, swarmIds: [] })) });
}

/** The last `last` links of an item's chain of custody, oldest first. */
export async function custodyOf(db: Db, itemId: string, last: number) {
  const rows = await db.contextCustody.findMany({ where: { itemId }, orderBy: [{ at: "desc" }, { id: "desc" }], take: last });
  return rows.reverse();
}

/** Which context events (their payloads, in order) the reader may see, by {@link visibleContextSql}. */
export function visibleContextEvents(db: Db, reader: Reader, payloads: readonly Record<string, unknown>[]): Promise<boolean[]> {
  const columns = [["scope", "text"], ["swarmIds", "text[]"], ["createdBy", "text"], ["agentId", "text"]] as const;
  const strings = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);
  return visibleValues(db, reader, visibleContextSql, columns, payloads.map((p) => [String(p.scope ?? "SWARMS"), strings(p.swarmIds), String(p.createdBy ?? ""), typeof p.agentId === "string" ? p.agentId : null]));
}

/** Deletes expired items with their custody (the sweeper), each with a context.expired event. */
export async function sweepExpiredContext(db: PrismaClient, batchSize = 500): Promise<number> {
  let total = 0;
  for (;;) {
    const swept = await db.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<ContextItem[]>`
        DELETE FROM "ContextItem" c WHERE c.id IN (
          SELECT x.id FROM "ContextItem" x WHERE x."expiresAt" <= now() ORDER BY x."expiresAt" LIMIT ${batchSize} FOR UPDATE SKIP LOCKED)
        RETURNING ${ITEM_COLUMNS}`;
      for (const row of rows) {
        await recordEvent(tx, { workspaceId: row.workspaceId, subject: "system" }, { topic: "context", type: "context.expired", entityId: row.id, payload: eventPayload(row) });
      }
      return rows.length;
    });
    total += swept;
    if (swept < batchSize) return total;
  }
}
