/**
 * Swarm domain rules: lifecycle, membership with an atomically enforced `maxAgents`, and the
 * status summary. Every change runs in one transaction with its event-log row.
 */
import { z } from "zod";
import type { Db, PrismaClient } from "../../db/client.ts";
import { lockForTransition } from "../../db/locks.ts";
import { AlreadyMemberError, InvalidInputError, NotMemberError, SwarmFullError } from "../../errors.ts";
import { type Actor, recordEvent } from "../../events/eventLog.ts";
import type { Prisma, Swarm, SwarmMember, SwarmRole, SwarmStatus, SwarmTopology } from "../../generated/prisma/client.ts";
import { jsonObjectRule, longTextRule, nameRule, parseInput } from "../../validation.ts";
import { lockAgent } from "../agents/service.ts";

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
} as const satisfies Record<string, readonly SwarmStatus[]>;
type SwarmAction = keyof typeof SWARM_ACTIONS_ALLOWED_FROM;

const maxAgentsRule = z.number().int().min(1, "must be at least 1").max(10_000, "must be at most 10000");

const createSwarmSchema = z.object({
  name: nameRule,
  objective: longTextRule,
  topology: z.enum(["HIERARCHICAL", "MESH", "STAR", "RING"] satisfies SwarmTopology[]),
  maxAgents: maxAgentsRule.nullish(),
  config: jsonObjectRule.default({}),
});
export type CreateSwarmInput = z.input<typeof createSwarmSchema>;

const updateSwarmSchema = z.object({
  name: nameRule.nullish(),
  objective: longTextRule.nullish(),
  topology: createSwarmSchema.shape.topology.nullish(),
  /** A number sets the limit, null removes it, undefined keeps it. */
  maxAgents: maxAgentsRule.nullish(),
  config: jsonObjectRule.nullish(),
});
export type UpdateSwarmInput = z.input<typeof updateSwarmSchema>;

export async function createSwarm(db: PrismaClient, actor: Actor, input: CreateSwarmInput): Promise<Swarm> {
  const valid = parseInput(createSwarmSchema, input);
  return db.$transaction(async (tx) => {
    const swarm = await tx.swarm.create({ data: { ...valid, maxAgents: valid.maxAgents ?? null, config: valid.config as Prisma.InputJsonObject, workspaceId: actor.workspaceId } });
    await recordEvent(tx, actor, { topic: "swarm", type: "swarm.created", entityId: swarm.id, payload: { name: swarm.name, topology: swarm.topology, maxAgents: swarm.maxAgents } });
    return swarm;
  });
}

/** Changes the given fields. Lowering maxAgents below the current member count is refused. */
export async function updateSwarm(db: PrismaClient, actor: Actor, id: string, rawInput: UpdateSwarmInput): Promise<Swarm> {
  const input = parseInput(updateSwarmSchema, rawInput);
  return db.$transaction(async (tx) => {
    await lockSwarm(tx, actor, id, "update");
    if (input.maxAgents != null) {
      const members = await tx.swarmMember.count({ where: { swarmId: id } });
      if (input.maxAgents < members) {
        throw new InvalidInputError([{ path: "input.maxAgents", message: `must be at least the current ${members} members; remove members first` }]);
      }
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
    const fields = Object.keys(input).filter((k) => input[k as keyof typeof input] !== undefined);
    await recordEvent(tx, actor, { topic: "swarm", type: "swarm.updated", entityId: id, payload: { fields } });
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
