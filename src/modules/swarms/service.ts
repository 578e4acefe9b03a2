/**
 * Swarm domain rules: lifecycle, membership with an atomically enforced `maxAgents`, and the
 * status summary. Every change runs in one transaction with its event-log row.
 */
import { z } from "zod";
import type { Db, PrismaClient } from "../../db/client.ts";
import { lockForTransition, lockRow } from "../../db/locks.ts";
import { AlreadyMemberError, IllegalTransitionError, InvalidInputError, NotFoundError, NotMemberError, SwarmFullError } from "../../errors.ts";
import { type Actor, recordEvent } from "../../events/eventLog.ts";
import type { Prisma, Swarm, SwarmMember, SwarmRole, SwarmStatus, SwarmTopology } from "../../generated/prisma/client.ts";
import { jsonObjectRule, labelRule, longTextRule, nameRule, optionalTextRule, parseInput } from "../../validation.ts";
import { lockAgent } from "../agents/service.ts";
import { type CreateTaskInput, createTasksWithin, MAX_BATCH } from "../tasks/creation.ts";
import * as quotas from "../quotas/service.ts";
import { type LeaseSettings, reassignTask } from "../tasks/service.ts";

/**
 * The swarm lifecycle: ACTIVE ⇄ PAUSED (pause/resume); ACTIVE | PAUSED → ARCHIVED (final).
 * Members may join and leave while ACTIVE or PAUSED; an archived swarm is read-only.
 */
export const SWARM_ACTIONS_ALLOWED_FROM = {
  pause: ["ACTIVE"],
  resume: ["PAUSED"],
  archive: ["ACTIVE", "PAUSED"],
  update: ["ACTIVE", "PAUSED"],
  "add a member": ["ACTIVE", "PAUSED"],
  "remove a member": ["ACTIVE", "PAUSED"],
  broadcast: ["ACTIVE", "PAUSED"],
  scale: ["ACTIVE", "PAUSED"],
  rebalance: ["ACTIVE"],
} as const satisfies Record<string, readonly SwarmStatus[]>;
type SwarmAction = keyof typeof SWARM_ACTIONS_ALLOWED_FROM;

const maxAgentsRule = z.number().int().min(1, "must be at least 1").max(10_000, "must be at most 10000");

const createSwarmSchema = z.object({
  name: nameRule,
  objective: longTextRule,
  topology: z.enum(["HIERARCHICAL", "MESH", "STAR", "RING"] satisfies SwarmTopology[]),
  maxAgents: maxAgentsRule.nullish(),
  config: jsonObjectRule.default({}),
  initialAgents: z.array(z.object({ agentType: labelRule, count: z.number().int().min(0, "must not be negative").max(10_000, "must be at most 10000") })).max(100, "at most 100 agent types").default([]),
});
export type CreateSwarmInput = z.input<typeof createSwarmSchema> & {
  /** The swarm's first tasks (swarmId is set to the new swarm), created in the same transaction. */
  tasks?: readonly Omit<CreateTaskInput, "swarmId">[] | null;
};

const updateSwarmSchema = z.object({
  name: nameRule.nullish(),
  objective: longTextRule.nullish(),
  topology: createSwarmSchema.shape.topology.nullish(),
  /** A number sets the limit, null removes it, undefined keeps it. */
  maxAgents: maxAgentsRule.nullish(),
  config: jsonObjectRule.nullish(),
  /** Why the topology changes; carried by `swarm.topology_changed`. */
  reason: optionalTextRule.nullish(),
});
export type UpdateSwarmInput = z.input<typeof updateSwarmSchema>;

/**
 * Creates a swarm, with its desired composition (`initialAgents`) and its first tasks, all in one
 * transaction: an invalid task (or a creation quota refusal) creates no swarm.
 */
export async function createSwarm(db: PrismaClient, actor: Actor, input: CreateSwarmInput): Promise<Swarm> {
  const { tasks: taskInputs, ...rest } = input;
  const valid = parseInput(createSwarmSchema, rest);
  const desired = desiredFromEntries(valid.initialAgents.map((e) => ({ ...e, operation: "SET" as const })), {}, "input.initialAgents");
  checkDesiredFitsLimit(desired, valid.maxAgents ?? null, "input.initialAgents");
  const tasks = taskInputs ?? [];
  if (tasks.length > MAX_BATCH) throw new InvalidInputError([{ path: "input.tasks", message: `at most ${MAX_BATCH} tasks` }]);
  const creator = { type: "EXTERNAL" as const, id: actor.subject };
  return quotas.recordingRefusals(db, actor, creator, () => db.$transaction(async (tx) => {
    const { initialAgents: _entries, ...fields } = valid;
    const swarm = await tx.swarm.create({
      data: { ...fields, maxAgents: valid.maxAgents ?? null, config: valid.config as Prisma.InputJsonObject, desiredAgents: desired, workspaceId: actor.workspaceId },
    });
    await recordEvent(tx, actor, { topic: "swarm", type: "swarm.created", entityId: swarm.id, payload: { name: swarm.name, topology: swarm.topology, maxAgents: swarm.maxAgents } });
    if (Object.keys(desired).length > 0) {
      const changes = Object.entries(desired).map(([agentType, count]) => ({ agentType, previous: 0, desired: count, actual: 0 }));
      await recordEvent(tx, actor, { topic: "swarm", type: "swarm.scale_requested", entityId: swarm.id, payload: { changes, desired, reason: "initial agents" } });
    }
    if (tasks.length > 0) {
      await createTasksWithin(tx, actor, tasks.map((task) => ({ ...task, swarmId: swarm.id })), (i) => `input.tasks.${i}`);
    }
    return swarm;
  }));
}

/** Changes the given fields. Lowering maxAgents below the current member count is refused. */
export async function updateSwarm(db: PrismaClient, actor: Actor, id: string, rawInput: UpdateSwarmInput): Promise<Swarm> {
  const input = parseInput(updateSwarmSchema, rawInput);
  return db.$transaction(async (tx) => {
    await lockSwarm(tx, actor, id, "update");
    const before = await tx.swarm.findUniqueOrThrow({ where: { id }, select: { topology: true, desiredAgents: true } });
    if (input.maxAgents != null) {
      const members = await tx.swarmMember.count({ where: { swarmId: id } });
      if (input.maxAgents < members) {
        throw new InvalidInputError([{ path: "input.maxAgents", message: `must be at least the current ${members} members; remove members first` }]);
      }
      checkDesiredFitsLimit(desiredOf(before.desiredAgents), input.maxAgents, "input.maxAgents");
    }
    if (input.reason != null && (input.topology == null || input.topology === before.topology)) {
      throw new InvalidInputError([{ path: "input.reason", message: "a reason explains a topology change: give a topology different from the current one" }]);
    }
    const swarm = await tx.swarm.update({
      where: { id },
      data: {
        name: input.name ?? undefined,
        objective: input.objective ?? undefined,
        topology: input.topology ?? undefined,
        maxAgents: input.maxAgents,
        config: (input.config as Prisma.InputJsonObject | null | undefined) ?? undefined,
      },
    });
    const fields = Object.keys(input).filter((k) => k !== "reason" && input[k as keyof typeof input] !== undefined);
    await recordEvent(tx, actor, { topic: "swarm", type: "swarm.updated", entityId: id, payload: { fields } });
    if (input.topology != null && input.topology !== before.topology) {
      await recordEvent(tx, actor, {
        topic: "swarm",
        type: "swarm.topology_changed",
        entityId: id,
        payload: { topology: input.topology, previousTopology: before.topology, reason: input.reason ?? null },
      });
    }
    return swarm;
  });
}

export function pauseSwarm(db: PrismaClient, actor: Actor, id: string): Promise<Swarm> {
  return setStatus(db, actor, id, "pause", { status: "PAUSED" }, "swarm.paused");
}

export function resumeSwarm(db: PrismaClient, actor: Actor, id: string): Promise<Swarm> {
  return setStatus(db, actor, id, "resume", { status: "ACTIVE" }, "swarm.resumed");
}

/** Final: the swarm and its member list stay readable, but nothing about it can change. */
export function archiveSwarm(db: PrismaClient, actor: Actor, id: string): Promise<Swarm> {
  return setStatus(db, actor, id, "archive", { status: "ARCHIVED", archivedAt: new Date() }, "swarm.archived");
}

/**
 * Adds an agent to a swarm with a role. The swarm row is locked (FOR UPDATE) before members are
 * counted, so concurrent joins serialize on it and `maxAgents` can never be exceeded, on any
 * number of connections. The agent row is share-locked so it cannot be terminated meanwhile.
 * @throws SwarmFullError, AlreadyMemberError, NotFoundError, IllegalTransitionError
 */
export async function joinSwarm(db: PrismaClient, actor: Actor, swarmId: string, agentId: string, role: SwarmRole): Promise<SwarmMember> {
  return db.$transaction(async (tx) => {
    await lockSwarm(tx, actor, swarmId, "add a member");
    await lockAgent(tx, actor, agentId, "join a swarm");
    const swarm = await tx.swarm.findUniqueOrThrow({ where: { id: swarmId }, select: { maxAgents: true } });
    const existing = await tx.swarmMember.findUnique({ where: { swarmId_agentId: { swarmId, agentId } }, select: { id: true } });
    if (existing) throw new AlreadyMemberError(swarmId, agentId);
    if (swarm.maxAgents !== null) {
      const members = await tx.swarmMember.count({ where: { swarmId } });
      if (members >= swarm.maxAgents) throw new SwarmFullError(swarmId, swarm.maxAgents);
    }
    const member = await tx.swarmMember.create({ data: { workspaceId: actor.workspaceId, swarmId, agentId, role } });
    await recordEvent(tx, actor, { topic: "swarm", type: "swarm.member_joined", entityId: swarmId, payload: { agentId, role } });
    return member;
  });
}

/** Removes an agent from a swarm. */
export async function leaveSwarm(db: PrismaClient, actor: Actor, swarmId: string, agentId: string): Promise<Swarm> {
  return db.$transaction(async (tx) => {
    await lockSwarm(tx, actor, swarmId, "remove a member");
    const { count } = await tx.swarmMember.deleteMany({ where: { swarmId, agentId } });
    if (count === 0) throw new NotMemberError(swarmId, agentId);
    await recordEvent(tx, actor, { topic: "swarm", type: "swarm.member_left", entityId: swarmId, payload: { agentId } });
    return tx.swarm.findUniqueOrThrow({ where: { id: swarmId } });
  });
}

/**
 * Removes an agent from every swarm it belongs to (when it is terminated), in the caller's
 * transaction, with a `swarm.member_left` event per swarm.
 */
export async function removeAgentFromSwarms(tx: Db, actor: Actor, agentId: string, reason: string): Promise<void> {
  const memberships = await tx.swarmMember.findMany({ where: { agentId, workspaceId: actor.workspaceId }, select: { swarmId: true } });
  await tx.swarmMember.deleteMany({ where: { agentId, workspaceId: actor.workspaceId } });
  for (const { swarmId } of memberships) {
    await recordEvent(tx, actor, { topic: "swarm", type: "swarm.member_left", entityId: swarmId, payload: { agentId, reason } });
  }
}

/** Members of each swarm counted by agent status, for many swarms in one statement. */
export async function memberStatusCounts(db: Db, workspaceId: string, swarmIds: readonly string[]): Promise<Map<string, Map<string, number>>> {
  const rows = await db.$queryRaw<{ swarmId: string; status: string; count: bigint }[]>`
    SELECT m."swarmId", a.status::text AS status, count(*) AS count
    FROM "SwarmMember" m JOIN "Agent" a ON a.id = m."agentId"
    WHERE m."workspaceId" = ${workspaceId} AND m."swarmId" = ANY(${swarmIds as string[]}::text[])
    GROUP BY m."swarmId", a.status`;
  const bySwarm = new Map<string, Map<string, number>>(swarmIds.map((id) => [id, new Map()]));
  for (const row of rows) bySwarm.get(row.swarmId)?.set(row.status, Number(row.count));
  return bySwarm;
}

function lockSwarm(tx: Db, actor: Actor, id: string, action: SwarmAction) {
  return lockForTransition<SwarmStatus>(tx, { table: "Swarm", id, workspaceId: actor.workspaceId }, action, SWARM_ACTIONS_ALLOWED_FROM[action]);
}

async function setStatus(
  db: PrismaClient,
  actor: Actor,
  id: string,
  action: SwarmAction,
  data: Prisma.SwarmUpdateInput & { status: SwarmStatus },
  type: `swarm.${string}`,
): Promise<Swarm> {
  return db.$transaction(async (tx) => {
    const { status: from } = await lockSwarm(tx, actor, id, action);
    const swarm = await tx.swarm.update({ where: { id }, data });
    await recordEvent(tx, actor, { topic: "swarm", type, entityId: id, payload: { from, to: data.status } });
    return swarm;
  });
}

export const BROADCAST_PRIORITIES = ["LOW", "NORMAL", "HIGH", "URGENT"] as const;
const broadcastSchema = z.object({
  message: z.string().trim().min(1, "must not be empty").max(10_000, "must be at most 10000 characters"),
  targetRoles: z.array(z.enum(["COORDINATOR", "WORKER", "SPECIALIST", "REVIEWER", "OBSERVER"] satisfies SwarmRole[])).max(5).nullish(),
  priority: z.enum(BROADCAST_PRIORITIES).default("NORMAL"),
});
export type BroadcastInput = z.input<typeof broadcastSchema>;

/**
 * Sends a message to a swarm's members (seed 001's broadcast): written to the event log as
 * `swarm.broadcast`, delivered by `swarmEvents`. Refused on an archived swarm.
 */
export async function broadcastToSwarm(db: PrismaClient, actor: Actor, swarmId: string, input: BroadcastInput): Promise<Swarm> {
  const valid = parseInput(broadcastSchema, input);
  return db.$transaction(async (tx) => {
    await lockSwarm(tx, actor, swarmId, "broadcast");
    await recordEvent(tx, actor, {
      topic: "swarm",
      type: "swarm.broadcast",
      entityId: swarmId,
      payload: { message: valid.message, targetRoles: valid.targetRoles ?? null, priority: valid.priority },
    });
    return tx.swarm.findUniqueOrThrow({ where: { id: swarmId } });
  });
}

// ── desired composition (seed 001's initial_agents and scale) ──────────────────────────────

/** A swarm's desired composition: agent type → how many live members of that type it wants. */
export type DesiredAgents = Record<string, number>;

/** How a scale entry changes the desired count of its agent type. */
export type ScaleOperation = "SET" | "ADD" | "REMOVE";

const MAX_DESIRED_PER_TYPE = 10_000;

const scaleSchema = z.object({
  agents: z
    .array(
      z.object({
        agentType: labelRule,
        count: z.number().int().min(0, "must not be negative").max(MAX_DESIRED_PER_TYPE, `must be at most ${MAX_DESIRED_PER_TYPE}`),
        operation: z.enum(["SET", "ADD", "REMOVE"]).default("SET"),
      }),
    )
    .min(1, "must name at least one agent type")
    .max(100, "at most 100 agent types"),
  reason: optionalTextRule.nullish(),
});
export type ScaleSwarmInput = z.input<typeof scaleSchema>;

/** The desired composition stored on a swarm row (a JSON object of non-negative counts). */
export function desiredOf(value: unknown): DesiredAgents {
  if (!value || typeof value !== "object" || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter((e): e is [string, number] => typeof e[1] === "number" && e[1] > 0));
}

/**
 * Applies scale entries to a composition. Each agent type may appear once; a count that ends at
 * 0 removes the type. REMOVE below 0 and totals above the per-type maximum are refused.
 */
function desiredFromEntries(entries: readonly { agentType: string; count: number; operation: ScaleOperation }[], current: DesiredAgents, path: string): DesiredAgents {
  const next: DesiredAgents = { ...current };
  const seen = new Set<string>();
  const issues: { path: string; message: string }[] = [];
  entries.forEach((entry, i) => {
    if (seen.has(entry.agentType)) issues.push({ path: `${path}.${i}.agentType`, message: `"${entry.agentType}" is named twice` });
    seen.add(entry.agentType);
    const before = next[entry.agentType] ?? 0;
    const after = entry.operation === "ADD" ? before + entry.count : entry.operation === "REMOVE" ? before - entry.count : entry.count;
    if (after < 0) issues.push({ path: `${path}.${i}.count`, message: `cannot remove ${entry.count} ${entry.agentType}: only ${before} desired` });
    else if (after > MAX_DESIRED_PER_TYPE) issues.push({ path: `${path}.${i}.count`, message: `would desire ${after} ${entry.agentType}; at most ${MAX_DESIRED_PER_TYPE}` });
    if (after > 0) next[entry.agentType] = after;
    else delete next[entry.agentType];
  });
  if (issues.length > 0) throw new InvalidInputError(issues);
  return Object.fromEntries(Object.entries(next).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** A swarm can never have more members than maxAgents, so it must not desire more either. */
function checkDesiredFitsLimit(desired: DesiredAgents, maxAgents: number | null, path: string): void {
  const total = Object.values(desired).reduce((a, b) => a + b, 0);
  if (maxAgents !== null && total > maxAgents) {
    throw new InvalidInputError([{ path, message: `desires ${total} agents in all, more than the swarm's maxAgents of ${maxAgents}` }]);
  }
}

/**
 * Changes a swarm's desired composition (seed 001's scale). swarmgraph starts no processes: it
 * records the new desire and writes `swarm.scale_requested` (each changed type with its previous
 * and new desired count and the actual count), which a supervisor acts on. Refused on an archived
 * swarm. The swarm row is locked, so concurrent ADDs add up.
 */
export async function scaleSwarm(db: PrismaClient, actor: Actor, swarmId: string, rawInput: ScaleSwarmInput): Promise<Swarm> {
  const input = parseInput(scaleSchema, rawInput);
  return db.$transaction(async (tx) => {
    await lockSwarm(tx, actor, swarmId, "scale");
    const before = await tx.swarm.findUniqueOrThrow({ where: { id: swarmId }, select: { desiredAgents: true, maxAgents: true } });
    const previous = desiredOf(before.desiredAgents);
    const desired = desiredFromEntries(input.agents, previous, "input.agents");
    checkDesiredFitsLimit(desired, before.maxAgents, "input.agents");
    const actual = (await compositionCounts(tx, actor.workspaceId, [swarmId])).get(swarmId) ?? new Map<string, number>();
    const swarm = await tx.swarm.update({ where: { id: swarmId }, data: { desiredAgents: desired } });
    const changes = [...new Set(input.agents.map((e) => e.agentType))].map((agentType) => ({
      agentType,
      previous: previous[agentType] ?? 0,
      desired: desired[agentType] ?? 0,
      actual: actual.get(agentType) ?? 0,
    }));
    await recordEvent(tx, actor, { topic: "swarm", type: "swarm.scale_requested", entityId: swarmId, payload: { changes, desired, reason: input.reason ?? null } });
    return swarm;
  });
}

/**
 * Live members (agents not TERMINATED) of each swarm counted by agent type — the "actual" side
 * of the desired composition — for many swarms in one statement.
 */
export async function compositionCounts(db: Db, workspaceId: string, swarmIds: readonly string[]): Promise<Map<string, Map<string, number>>> {
  const rows = await db.$queryRaw<{ swarmId: string; type: string; count: bigint }[]>`
    SELECT m."swarmId", a.type, count(*) AS count
    FROM "SwarmMember" m JOIN "Agent" a ON a.id = m."agentId"
    WHERE m."workspaceId" = ${workspaceId} AND m."swarmId" = ANY(${swarmIds as string[]}::text[]) AND a.status <> 'TERMINATED'
    GROUP BY m."swarmId", a.type`;
  const bySwarm = new Map<string, Map<string, number>>(swarmIds.map((id) => [id, new Map()]));
  for (const row of rows) bySwarm.get(row.swarmId)?.set(row.type, Number(row.count));
  return bySwarm;
}

/** One line of a swarm's composition: desired and actual members of one agent type. */
export interface CompositionEntry {
  agentType: string;
  desired: number;
  actual: number;
  /** desired − actual: how many to start (positive) or stop (negative). */
  difference: number;
}

/** Desired and actual side by side, for every type desired or present, sorted by type. */
export function compositionOf(desiredValue: unknown, actual: ReadonlyMap<string, number>): CompositionEntry[] {
  const desired = desiredOf(desiredValue);
  const types = [...new Set([...Object.keys(desired), ...actual.keys()])].sort();
  return types.map((agentType) => {
    const want = desired[agentType] ?? 0;
    const have = actual.get(agentType) ?? 0;
    return { agentType, desired: want, actual: have, difference: want - have };
  });
}

// ── rebalance (seed 001's rebalance) ───────────────────────────────────────────────────────

const rebalanceSchema = z.object({
  moves: z
    .array(z.object({ taskId: z.string(), toAgentId: z.string() }))
    .min(1, "must contain at least one move")
    .max(100, "at most 100 moves"),
  reason: optionalTextRule.nullish(),
});
export type RebalanceSwarmInput = z.input<typeof rebalanceSchema>;

/** One task moved by a rebalance. */
export interface TaskMove {
  taskId: string;
  /** Who held it before; null for a PENDING task. */
  fromAgentId: string | null;
  toAgentId: string;
  leaseToken: string;
}

/**
 * Moves held or pending tasks of an ACTIVE swarm to other members, all or none, in one
 * transaction (see `reassignTask` for what a move does to the task and its old holder). Each task
 * must belong to the swarm and each target must be a member. Target agents are locked first,
 * then the tasks, in id order — the order of a claim — so concurrent rebalances and claims
 * cannot deadlock each other. The swarm is share-locked: a pause or archive waits for it.
 */
export async function rebalanceSwarm(db: PrismaClient, actor: Actor, swarmId: string, rawInput: RebalanceSwarmInput, lease: LeaseSettings): Promise<TaskMove[]> {
  const input = parseInput(rebalanceSchema, rawInput);
  const issues: { path: string; message: string }[] = [];
  const seen = new Set<string>();
  input.moves.forEach((move, i) => {
    if (seen.has(move.taskId)) issues.push({ path: `input.moves.${i}.taskId`, message: "the task is moved twice" });
    seen.add(move.taskId);
  });
  if (issues.length > 0) throw new InvalidInputError(issues);
  const reason = input.reason ?? null;
  return quotas.recordingRefusals(db, actor, { type: "EXTERNAL", id: actor.subject }, () => db.$transaction(async (tx) => {
    const swarm = await lockRow<SwarmStatus>(tx, "Swarm", swarmId, actor.workspaceId, "SHARE");
    if (!swarm) throw new NotFoundError("Swarm", swarmId);
    if (!(SWARM_ACTIONS_ALLOWED_FROM.rebalance as readonly SwarmStatus[]).includes(swarm.status)) {
      throw new IllegalTransitionError("Swarm", swarmId, swarm.status, "rebalance", SWARM_ACTIONS_ALLOWED_FROM.rebalance);
    }
    for (const agentId of [...new Set(input.moves.map((m) => m.toAgentId))].sort()) {
      await lockAgent(tx, actor, agentId, "claim work");
      const member = await tx.swarmMember.findUnique({ where: { swarmId_agentId: { swarmId, agentId } }, select: { id: true } });
      if (!member) throw new NotMemberError(swarmId, agentId);
    }
    const ordered = input.moves.map((move, index) => ({ ...move, index })).sort((a, b) => (a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0));
    const moves: TaskMove[] = new Array(input.moves.length);
    for (const move of ordered) {
      moves[move.index] = { taskId: move.taskId, ...(await reassignTask(tx, actor, move.taskId, move.toAgentId, lease, { swarmId, reason, path: `input.moves.${move.index}` })) };
    }
    await recordEvent(tx, actor, {
      topic: "swarm",
      type: "swarm.rebalanced",
      entityId: swarmId,
      payload: { moves: moves.map(({ taskId, fromAgentId, toAgentId }) => ({ taskId, fromAgentId, toAgentId })), reason },
    });
    return moves;
  }));
}
