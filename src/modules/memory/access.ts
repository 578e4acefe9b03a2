/**
 * Who may read (and so change) a memory entry. Every read path — by key, by id, lists, search,
 * stats, nested fields, events — and every write filters with {@link visibleMemorySql}, so the
 * rule is written once, in SQL, and applied to table rows and to event payloads alike.
 *
 * A reader is a token principal acting as the agents it registered (`Agent.registeredBy`, not
 * terminated); its swarms are the swarms those agents are members of now. It sees an entry when
 * any of these holds:
 * - it holds `admin` (every entry of its workspace: operators, dashboards, quota clean-up);
 * - the entry is WORKSPACE;
 * - it owns the entry (its token created it);
 * - the entry's current version was written as one of its agents;
 * - the entry is SWARM and its swarm is one of its swarms.
 * So PRIVATE means: the owner, and whoever acts as the agent that wrote it. Expired entries are
 * seen by nobody ({@link liveSql}), whether or not the sweeper has deleted them yet.
 */
import type { Principal } from "../../auth/tokens.ts";
import type { Db } from "../../db/client.ts";
import { Prisma } from "../../generated/prisma/client.ts";

export interface Reader {
  workspaceId: string;
  /** The token subject. */
  subject: string;
  admin: boolean;
  /** The agents the principal acts as. */
  agentIds: readonly string[];
  /** The swarms those agents are members of. */
  swarmIds: readonly string[];
}

/** What the rule looks at: columns of an entry, or fields of an event payload about one. */
export interface AccessMeta {
  accessLevel: string;
  ownerSubject: string;
  agentId: string | null;
  swarmId: string | null;
}

/** The reader a token is: its agents and their swarms, in one statement. */
export async function readerOf(db: Db, principal: Principal): Promise<Reader> {
  const admin = principal.scopes.has("admin");
  const agents = admin
    ? []
    : await db.$queryRaw<{ id: string; swarmIds: string[] }[]>`
        SELECT a.id, coalesce(array_agg(m."swarmId") FILTER (WHERE m."swarmId" IS NOT NULL), '{}') AS "swarmIds"
        FROM "Agent" a LEFT JOIN "SwarmMember" m ON m."agentId" = a.id
        WHERE a."workspaceId" = ${principal.workspaceId} AND a."registeredBy" = ${principal.subject} AND a.status <> 'TERMINATED'
        GROUP BY a.id`;
  return {
    workspaceId: principal.workspaceId,
    subject: principal.subject,
    admin,
    agentIds: agents.map((a) => a.id),
    swarmIds: [...new Set(agents.flatMap((a) => a.swarmIds))],
  };
}

/** A column of `alias` (a fixed name from this module, never input). */
const column = (alias: string, name: string) => Prisma.raw(`${alias}."${name}"`);

/** The access rule as a condition on the columns of `alias` (accessLevel, ownerSubject, agentId, swarmId). */
export function visibleMemorySql(reader: Reader, alias: string): Prisma.Sql {
  if (reader.admin) return Prisma.sql`TRUE`;
  const level = Prisma.sql`${column(alias, "accessLevel")}::text`;
  return Prisma.sql`(${level} = 'WORKSPACE'
    OR ${column(alias, "ownerSubject")} = ${reader.subject}
    OR ${column(alias, "agentId")} = ANY(${[...reader.agentIds]}::text[])
    OR (${level} = 'SWARM' AND ${column(alias, "swarmId")} = ANY(${[...reader.swarmIds]}::text[])))`;
}

/** Not expired, by the database's clock. */
export function liveSql(alias: string): Prisma.Sql {
  return Prisma.sql`(${column(alias, "expiresAt")} IS NULL OR ${column(alias, "expiresAt")} > now())`;
}

/** A column of the rows {@link visibleValues} checks: its name and SQL type. */
export type ValueColumn = readonly [name: string, type: "text" | "text[]"];

/**
 * Which of `rows` (fields of event payloads) the reader may see under `rule`, the same rule that
 * filters table rows: the rows become a VALUES list with the given columns, which the rule
 * filters. One statement.
 */
export async function visibleValues(
  db: Db,
  reader: Reader,
  rule: (reader: Reader, alias: string) => Prisma.Sql,
  columns: readonly ValueColumn[],
  rows: readonly (readonly (string | readonly string[] | null)[])[],
): Promise<boolean[]> {
  if (reader.admin || rows.length === 0) return rows.map(() => true);
  const values = Prisma.join(rows.map((row, i) => Prisma.sql`(${Prisma.join([Prisma.sql`${i}::int`, ...columns.map(([, type], c) => Prisma.sql`${row[c] ?? null}::${Prisma.raw(type)}`)])})`));
  const names = Prisma.raw(["i", ...columns.map(([name]) => `"${name}"`)].join(", "));
  const visible = await db.$queryRaw<{ i: number }[]>`SELECT e.i FROM (VALUES ${values}) AS e(${names}) WHERE ${rule(reader, "e")}`;
  const seen = new Set(visible.map((row) => row.i));
  return rows.map((_, i) => seen.has(i));
}

/** Which of `metas` (from memory event payloads) the reader may see, by {@link visibleMemorySql}. */
export function visibleMetas(db: Db, reader: Reader, metas: readonly AccessMeta[]): Promise<boolean[]> {
  const columns = [["accessLevel", "text"], ["ownerSubject", "text"], ["agentId", "text"], ["swarmId", "text"]] as const;
  return visibleValues(db, reader, visibleMemorySql, columns, metas.map((m) => [m.accessLevel, m.ownerSubject, m.agentId, m.swarmId]));
}
