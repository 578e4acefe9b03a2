/**
 * Agent domain rules: registration, updates, heartbeats, pause/resume/terminate, and health.
 * Every change runs in one transaction with its event-log row.
 */
import type { Config } from "../../config.ts";
import { type Db, type PrismaClient, retryAborted } from "../../db/client.ts";
import type { SqlRunner } from "../../db/sql.ts";
import { lockForTransition } from "../../db/locks.ts";
import { type Actor, recordEvent } from "../../events/eventLog.ts";
import { z } from "zod";
import type { Agent, AgentStatus, Prisma } from "../../generated/prisma/client.ts";
import { jsonObjectRule, labelListRule, labelRule, nameRule, optionalJsonObjectRule, optionalTextRule, parseInput } from "../../validation.ts";
import { removeAgentFromSwarms } from "../swarms/service.ts";
import * as quotas from "../quotas/service.ts";
import { releaseAgentClaims } from "../tasks/service.ts";
import { AGENT_ACTIONS_ALLOWED_FROM, type AgentAction } from "./stateMachine.ts";

const registerAgentSchema = z.object({
  name: nameRule,
  type: labelRule,
  capabilities: labelListRule.default([]),
  config: jsonObjectRule.default({}),
  metadata: jsonObjectRule.default({}),
});
export type RegisterAgentInput = z.input<typeof registerAgentSchema>;

const updateAgentSchema = z.object({
  name: nameRule.nullish(),
  type: labelRule.nullish(),
  capabilities: labelListRule.nullish(),
  config: jsonObjectRule.nullish(),
  metadata: jsonObjectRule.nullish(),
});
export type UpdateAgentInput = z.input<typeof updateAgentSchema>;

export async function registerAgent(db: PrismaClient, actor: Actor, input: RegisterAgentInput): Promise<Agent> {
  const valid = parseInput(registerAgentSchema, input);
  const holder = { type: "AGENT" as const, id: `new agent ${valid.name}` };
  return quotas.recordingRefusals(db, actor, holder, () => db.$transaction(async (tx) => {
    const agent = await tx.agent.create({
      data: {
        ...valid,
        config: json(valid.config),
        metadata: json(valid.metadata),
        capabilities: normalizeCapabilities(valid.capabilities),
        workspaceId: actor.workspaceId,
        registeredBy: actor.subject,
      },
    });
    // Over the agents quota this throws, rolling the registration back.
    await quotas.allocate(tx, actor, "agents", { type: "AGENT", id: agent.id }, 1);
    await recordEvent(tx, actor, { topic: "agent", type: "agent.registered", entityId: agent.id, payload: { name: agent.name, type: agent.type, status: agent.status } });
    return agent;
  }));
}

/** Replaces the given fields (config and metadata are replaced whole, not merged). */
export async function updateAgent(db: PrismaClient, actor: Actor, id: string, input: UpdateAgentInput): Promise<Agent> {
  const valid = parseInput(updateAgentSchema, input);
  return db.$transaction(async (tx) => {
    await lockAgent(tx, actor, id, "update");
    const agent = await tx.agent.update({
      where: { id },
      data: {
        name: valid.name ?? undefined,
        type: valid.type ?? undefined,
        capabilities: valid.capabilities ? normalizeCapabilities(valid.capabilities) : undefined,
        config: json(valid.config) ?? undefined,
        metadata: json(valid.metadata) ?? undefined,
      },
    });
    const fields = Object.keys(valid).filter((k) => valid[k as keyof typeof valid] != null);
    await recordEvent(tx, actor, { topic: "agent", type: "agent.updated", entityId: id, payload: { fields } });
    return agent;
  });
}

/**
 * A heartbeat in one statement (straight through the driver, like the task hot path): $1 agent id,
 * $2 workspace, $3 metrics (jsonb or null), $4 the unresponsive threshold in seconds, $5 actor.
 * It locks the agent row, stamps it and writes the events {@link recordHeartbeat} describes, in
 * that order; no row when the agent is unknown here or terminated (the caller then says which).
 * The workspace check is `IS NOT DISTINCT FROM` so the lookup stays a primary-key probe (see
 * migration hot_path_history).
 */
export const HEARTBEAT_SQL = `WITH before AS (
       SELECT a.id, coalesce(a."lastHeartbeatAt", a."createdAt") AS "lastSeen" FROM "Agent" a
       WHERE a.id = $1 AND a."workspaceId" IS NOT DISTINCT FROM $2 AND a.status IN ('IDLE', 'BUSY', 'PAUSED')
       FOR NO KEY UPDATE
     ), beat AS (
       UPDATE "Agent" a SET "lastHeartbeatAt" = now(), metrics = COALESCE($3::jsonb, a.metrics), "updatedAt" = now()
       FROM before b WHERE a.id = b.id
       RETURNING a.*
     ), events AS (
       INSERT INTO "PendingEvent" ("workspaceId", topic, type, "entityId", payload, actor, "createdAt")
       SELECT $2, 'agent', e.type, b.id, e.payload, $5, now()
       FROM before b CROSS JOIN LATERAL (VALUES
         (0, 'agent.heartbeat_resumed', jsonb_build_object('silentSince', to_char(b."lastSeen" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
           now() - b."lastSeen" >= make_interval(secs => $4)),
         (1, 'agent.metrics', jsonb_build_object('metrics', $3::jsonb), $3::jsonb IS NOT NULL)
       ) AS e(n, type, payload, due)
       WHERE e.due ORDER BY e.n
     )
     SELECT * FROM beat`;

/**
 * Records a sign of life, with optional resource metrics. A plain heartbeat writes no event (it
 * is not a state change); one carrying metrics writes `agent.metrics`, and one that ends a
 * silence longer than the unresponsive threshold writes `agent.heartbeat_resumed`. One statement
 * ({@link HEARTBEAT_SQL}); a refused one (unknown or terminated agent) gets its precise error
 * from the general path.
 */
export async function recordHeartbeat(
  db: PrismaClient,
  sql: SqlRunner,
  actor: Actor,
  id: string,
  metricsInput: Record<string, unknown> | null | undefined,
  thresholds: HealthThresholds,
): Promise<Agent> {
  const metrics = json(parseInput(optionalJsonObjectRule, metricsInput, "input.metrics"));
  const [beat] = await retryAborted(() =>
    sql.query<Agent>(HEARTBEAT_SQL, [id, actor.workspaceId, metrics == null ? null : JSON.stringify(metrics), thresholds.unresponsiveAfter, actor.subject]),
  );
  if (beat) return beat;
  return db.$transaction(async (tx) => {
    await lockAgent(tx, actor, id, "heartbeat");
    const before = await tx.agent.findUniqueOrThrow({ where: { id }, select: { lastHeartbeatAt: true, createdAt: true, status: true } });
    const now = new Date();
    const agent = await tx.agent.update({ where: { id }, data: { lastHeartbeatAt: now, metrics: metrics ?? undefined } });
    if (agentHealth(before, now, thresholds).status === "UNRESPONSIVE") {
      await recordEvent(tx, actor, { topic: "agent", type: "agent.heartbeat_resumed", entityId: id, payload: { silentSince: (before.lastHeartbeatAt ?? before.createdAt).toISOString() } });
    }
    if (metrics) await recordEvent(tx, actor, { topic: "agent", type: "agent.metrics", entityId: id, payload: { metrics: metrics as Prisma.InputJsonObject } });
    return agent;
  });
}

/**
 * Writes `agent.unresponsive` once per silence for every agent (not terminated) whose last
 * heartbeat — or registration — is older than the unresponsive threshold, so subscribers learn
 * of missed heartbeats without polling health. Run by the server's sweeper; returns how many.
 */
export async function markUnresponsiveAgents(db: PrismaClient, thresholds: HealthThresholds, batchSize = 100): Promise<number> {
  const silentBefore = new Date(Date.now() - thresholds.unresponsiveAfter * 1000);
  const silent = await db.$queryRaw<{ id: string; workspaceId: string; since: Date }[]>`
    SELECT a.id, a."workspaceId", coalesce(a."lastHeartbeatAt", a."createdAt") AS since FROM "Agent" a
    WHERE a.status <> 'TERMINATED' AND coalesce(a."lastHeartbeatAt", a."createdAt") < ${silentBefore}
      AND NOT EXISTS (SELECT 1 FROM "Event" e WHERE e."workspaceId" = a."workspaceId" AND e.topic = 'agent' AND e."entityId" = a.id
                      AND e.type = 'agent.unresponsive' AND e."createdAt" >= coalesce(a."lastHeartbeatAt", a."createdAt"))
      AND NOT EXISTS (SELECT 1 FROM "PendingEvent" e WHERE e."workspaceId" = a."workspaceId" AND e.topic = 'agent' AND e."entityId" = a.id
                      AND e.type = 'agent.unresponsive' AND e."createdAt" >= coalesce(a."lastHeartbeatAt", a."createdAt"))
    LIMIT ${batchSize}`;
  for (const agent of silent) {
    await db.$transaction((tx) =>
      recordEvent(tx, { workspaceId: agent.workspaceId, subject: "system" }, {
        topic: "agent",
        type: "agent.unresponsive",
        entityId: agent.id,
        payload: { silentSince: agent.since.toISOString() },
      }),
    );
  }
  return silent.length;
}

export async function pauseAgent(db: PrismaClient, actor: Actor, id: string): Promise<Agent> {
  return db.$transaction(async (tx) => {
    const { status } = await lockAgent(tx, actor, id, "pause");
    return setStatus(tx, actor, id, status, { status: "PAUSED", pausedFrom: status }, "agent.paused");
  });
}

/** Returns the agent to the status it was paused from. */
export async function resumeAgent(db: PrismaClient, actor: Actor, id: string): Promise<Agent> {
  return db.$transaction(async (tx) => {
    const { status } = await lockAgent(tx, actor, id, "resume");
    const { pausedFrom } = await tx.agent.findUniqueOrThrow({ where: { id }, select: { pausedFrom: true } });
    return setStatus(tx, actor, id, status, { status: pausedFrom ?? "IDLE", pausedFrom: null }, "agent.resumed");
  });
}

/** Final: keeps the agent with its termination time and reason, gives its tasks back and removes it from its swarms. */
export async function terminateAgent(db: PrismaClient, actor: Actor, id: string, reasonInput: string | null | undefined): Promise<Agent> {
  const reason = parseInput(optionalTextRule.nullish(), reasonInput, "input.reason");
  return db.$transaction(async (tx) => {
    const { status } = await lockAgent(tx, actor, id, "terminate");
    await releaseAgentClaims(tx, actor, id);
    await removeAgentFromSwarms(tx, actor, id, "agent terminated");
    await quotas.release(tx, actor, { type: "AGENT", id });
    return setStatus(tx, actor, id, status, { status: "TERMINATED", pausedFrom: null, terminatedAt: new Date(), terminationReason: reason ?? null }, "agent.terminated");
  });
}

/** Locks an agent row and checks the action against the state machine. */
export function lockAgent(tx: Db, actor: Actor, id: string, action: AgentAction) {
  return lockForTransition<AgentStatus>(tx, { table: "Agent", id, workspaceId: actor.workspaceId }, action, AGENT_ACTIONS_ALLOWED_FROM[action]);
}

async function setStatus(
  tx: Db,
  actor: Actor,
  id: string,
  from: AgentStatus,
  data: Prisma.AgentUpdateInput & { status: AgentStatus },
  type: `agent.${string}`,
): Promise<Agent> {
  const agent = await tx.agent.update({ where: { id }, data });
  await recordEvent(tx, actor, { topic: "agent", type, entityId: id, payload: { from, to: data.status } });
  return agent;
}

/** JSON objects validated by zod, typed for Prisma's JSON columns. */
function json(value: Record<string, unknown>): Prisma.InputJsonObject;
function json(value: Record<string, unknown> | null | undefined): Prisma.InputJsonObject | null | undefined;
function json(value: Record<string, unknown> | null | undefined) {
  return value as Prisma.InputJsonObject | null | undefined;
}

/** Capabilities are matched as sets: trimmed, de-duplicated, sorted. */
function normalizeCapabilities(capabilities: readonly string[]): string[] {
  return [...new Set(capabilities.map((c) => c.trim()))].sort();
}

// ── health ──────────────────────────────────────────────────────────────────────────────────

export type HealthStatus = "HEALTHY" | "DEGRADED" | "UNRESPONSIVE" | "OFFLINE";

export interface HealthThresholds {
  /** Seconds of silence after which an agent is DEGRADED. */
  degradedAfter: number;
  /** Seconds of silence after which an agent is UNRESPONSIVE. */
  unresponsiveAfter: number;
}

export function healthThresholds(config: Pick<Config, "heartbeatDegradedAfter" | "heartbeatUnresponsiveAfter">): HealthThresholds {
  return { degradedAfter: config.heartbeatDegradedAfter, unresponsiveAfter: config.heartbeatUnresponsiveAfter };
}

/**
 * Health from the age of the last sign of life (the last heartbeat, or registration for an agent
 * that never sent one). Terminated agents are OFFLINE.
 */
export function agentHealth(
  agent: Pick<Agent, "status" | "lastHeartbeatAt" | "createdAt">,
  now: Date,
  thresholds: HealthThresholds,
): { status: HealthStatus; silenceSeconds: number } {
  const silenceSeconds = Math.max(0, (now.getTime() - (agent.lastHeartbeatAt ?? agent.createdAt).getTime()) / 1000);
  if (agent.status === "TERMINATED") return { status: "OFFLINE", silenceSeconds };
  if (silenceSeconds >= thresholds.unresponsiveAfter) return { status: "UNRESPONSIVE", silenceSeconds };
  if (silenceSeconds >= thresholds.degradedAfter) return { status: "DEGRADED", silenceSeconds };
  return { status: "HEALTHY", silenceSeconds };
}

/**
 * The agents whose health (as {@link agentHealth} derives it at `now`) is one of `statuses`, as a
 * Prisma condition: the same rule, over the last sign of life (last heartbeat, or registration).
 */
export function agentHealthWhere(statuses: readonly HealthStatus[], now: Date, thresholds: HealthThresholds): Prisma.AgentWhereInput {
  const degradedSince = new Date(now.getTime() - thresholds.degradedAfter * 1000);
  const unresponsiveSince = new Date(now.getTime() - thresholds.unresponsiveAfter * 1000);
  /** Last sign of life in [from, to): after `from` (exclusive) and at or before `to`. */
  const lastSeen = (range: { gt?: Date; lte?: Date }): Prisma.AgentWhereInput => ({
    OR: [{ lastHeartbeatAt: range }, { lastHeartbeatAt: null, createdAt: range }],
  });
  const conditions: Record<HealthStatus, Prisma.AgentWhereInput> = {
    HEALTHY: { status: { not: "TERMINATED" }, ...lastSeen({ gt: degradedSince }) },
    DEGRADED: { status: { not: "TERMINATED" }, ...lastSeen({ lte: degradedSince, gt: unresponsiveSince }) },
    UNRESPONSIVE: { status: { not: "TERMINATED" }, ...lastSeen({ lte: unresponsiveSince }) },
    OFFLINE: { status: "TERMINATED" },
  };
  // No status matches nothing (Prisma reads an empty OR as no condition at all).
  return statuses.length === 0 ? { id: { in: [] } } : { OR: [...new Set(statuses)].map((status) => conditions[status]) };
}

export interface HealthCounts {
  HEALTHY: number;
  DEGRADED: number;
  UNRESPONSIVE: number;
  OFFLINE: number;
}

/**
 * Agents counted by health (the rule of {@link agentHealth}), grouped by a key: the members of
 * each of `swarmIds`, or (swarmIds null) the whole workspace under the key "". One statement.
 */
export async function healthCounts(db: Db, workspaceId: string, swarmIds: readonly string[] | null, now: Date, thresholds: HealthThresholds): Promise<Map<string, HealthCounts>> {
  const degradedSince = new Date(now.getTime() - thresholds.degradedAfter * 1000);
  const unresponsiveSince = new Date(now.getTime() - thresholds.unresponsiveAfter * 1000);
  const ids = swarmIds ? [...swarmIds] : null;
  const rows = await db.$queryRaw<{ key: string; health: HealthStatus; count: bigint }[]>`
    SELECT k.key, k.health, count(*) AS count FROM (
      SELECT CASE WHEN ${ids}::text[] IS NULL THEN '' ELSE m."swarmId" END AS key,
        CASE
          WHEN a.status = 'TERMINATED' THEN 'OFFLINE'
          WHEN coalesce(a."lastHeartbeatAt", a."createdAt") <= ${unresponsiveSince} THEN 'UNRESPONSIVE'
          WHEN coalesce(a."lastHeartbeatAt", a."createdAt") <= ${degradedSince} THEN 'DEGRADED'
          ELSE 'HEALTHY'
        END AS health
      FROM "Agent" a
      LEFT JOIN "SwarmMember" m ON ${ids}::text[] IS NOT NULL AND m."agentId" = a.id AND m."swarmId" = ANY(${ids}::text[])
      WHERE a."workspaceId" = ${workspaceId} AND (${ids}::text[] IS NULL OR m.id IS NOT NULL)
    ) k GROUP BY k.key, k.health`;
  const empty = (): HealthCounts => ({ HEALTHY: 0, DEGRADED: 0, UNRESPONSIVE: 0, OFFLINE: 0 });
  const result = new Map<string, HealthCounts>((ids ?? [""]).map((id) => [id, empty()]));
  for (const row of rows) (result.get(row.key) ?? result.set(row.key, empty()).get(row.key)!)[row.health] = Number(row.count);
  return result;
}
