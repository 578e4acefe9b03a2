/**
 * Shared memory (seed 001): JSON values agents keep under (namespace, key) in a workspace, with
 * tags, a TTL, an access level, version history and full-text search.
 *
 * Vocabulary
 * - entry:    the current state of one (namespace, key); `version` counts its writes from 1.
 * - version:  one write, kept as a MemoryVersion (the last MEMORY_VERSIONS_KEPT per entry).
 * - merge:    a write whose value is a JSON Merge Patch (RFC 7396) applied to the current value:
 *             objects merge key by key, recursively; a null member deletes that key; anything
 *             else (arrays, strings, numbers) replaces.
 * - expectedVersion: compare-and-set. The write happens only if the entry is at that version
 *             (0: only if the key holds no entry); otherwise VersionConflictError.
 * - live:     not expired. Expired entries vanish from every read at once; the sweeper deletes them.
 * - reader:   who is asking; access.ts holds the one rule that decides what a reader sees.
 *
 * Concurrency. A write locks the entry's row (`SELECT … FOR UPDATE`) before it checks the
 * expected version and computes a merge, so concurrent writers of one key are serialized and
 * each sees the version the previous one committed: with any number of writers expecting
 * version n, exactly one succeeds. A key without an entry has no row to lock: concurrent
 * creators race on the unique index (`INSERT … ON CONFLICT DO NOTHING` waits for the winner's
 * commit), and the losers go back to locking the row the winner created. The `memory.bytes`
 * quota row is updated last, in one statement.
 */
import jsonMergePatch from "json-merge-patch";
import { z } from "zod";
import type { Db, PrismaClient } from "../../db/client.ts";
import { AccessDeniedError, InvalidInputError, NotFoundError, VersionConflictError } from "../../errors.ts";
import { type Actor, recordEvent } from "../../events/eventLog.ts";
import { Prisma } from "../../generated/prisma/client.ts";
import type { MemoryAccessLevel, MemoryEntry, MemoryVersion } from "../../generated/prisma/client.ts";
import { labelListRule, labelRule, parseInput } from "../../validation.ts";
import * as quotas from "../quotas/service.ts";
import { type AccessMeta, liveSql, type Reader, visibleMemorySql, visibleMetas } from "./access.ts";

export { liveSql, readerOf, type Reader, visibleValues } from "./access.ts";

/** The quota resource memory values count against. */
export const MEMORY_BYTES = "memory.bytes";
/** Longest full-text query accepted (characters). */
export const MAX_SEARCH_TEXT = 500;
/** Most entries one cascading delete removes; call again while `hasMore`. */
export const MAX_CASCADE = 1000;
/** Longest TTL: ten years. */
const MAX_TTL_SECONDS = 10 * 365 * 24 * 3600;

/** An entry as read: every column but the search text. */
export type MemoryRow = Omit<MemoryEntry, "searchText">;

export interface MemoryLimits {
  /** Largest value, as JSON text in UTF-8 (MEMORY_MAX_VALUE_BYTES). */
  maxValueBytes: number;
  /** Versions kept per entry (MEMORY_VERSIONS_KEPT). */
  versionsKept: number;
}

/** Size of a JSON value as stored: its JSON text in UTF-8. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

// ── input rules ─────────────────────────────────────────────────────────────────────────────

export const keyRule = z
  .string()
  .min(1, "must not be empty")
  .max(200, "must be at most 200 characters")
  .regex(/^[^\s\p{Cc}]+$/u, "must not contain whitespace or control characters");

const ACCESS_LEVELS = ["WORKSPACE", "SWARM", "PRIVATE"] as const;

const putSchema = z
  .object({
    namespace: labelRule,
    key: keyRule,
    value: z.unknown().refine((v) => v !== undefined, "is required"),
    merge: z.boolean().default(false),
    ttlSeconds: z.number().int("must be a whole number").min(0, "must not be negative").max(MAX_TTL_SECONDS, "must be at most ten years").nullish(),
    tags: labelListRule.nullish(),
    accessLevel: z.enum(ACCESS_LEVELS).nullish(),
    swarmId: z.string().nullish(),
    agentId: z.string().nullish(),
    expectedVersion: z.number().int("must be a whole number").min(0, "must not be negative").nullish(),
  })
  .superRefine((v, ctx) => {
    if (v.accessLevel === "SWARM" && !v.swarmId) ctx.addIssue({ code: "custom", path: ["swarmId"], message: "a SWARM entry needs the swarm whose members may read it" });
    if (v.swarmId && v.accessLevel !== "SWARM") ctx.addIssue({ code: "custom", path: ["swarmId"], message: "only SWARM entries take a swarm (set accessLevel: SWARM)" });
    if (v.merge && hasUnsafeKey(v.value)) ctx.addIssue({ code: "custom", path: ["value"], message: "a merge patch may not use the keys __proto__, constructor or prototype" });
  });

export type PutMemoryInput = z.input<typeof putSchema>;

/** Keys the merge library refuses to descend into (it stops at them): refused instead. */
function hasUnsafeKey(value: unknown): boolean {
  if (value === null || typeof value !== "object") return false;
  if (Array.isArray(value)) return false;
  return Object.entries(value).some(([k, v]) => k === "__proto__" || k === "constructor" || k === "prototype" || hasUnsafeKey(v));
}

// ── writes ──────────────────────────────────────────────────────────────────────────────────

export interface WrittenMemory {
  entry: MemoryRow;
  /** True when the write created the entry (version 1). */
  created: boolean;
}

type LockedRow = MemoryRow & { expired: boolean; visible: boolean };

/**
 * Creates or updates the entry at (namespace, key). Omitted tags, access level and TTL keep the
 * entry's current ones (a new entry: no tags, WORKSPACE, no expiry); `ttlSeconds: 0` removes the
 * expiry. Only the owner (or an admin) may change an entry's access level or swarm.
 * @throws VersionConflictError when `expectedVersion` does not match
 * @throws AccessDeniedError when the key holds an entry the reader may not see, or the reader may not change its access
 * @throws QuotaExceededError when the value would not fit the memory.bytes quota
 * @throws NotFoundError for an unknown swarm, or an agent the reader does not act as
 */
export async function putMemory(db: PrismaClient, reader: Reader, input: PutMemoryInput, limits: MemoryLimits): Promise<WrittenMemory> {
  const valid = parseInput(putSchema, input);
  checkSize(valid.value, limits, "");
  const actor = actorOf(reader);
  const holder = { type: "EXTERNAL" as const, id: `memory ${valid.namespace}/${valid.key}` };
  return quotas.recordingRefusals(db, actor, holder, () =>
    db.$transaction(async (tx) => {
      if (valid.agentId) await assertActsAs(tx, reader, valid.agentId);
      if (valid.swarmId && !(await tx.swarm.findFirst({ where: { id: valid.swarmId, workspaceId: reader.workspaceId }, select: { id: true } }))) {
        throw new NotFoundError("Swarm", valid.swarmId);
      }
      for (let attempt = 1; ; attempt++) {
        const current = await lockEntry(tx, reader, valid.namespace, valid.key);
        if (current && !current.visible) throw new AccessDeniedError(`memory ${valid.namespace}/${valid.key}`, "the key holds an entry you may not see or change");
        if (valid.expectedVersion != null && (current?.version ?? 0) !== valid.expectedVersion) {
          throw new VersionConflictError(valid.namespace, valid.key, valid.expectedVersion, current?.version ?? null);
        }
        const value = valid.merge ? jsonMergePatch.apply(current ? structuredClone(current.value) : {}, valid.value) : valid.value;
        if (valid.merge) checkSize(value, limits, current ? ` after merging into version ${current.version}` : "");
        const changesAccess = valid.accessLevel != null && (valid.accessLevel !== current?.accessLevel || (valid.swarmId ?? null) !== current.swarmId);
        if (current && changesAccess && !reader.admin && current.ownerSubject !== reader.subject) {
          throw new AccessDeniedError(`memory ${valid.namespace}/${valid.key}`, `only its owner (${current.ownerSubject}) may change its access level`);
        }
        const tags = valid.tags ? [...new Set(valid.tags)].sort() : (current?.tags ?? []);
        const fields = {
          value: value as Prisma.InputJsonValue,
          bytes: jsonBytes(value),
          tags,
          accessLevel: valid.accessLevel ?? current?.accessLevel ?? "WORKSPACE",
          swarmId: valid.accessLevel != null ? (valid.swarmId ?? null) : (current?.swarmId ?? null),
          agentId: valid.agentId ?? null,
          updatedBy: reader.subject,
          searchText: searchTextOf(valid.key, tags, value),
          expiresAt: await expiryOf(tx, valid.ttlSeconds, current?.expiresAt ?? null),
        };
        let entry: MemoryRow;
        if (current) {
          entry = await tx.memoryEntry.update({ where: { id: current.id }, data: { ...fields, version: { increment: 1 } }, omit: { searchText: true } });
        } else {
          const [created] = await tx.memoryEntry.createManyAndReturn({
            data: [{ ...fields, workspaceId: reader.workspaceId, namespace: valid.namespace, key: valid.key, ownerSubject: reader.subject }],
            skipDuplicates: true,
            omit: { searchText: true },
          });
          // A concurrent writer created the entry first (we waited for its commit): lock that one.
          if (!created) {
            if (attempt >= 3) throw new Error(`memory ${valid.namespace}/${valid.key}: the entry keeps being created and deleted concurrently`);
            continue;
          }
          entry = created;
        }
        await tx.memoryVersion.create({
          data: { workspaceId: reader.workspaceId, entryId: entry.id, version: entry.version, value: fields.value, bytes: fields.bytes, tags, merged: valid.merge, writtenBy: reader.subject, agentId: fields.agentId },
        });
        await tx.memoryVersion.deleteMany({ where: { entryId: entry.id, version: { lte: entry.version - limits.versionsKept } } });
        await recordEvent(tx, actor, { topic: "memory", type: current ? "memory.updated" : "memory.created", entityId: entry.id, payload: { ...eventPayload(entry), merged: valid.merge, bytes: entry.bytes } });
        await quotas.adjustCapacity(tx, actor, MEMORY_BYTES, entry.bytes - (current?.bytes ?? 0));
        return { entry, created: !current };
      }
    }),
  );
}

/** Locks the entry at (namespace, key), first forgetting it if it has expired. */
async function lockEntry(tx: Db, reader: Reader, namespace: string, key: string): Promise<LockedRow | undefined> {
  const [row] = await tx.$queryRaw<LockedRow[]>`
    SELECT ${ENTRY_COLUMNS}, NOT ${liveSql("m")} AS expired, ${visibleMemorySql(reader, "m")} AS visible
    FROM "MemoryEntry" m WHERE m."workspaceId" = ${reader.workspaceId} AND m.namespace = ${namespace} AND m.key = ${key}
    FOR UPDATE`;
  if (!row?.expired) return row;
  await tx.$executeRaw`DELETE FROM "MemoryEntry" WHERE id = ${row.id}`;
  await forget(tx, [row], "memory.expired");
  return undefined;
}

/** The expiry a write leaves: kept (ttl omitted), none (0), or ttl seconds from now by the database's clock. */
export async function expiryOf(tx: Db, ttlSeconds: number | null | undefined, current: Date | null): Promise<Date | null> {
  if (ttlSeconds == null) return current;
  if (ttlSeconds === 0) return null;
  const [row] = await tx.$queryRaw<{ at: Date }[]>`SELECT now() + make_interval(secs => ${ttlSeconds}::int) AS at`;
  return row!.at;
}

function checkSize(value: unknown, limits: MemoryLimits, when: string): void {
  const bytes = jsonBytes(value);
  if (bytes > limits.maxValueBytes) {
    throw new InvalidInputError([{ path: "input.value", message: `the value${when} is ${bytes} bytes as JSON; at most ${limits.maxValueBytes} (MEMORY_MAX_VALUE_BYTES)` }]);
  }
}

/**
 * The agent must be one the reader acts as (an admin may name any agent of its workspace).
 * @throws NotFoundError otherwise
 */
export async function assertActsAs(tx: Db, reader: Reader, agentId: string): Promise<void> {
  if (reader.agentIds.includes(agentId)) return;
  if (reader.admin && (await tx.agent.findFirst({ where: { id: agentId, workspaceId: reader.workspaceId }, select: { id: true } }))) return;
  throw new NotFoundError("Agent", agentId);
}

export interface DeletedMemory {
  deleted: { namespace: string; key: string; version: number }[];
  /** A cascade stopped at MAX_CASCADE entries: more match. */
  hasMore: boolean;
}

const deleteSchema = z.object({ namespace: labelRule, key: keyRule, cascade: z.boolean().default(false) });

/**
 * Deletes the entry at (namespace, key) — with `cascade`, every entry of the namespace whose key
 * starts with `key` (at most MAX_CASCADE per call) — among those the reader can see. Deleting
 * nothing is not an error (the result is empty).
 */
export async function deleteMemory(db: PrismaClient, reader: Reader, input: z.input<typeof deleteSchema>): Promise<DeletedMemory> {
  const valid = parseInput(deleteSchema, input);
  const match = valid.cascade ? Prisma.sql`starts_with(m.key, ${valid.key})` : Prisma.sql`m.key = ${valid.key}`;
  return db.$transaction(async (tx) => {
    // One more than the limit is locked only to tell whether more match.
    const locked = await tx.$queryRaw<{ id: string }[]>`
      SELECT m.id FROM "MemoryEntry" m
      WHERE m."workspaceId" = ${reader.workspaceId} AND m.namespace = ${valid.namespace} AND ${match} AND ${liveSql("m")} AND ${visibleMemorySql(reader, "m")}
      ORDER BY m.key LIMIT ${MAX_CASCADE + 1} FOR UPDATE`;
    const ids = locked.slice(0, MAX_CASCADE).map((r) => r.id);
    const rows = await tx.$queryRaw<MemoryRow[]>`DELETE FROM "MemoryEntry" d WHERE d.id = ANY(${ids}::text[]) RETURNING ${DELETED_COLUMNS}`;
    rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    await forget(tx, rows, "memory.deleted", actorOf(reader));
    return { deleted: rows.map((r) => ({ namespace: r.namespace, key: r.key, version: r.version })), hasMore: locked.length > MAX_CASCADE };
  });
}

/**
 * After rows were deleted: one event each, and their bytes given back to each workspace's
 * memory.bytes quota (quota rows locked in workspace order, last).
 */
async function forget(tx: Db, rows: readonly MemoryRow[], type: "memory.deleted" | "memory.expired", by?: Actor): Promise<void> {
  const bytesByWorkspace = new Map<string, number>();
  for (const row of rows) {
    const actor = by ?? { workspaceId: row.workspaceId, subject: "system" };
    await recordEvent(tx, actor, { topic: "memory", type, entityId: row.id, payload: eventPayload(row) });
    bytesByWorkspace.set(row.workspaceId, (bytesByWorkspace.get(row.workspaceId) ?? 0) + row.bytes);
  }
  for (const [workspaceId, bytes] of [...bytesByWorkspace].sort(([a], [b]) => (a < b ? -1 : 1))) {
    await quotas.adjustCapacity(tx, { workspaceId, subject: by?.subject ?? "system" }, MEMORY_BYTES, -bytes);
  }
}

/**
 * Deletes expired entries (the sweeper; safe on several replicas: SKIP LOCKED), in batches, each
 * with its memory.expired events and quota release. Returns how many were deleted.
 */
export async function sweepExpiredMemory(db: PrismaClient, batchSize = 500): Promise<number> {
  let total = 0;
  for (;;) {
    const swept = await db.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<MemoryRow[]>`
        DELETE FROM "MemoryEntry" d WHERE d.id IN (
          SELECT m.id FROM "MemoryEntry" m WHERE m."expiresAt" <= now() ORDER BY m."expiresAt" LIMIT ${batchSize} FOR UPDATE SKIP LOCKED)
        RETURNING ${DELETED_COLUMNS}`;
      await forget(tx, rows, "memory.expired");
      return rows.length;
    });
    total += swept;
    if (swept < batchSize) return total;
  }
}

// ── reads ───────────────────────────────────────────────────────────────────────────────────

const ENTRY_COLUMNS = Prisma.raw(
  `m.id, m."workspaceId", m.namespace, m.key, m.value, m.bytes, m.tags, m."accessLevel"::text AS "accessLevel", m."swarmId", m."ownerSubject", m."agentId",
   m.version, m."accessCount", m."lastAccessedAt", m."expiresAt", m."updatedBy", m."createdAt", m."updatedAt"`,
);
const DELETED_COLUMNS = Prisma.raw(
  `d.id, d."workspaceId", d.namespace, d.key, d.value, d.bytes, d.tags, d."accessLevel"::text AS "accessLevel", d."swarmId", d."ownerSubject", d."agentId",
   d.version, d."accessCount", d."lastAccessedAt", d."expiresAt", d."updatedBy", d."createdAt", d."updatedAt"`,
);

/** What events about an entry carry: its address and what the access rule needs (never the value). */
function eventPayload(row: MemoryRow): Prisma.InputJsonObject {
  return { namespace: row.namespace, key: row.key, version: row.version, accessLevel: row.accessLevel, ownerSubject: row.ownerSubject, agentId: row.agentId, swarmId: row.swarmId };
}

export interface MemoryAt {
  entry: MemoryRow;
  /** The requested earlier version; null when the current one was asked for. */
  version: MemoryVersion | null;
}

/**
 * Reads the entry at (namespace, key) and counts the access (accessCount, lastAccessedAt), in one
 * statement; null when there is none the reader may see, or the requested version is not kept.
 */
export async function readMemory(db: PrismaClient, reader: Reader, address: { namespace: string; key: string; version?: number | null }): Promise<MemoryAt | null> {
  const [entry] = await db.$queryRaw<MemoryRow[]>`
    UPDATE "MemoryEntry" m SET "accessCount" = m."accessCount" + 1, "lastAccessedAt" = now()
    WHERE m."workspaceId" = ${reader.workspaceId} AND m.namespace = ${address.namespace} AND m.key = ${address.key} AND ${liveSql("m")} AND ${visibleMemorySql(reader, "m")}
    RETURNING ${ENTRY_COLUMNS}`;
  if (!entry) return null;
  if (address.version == null || address.version === entry.version) return { entry, version: null };
  const version = await db.memoryVersion.findUnique({ where: { entryId_version: { entryId: entry.id, version: address.version } } });
  return version ? { entry, version } : null;
}

/** Entries by id, in order, null for each the reader may not see (no access is counted). */
export async function memoriesByIds(db: Db, reader: Reader, ids: readonly string[]): Promise<(MemoryRow | null)[]> {
  const rows = await db.$queryRaw<MemoryRow[]>`
    SELECT ${ENTRY_COLUMNS} FROM "MemoryEntry" m
    WHERE m.id = ANY(${[...ids]}::text[]) AND m."workspaceId" = ${reader.workspaceId} AND ${liveSql("m")} AND ${visibleMemorySql(reader, "m")}`;
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => byId.get(id) ?? null);
}

/** The kept versions of an entry (already read through the access rule), newest first. */
export async function memoryVersions(db: Db, entryId: string, limit: number): Promise<MemoryVersion[]> {
  return db.memoryVersion.findMany({ where: { entryId }, orderBy: { version: "desc" }, take: limit });
}

export interface MemoryFilter {
  namespace?: string | null;
  keyPrefix?: string | null;
  /** Entries carrying every one of these tags. */
  tags?: readonly string[] | null;
  accessLevel?: readonly MemoryAccessLevel[] | null;
  /** Full-text query (websearch syntax); orders the results by relevance. */
  text?: string | null;
}

export interface MemoryHit {
  entry: MemoryRow;
  /** 0 to 1, higher is better; null without a text query. */
  relevance: number | null;
  /** Where the text matched, matches between « and »; null without a text query. */
  snippet: string | null;
}

const filterSchema = z.object({
  namespace: labelRule.nullish(),
  keyPrefix: z.string().max(200, "must be at most 200 characters").nullish(),
  tags: labelListRule.nullish(),
  accessLevel: z.array(z.enum(ACCESS_LEVELS)).nullish(),
  text: z.string().trim().max(MAX_SEARCH_TEXT, `must be at most ${MAX_SEARCH_TEXT} characters`).nullish(),
});

/** The WHERE of a list: workspace, live, the access rule, and the filter. */
function listWhere(reader: Reader, filter: MemoryFilter): Prisma.Sql {
  const valid = parseInput(filterSchema, filter, "filter");
  const conditions = [Prisma.sql`m."workspaceId" = ${reader.workspaceId}`, liveSql("m"), visibleMemorySql(reader, "m")];
  if (valid.namespace) conditions.push(Prisma.sql`m.namespace = ${valid.namespace}`);
  if (valid.keyPrefix) conditions.push(Prisma.sql`starts_with(m.key, ${valid.keyPrefix})`);
  if (valid.tags?.length) conditions.push(Prisma.sql`m.tags @> ${valid.tags}::text[]`);
  if (valid.accessLevel?.length) conditions.push(Prisma.sql`m."accessLevel"::text = ANY(${valid.accessLevel}::text[])`);
  if (valid.text) conditions.push(Prisma.sql`m."searchVector" @@ websearch_to_tsquery('english', ${valid.text})`);
  return Prisma.join(conditions, " AND ");
}

/**
 * A page of the entries matching `filter` that the reader may see: by relevance (then key) with
 * a text query, otherwise by namespace and key. Reading a list counts no access.
 * @throws InvalidInputError (path `filter.…`) for a malformed filter
 */
export async function listMemories(db: Db, reader: Reader, filter: MemoryFilter, page: { offset: number; limit: number }): Promise<MemoryHit[]> {
  const where = listWhere(reader, filter);
  const text = filter.text?.trim();
  if (!text) {
    const rows = await db.$queryRaw<MemoryRow[]>`
      SELECT ${ENTRY_COLUMNS} FROM "MemoryEntry" m WHERE ${where} ORDER BY m.namespace, m.key LIMIT ${page.limit} OFFSET ${page.offset}`;
    return rows.map((entry) => ({ entry, relevance: null, snippet: null }));
  }
  // Snippets only for the page: ts_headline re-parses the text, so it runs after LIMIT.
  const rows = await db.$queryRaw<(MemoryRow & { relevance: number; snippet: string })[]>`
    SELECT hit.*, ts_headline('english', s."searchText", websearch_to_tsquery('english', ${text}), 'StartSel=«, StopSel=», MaxWords=24, MinWords=8, MaxFragments=2') AS snippet
    FROM (
      SELECT ${ENTRY_COLUMNS}, ts_rank(m."searchVector", websearch_to_tsquery('english', ${text}), 32)::float8 AS relevance
      FROM "MemoryEntry" m WHERE ${where} ORDER BY relevance DESC, m.namespace, m.key LIMIT ${page.limit} OFFSET ${page.offset}
    ) hit JOIN "MemoryEntry" s ON s.id = hit.id
    ORDER BY hit.relevance DESC, hit.namespace, hit.key`;
  return rows.map(({ relevance, snippet, ...entry }) => ({ entry, relevance: Math.round(relevance * 10_000) / 10_000, snippet }));
}

/** How many entries match `filter` among those the reader may see. */
export async function countMemories(db: Db, reader: Reader, filter: MemoryFilter): Promise<number> {
  const [row] = await db.$queryRaw<{ count: number }[]>`SELECT count(*)::int AS count FROM "MemoryEntry" m WHERE ${listWhere(reader, filter)}`;
  return row!.count;
}

export interface MemoryStats {
  entries: number;
  namespaces: number;
  bytes: number;
  accessCount: number;
  topNamespaces: { namespace: string; entries: number; bytes: number }[];
  /** The workspace's memory.bytes quota: its limit and what all live entries use (whoever may see them). */
  quota: quotas.Usage;
}

/** Entries, namespaces and bytes the reader may see (one namespace, or all), the ten largest namespaces, and the workspace's quota. */
export async function memoryStats(db: PrismaClient, reader: Reader, namespace?: string | null): Promise<MemoryStats> {
  const where = listWhere(reader, { namespace });
  const [totals] = await db.$queryRaw<{ entries: number; namespaces: number; bytes: number; accessCount: number }[]>`
    SELECT count(*)::int AS entries, count(DISTINCT m.namespace)::int AS namespaces, coalesce(sum(m.bytes), 0)::float8 AS bytes,
           coalesce(sum(m."accessCount"), 0)::float8 AS "accessCount"
    FROM "MemoryEntry" m WHERE ${where}`;
  const top = await db.$queryRaw<{ namespace: string; entries: number; bytes: number }[]>`
    SELECT m.namespace, count(*)::int AS entries, sum(m.bytes)::float8 AS bytes
    FROM "MemoryEntry" m WHERE ${where} GROUP BY m.namespace ORDER BY bytes DESC, m.namespace LIMIT 10`;
  const [quota] = await quotas.quotaUsage(db, reader.workspaceId, [MEMORY_BYTES]);
  return { ...totals!, topNamespaces: top, quota: quota! };
}

/** Which memory events (in order) the reader may see: the access rule applied to each event's payload. */
export async function visibleMemoryEvents(db: Db, reader: Reader, payloads: readonly Record<string, unknown>[]): Promise<boolean[]> {
  const metas: AccessMeta[] = payloads.map((p) => ({
    accessLevel: String(p.accessLevel ?? "PRIVATE"),
    ownerSubject: String(p.ownerSubject ?? ""),
    agentId: typeof p.agentId === "string" ? p.agentId : null,
    swarmId: typeof p.swarmId === "string" ? p.swarmId : null,
  }));
  return visibleMetas(db, reader, metas);
}

// ── helpers ─────────────────────────────────────────────────────────────────────────────────

function actorOf(reader: Reader): Actor {
  return { workspaceId: reader.workspaceId, subject: reader.subject };
}

/** What search matches and snippets quote: the key, the tags, and the value's keys and strings. */
export function searchTextOf(key: string, tags: readonly string[], value: unknown): string {
  const parts: string[] = [key.replace(/[_./:-]+/g, " "), ...tags];
  const walk = (v: unknown): void => {
    if (typeof v === "string") parts.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === "object") {
      for (const [k, inner] of Object.entries(v)) {
        parts.push(k.replace(/[_./:-]+/g, " "));
        walk(inner);
      }
    }
  };
  walk(value);
  return parts.join("\n");
}
