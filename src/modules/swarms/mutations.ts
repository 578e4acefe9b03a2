/** Changes to swarms and their membership. Each mutation maps its input to one service call. */
import { actorOf } from "../../context.ts";
import { AlreadyMemberError, IllegalTransitionError, NotFoundError, NotMemberError, SwarmFullError } from "../../errors.ts";
import type { Swarm, SwarmMember } from "../../generated/prisma/client.ts";
import { builder } from "../../schema/builder.ts";
import { rawId } from "../../schema/globalIds.ts";
import * as swarms from "./service.ts";
import { SwarmMemberRef, SwarmRef, SwarmRoleEnum, SwarmTopologyEnum } from "./types.ts";

const SwarmPayload = (name: string, description: string) =>
  builder.objectRef<{ swarm: Swarm }>(name).implement({
    description,
    fields: (t) => ({ swarm: t.field({ type: SwarmRef, description: "The swarm as it is after the change.", resolve: (p) => p.swarm }) }),
  });

const SwarmIdInput = (name: string, description: string) =>
  builder.inputType(name, { description, fields: (t) => ({ id: t.globalID({ required: true, description: "Global id of the swarm." }) }) });

const CreateSwarmInput = builder.inputType("CreateSwarmInput", {
  description: "A new swarm.",
  fields: (t) => ({
    name: t.string({ required: true, description: "Human-readable name (1–200 characters)." }),
    objective: t.string({ required: true, description: "What the swarm is for (1–10000 characters)." }),
    topology: t.field({ type: SwarmTopologyEnum, required: true, description: "How its agents coordinate." }),
    maxAgents: t.int({ required: false, description: "Most members the swarm accepts (1–10000); omit for no limit." }),
    config: t.field({ type: "JSONObject", required: false, description: "Further configuration (auto_scale, fault_tolerance, …), at most 64 KiB." }),
  }),
});

const UpdateSwarmInput = builder.inputType("UpdateSwarmInput", {
  description: "Fields to change on a swarm; omitted fields keep their value. Not allowed once ARCHIVED.",
  fields: (t) => ({
    id: t.globalID({ required: true, description: "Global id of the swarm." }),
    name: t.string({ required: false, description: "New name." }),
    objective: t.string({ required: false, description: "New objective." }),
    topology: t.field({ type: SwarmTopologyEnum, required: false, description: "New topology." }),
    maxAgents: t.int({ required: false, description: "New member limit; null removes the limit. Must not be below the current member count." }),
    config: t.field({ type: "JSONObject", required: false, description: "New configuration (replaces the old one)." }),
  }),
});

const JoinSwarmInput = builder.inputType("JoinSwarmInput", {
  description: "An agent joining a swarm.",
  fields: (t) => ({
    swarmId: t.globalID({ required: true, description: "Global id of the swarm." }),
    agentId: t.globalID({ required: true, description: "Global id of the agent." }),
    role: t.field({ type: SwarmRoleEnum, required: false, defaultValue: "WORKER", description: "The agent's role (default WORKER)." }),
  }),
});

const LeaveSwarmInput = builder.inputType("LeaveSwarmInput", {
  description: "An agent leaving a swarm.",
  fields: (t) => ({
    swarmId: t.globalID({ required: true, description: "Global id of the swarm." }),
    agentId: t.globalID({ required: true, description: "Global id of the agent." }),
  }),
});

const JoinSwarmPayload = builder.objectRef<{ member: SwarmMember }>("JoinSwarmPayload").implement({
  description: "The new membership.",
  fields: (t) => ({
    member: t.field({ type: SwarmMemberRef, description: "The membership, with the agent, the swarm and the role.", resolve: (p) => p.member }),
  }),
});

const transitionErrors = [NotFoundError, IllegalTransitionError];

builder.mutationFields((t) => ({
  createSwarm: t.field({
    type: SwarmPayload("CreateSwarmPayload", "The swarm that was created."),
    description: "Creates a swarm. It starts ACTIVE with no members.",
    authScopes: { scope: "swarms:write" },
    errors: {},
    args: { input: t.arg({ type: CreateSwarmInput, required: true, description: "The swarm to create." }) },
    resolve: async (_root, { input }, ctx) => ({
      swarm: await swarms.createSwarm(ctx.db, actorOf(ctx), { ...input, config: input.config ?? undefined }),
    }),
  }),
  updateSwarm: t.field({
    type: SwarmPayload("UpdateSwarmPayload", "The swarm after the update."),
    description: "Changes a swarm's name, objective, topology, member limit or config.",
    authScopes: { scope: "swarms:write" },
    errors: { types: transitionErrors },
    args: { input: t.arg({ type: UpdateSwarmInput, required: true, description: "What to change." }) },
    resolve: async (_root, { input }, ctx) => ({
      swarm: await swarms.updateSwarm(ctx.db, actorOf(ctx), rawId(input.id, "Swarm"), {
        name: input.name,
        objective: input.objective,
        topology: input.topology,
        // Explicit null removes the limit; an omitted field keeps it.
        maxAgents: "maxAgents" in input ? input.maxAgents : undefined,
        config: input.config,
      }),
    }),
  }),
  pauseSwarm: t.field({
    type: SwarmPayload("PauseSwarmPayload", "The paused swarm."),
    description: "Pauses an ACTIVE swarm: its PENDING tasks are not claimable (nor offered by tasksAvailable) until it resumes; claimTask and assignTask on them answer IllegalTransitionError. Tasks already held finish normally, and new tasks may still be added.",
    authScopes: { scope: "swarms:write" },
    errors: { types: transitionErrors },
    args: { input: t.arg({ type: SwarmIdInput("PauseSwarmInput", "Which swarm to pause."), required: true, description: "Which swarm." }) },
    resolve: async (_root, { input }, ctx) => ({ swarm: await swarms.pauseSwarm(ctx.db, actorOf(ctx), rawId(input.id, "Swarm")) }),
  }),
  resumeSwarm: t.field({
    type: SwarmPayload("ResumeSwarmPayload", "The resumed swarm."),
    description: "Resumes a PAUSED swarm: its PENDING tasks are claimable again, and agents following tasksAvailable are offered them at once.",
    authScopes: { scope: "swarms:write" },
    errors: { types: transitionErrors },
    args: { input: t.arg({ type: SwarmIdInput("ResumeSwarmInput", "Which swarm to resume."), required: true, description: "Which swarm." }) },
    resolve: async (_root, { input }, ctx) => ({ swarm: await swarms.resumeSwarm(ctx.db, actorOf(ctx), rawId(input.id, "Swarm")) }),
  }),
  archiveSwarm: t.field({
    type: SwarmPayload("ArchiveSwarmPayload", "The archived swarm."),
    description: "Archives a swarm for good: it stays readable, but nothing about it can change, and creating a task in it answers IllegalTransitionError. Tasks already in it run to their end.",
    authScopes: { scope: "swarms:write" },
    errors: { types: transitionErrors },
    args: { input: t.arg({ type: SwarmIdInput("ArchiveSwarmInput", "Which swarm to archive."), required: true, description: "Which swarm." }) },
    resolve: async (_root, { input }, ctx) => ({ swarm: await swarms.archiveSwarm(ctx.db, actorOf(ctx), rawId(input.id, "Swarm")) }),
  }),
  joinSwarm: t.field({
    type: JoinSwarmPayload,
    description: "Adds an agent to a swarm with a role. Refused with SwarmFullError when the swarm has maxAgents members, however many join at once.",
    authScopes: { scope: "swarms:write" },
    errors: { types: [...transitionErrors, SwarmFullError, AlreadyMemberError] },
    args: { input: t.arg({ type: JoinSwarmInput, required: true, description: "Which agent joins which swarm, as what." }) },
    resolve: async (_root, { input }, ctx) => ({
      member: await swarms.joinSwarm(ctx.db, actorOf(ctx), rawId(input.swarmId, "Swarm"), rawId(input.agentId, "Agent"), input.role ?? "WORKER"),
    }),
  }),
  leaveSwarm: t.field({
    type: SwarmPayload("LeaveSwarmPayload", "The swarm after the agent left."),
    description: "Removes an agent from a swarm.",
    authScopes: { scope: "swarms:write" },
    errors: { types: [...transitionErrors, NotMemberError] },
    args: { input: t.arg({ type: LeaveSwarmInput, required: true, description: "Which agent leaves which swarm." }) },
    resolve: async (_root, { input }, ctx) => ({
      swarm: await swarms.leaveSwarm(ctx.db, actorOf(ctx), rawId(input.swarmId, "Swarm"), rawId(input.agentId, "Agent")),
    }),
  }),
}));

export const BroadcastPriorityEnum = builder.enumType("BroadcastPriority", {
  description: "How urgent a broadcast message is; receivers decide what to do with it.",
  values: {
    LOW: { description: "Informational." },
    NORMAL: { description: "The default." },
    HIGH: { description: "Act soon." },
    URGENT: { description: "Act now." },
  } as const,
});

const BroadcastToSwarmInput = builder.inputType("BroadcastToSwarmInput", {
  description: "A message for a swarm's members.",
  fields: (t) => ({
    swarmId: t.globalID({ required: true, description: "The swarm (ACTIVE or PAUSED)." }),
    message: t.string({ required: true, description: "The message (1–10000 characters)." }),
    targetRoles: t.field({ type: [SwarmRoleEnum], required: false, description: "Only members with these roles should act on it; all members when omitted." }),
    priority: t.field({ type: BroadcastPriorityEnum, required: false, description: "Urgency (default NORMAL)." }),
  }),
});

builder.mutationField("broadcastToSwarm", (t) =>
  t.field({
    type: SwarmPayload("BroadcastToSwarmPayload", "The swarm the message was sent to."),
    description: "Sends a message to a swarm's members, delivered to `swarmEvents` subscribers as swarm.broadcast (seed 001's broadcast).",
    authScopes: { scope: "swarms:write" },
    errors: { types: transitionErrors },
    args: { input: t.arg({ type: BroadcastToSwarmInput, required: true, description: "The swarm, the message, who it is for and how urgent." }) },
    resolve: async (_root, { input }, ctx) => ({
      swarm: await swarms.broadcastToSwarm(ctx.db, actorOf(ctx), rawId(input.swarmId, "Swarm"), {
        message: input.message,
        targetRoles: input.targetRoles,
        priority: input.priority ?? undefined,
      }),
    }),
  }),
);
