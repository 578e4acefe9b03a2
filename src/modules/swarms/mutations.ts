/** Changes to swarms and their membership. Each mutation maps its input to one service call. */
import { actorOf } from "../../context.ts";
import { AlreadyMemberError, CapabilityMismatchError, IllegalTransitionError, NotFoundError, NotMemberError, QuotaExceededError, SwarmFullError } from "../../errors.ts";
import type { Swarm, SwarmMember } from "../../generated/prisma/client.ts";
import { builder } from "../../schema/builder.ts";
import { rawId } from "../../schema/globalIds.ts";
import { taskInputFields, toSpec } from "../tasks/mutations.ts";
import { TaskRef } from "../tasks/types.ts";
import { AgentRef } from "../agents/types.ts";
import * as swarms from "./service.ts";
import { SwarmMemberRef, SwarmRef, SwarmRoleEnum, SwarmTopologyEnum } from "./types.ts";

const SwarmPayload = (name: string, description: string) =>
  builder.objectRef<{ swarm: Swarm }>(name).implement({
    description,
    fields: (t) => ({ swarm: t.field({ type: SwarmRef, description: "The swarm as it is after the change.", resolve: (p) => p.swarm }) }),
  });

const SwarmIdInput = (name: string, description: string) =>
  builder.inputType(name, { description, fields: (t) => ({ id: t.globalID({ required: true, description: "Global id of the swarm." }) }) });

const AgentCountInput = builder.inputType("AgentCountInput", {
  description: "How many agents of one type a swarm wants (an entry of its desired composition).",
  fields: (t) => ({
    agentType: t.string({ required: true, description: "The agent type, as agents register it (`Agent.type`, e.g. \"coder\")." }),
    count: t.int({ required: true, description: "How many live members of that type (0–10000; negative counts are refused)." }),
  }),
});

const SwarmTaskInput = builder.inputType("SwarmTaskInput", {
  description: "One of a new swarm's first tasks. It belongs to the new swarm (so it has no swarmId).",
  fields: (t) => {
    const { swarmId: _swarmId, ...fields } = taskInputFields(t);
    return fields;
  },
});

const CreateSwarmInput = builder.inputType("CreateSwarmInput", {
  description: "A new swarm.",
  fields: (t) => ({
    name: t.string({ required: true, description: "Human-readable name (1–200 characters)." }),
    objective: t.string({ required: true, description: "What the swarm is for (1–10000 characters)." }),
    topology: t.field({ type: SwarmTopologyEnum, required: true, description: "How its agents coordinate." }),
    maxAgents: t.int({ required: false, description: "Most members the swarm accepts (1–10000); omit for no limit." }),
    config: t.field({ type: "JSONObject", required: false, description: "Further configuration (auto_scale, fault_tolerance, …), at most 64 KiB." }),
    initialAgents: t.field({
      type: [AgentCountInput],
      required: false,
      description:
        "The desired composition to start with (seed 001's initial_agents): agent type → count, each type at most once, the total within maxAgents. swarmgraph starts no processes: it records the desire, shows it in `Swarm.composition` and writes `swarm.scale_requested`, which a supervisor (`swarmgraph worker --supervise`) acts on.",
    }),
    tasks: t.field({
      type: [SwarmTaskInput],
      required: false,
      description: "The swarm's first tasks (at most 100), created in the same transaction as the swarm: if any of them is invalid (or over a quota), neither the swarm nor any task is created.",
    }),
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
    reason: t.string({
      required: false,
      description: "Why the topology changes (e.g. \"optimization\"), carried by the `swarm.topology_changed` event. Only with a `topology` different from the current one.",
    }),
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
    description:
      "Creates a swarm. It starts ACTIVE with no members, with the desired composition of `initialAgents` and its first `tasks`, all in one transaction (all or nothing).",
    authScopes: { scope: "swarms:write" },
    errors: { types: [NotFoundError, IllegalTransitionError, QuotaExceededError] },
    args: { input: t.arg({ type: CreateSwarmInput, required: true, description: "The swarm to create." }) },
    resolve: async (_root, { input }, ctx) => ({
      swarm: await swarms.createSwarm(ctx.db, actorOf(ctx), {
        name: input.name,
        objective: input.objective,
        topology: input.topology,
        maxAgents: input.maxAgents,
        config: input.config ?? undefined,
        initialAgents: input.initialAgents ?? undefined,
        tasks: input.tasks?.map(toSpec),
      }),
    }),
  }),
  updateSwarm: t.field({
    type: SwarmPayload("UpdateSwarmPayload", "The swarm after the update."),
    description:
      "Changes a swarm's name, objective, topology, member limit or config (writes `swarm.updated`). A topology change also writes `swarm.topology_changed` with the previous topology and the optional reason.",
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
        reason: input.reason,
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

export const ScaleOperationEnum = builder.enumType("ScaleOperation", {
  description: "How a scale entry changes the desired count of its agent type.",
  values: {
    SET: { description: "The desired count becomes `count`." },
    ADD: { description: "`count` more are desired." },
    REMOVE: { description: "`count` fewer are desired; refused (InvalidInputError) when fewer than `count` are desired." },
  } as const,
});

const AgentScaleInput = builder.inputType("AgentScaleInput", {
  description: "A change to how many agents of one type a swarm wants (seed 001's scale parameters).",
  fields: (t) => ({
    agentType: t.string({ required: true, description: "The agent type (`Agent.type`)." }),
    count: t.int({ required: true, description: "The count the operation applies (0–10000; negative counts are refused)." }),
    operation: t.field({ type: ScaleOperationEnum, required: false, defaultValue: "SET", description: "SET (default), ADD or REMOVE." }),
  }),
});

const ScaleSwarmInput = builder.inputType("ScaleSwarmInput", {
  description: "New desired counts for some agent types of a swarm; types not named keep theirs.",
  fields: (t) => ({
    swarmId: t.globalID({ required: true, description: "The swarm (ACTIVE or PAUSED)." }),
    agents: t.field({ type: [AgentScaleInput], required: true, description: "One entry per agent type to change (1–100, each type at most once). A type whose desired count reaches 0 leaves the composition." }),
    reason: t.string({ required: false, description: "Why (carried by the `swarm.scale_requested` event)." }),
  }),
});

const MoveTaskInput = builder.inputType("MoveTaskInput", {
  description: "One task to move, and to whom.",
  fields: (t) => ({
    taskId: t.globalID({ required: true, description: "A PENDING, CLAIMED or RUNNING task of the swarm." }),
    toAgentId: t.globalID({ required: true, description: "The member that gets it (IDLE or BUSY, with the capabilities the task requires); not its current holder." }),
  }),
});

const RebalanceSwarmInput = builder.inputType("RebalanceSwarmInput", {
  description: "Work to move between a swarm's members.",
  fields: (t) => ({
    swarmId: t.globalID({ required: true, description: "The swarm (must be ACTIVE)." }),
    moves: t.field({ type: [MoveTaskInput], required: true, description: "The moves (1–100, each task at most once), applied all together or not at all." }),
    reason: t.string({ required: false, description: "Why (kept on the old attempts and carried by `swarm.rebalanced`)." }),
  }),
});

const TaskMoveRef = builder.objectRef<swarms.TaskMove>("TaskMove").implement({
  description: "A task a rebalance moved, with the new holder's lease.",
  fields: (t) => ({
    task: t.prismaField({
      type: "Task",
      description: "The task, now CLAIMED by `toAgent`.",
      resolve: (query, move, _args, ctx) => ctx.db.task.findUniqueOrThrow({ ...query, where: { id: move.taskId } }),
    }),
    fromAgent: t.prismaField({
      type: "Agent",
      nullable: true,
      description: "Who held the task before (its lease is now void); null when the task was PENDING.",
      resolve: (query, move, _args, ctx) => (move.fromAgentId ? ctx.db.agent.findUnique({ ...query, where: { id: move.fromAgentId } }) : null),
    }),
    toAgent: t.prismaField({
      type: "Agent",
      description: "The member that holds the task now.",
      resolve: (query, move, _args, ctx) => ctx.db.agent.findUniqueOrThrow({ ...query, where: { id: move.toAgentId } }),
    }),
    leaseToken: t.exposeString("leaseToken", { description: "The new holder's lease token, for its calls on the task (as `assignTask` answers it)." }),
  }),
});

builder.mutationFields((t) => ({
  scaleSwarm: t.field({
    type: SwarmPayload("ScaleSwarmPayload", "The swarm with its new desired composition (see `composition` for the gap)."),
    description:
      "Changes a swarm's desired composition (seed 001's scale). swarmgraph starts and stops no processes: it records the desire, shows desired vs actual in `Swarm.composition`, and writes `swarm.scale_requested` (each changed type with its previous and new desired count and the actual count), delivered by `swarmEvents`, which a supervisor (`swarmgraph worker --supervise`) acts on. Concurrent calls apply one after the other. Refused on an ARCHIVED swarm.",
    authScopes: { scope: "swarms:write" },
    errors: { types: transitionErrors },
    args: { input: t.arg({ type: ScaleSwarmInput, required: true, description: "The swarm and the changes." }) },
    resolve: async (_root, { input }, ctx) => ({
      swarm: await swarms.scaleSwarm(ctx.db, actorOf(ctx), rawId(input.swarmId, "Swarm"), {
        agents: input.agents.map((a) => ({ agentType: a.agentType, count: a.count, operation: a.operation ?? "SET" })),
        reason: input.reason,
      }),
    }),
  }),
  rebalanceSwarm: t.field({
    type: builder.objectRef<{ swarm: Swarm; moves: swarms.TaskMove[] }>("RebalanceSwarmPayload").implement({
      description: "The moves that were made.",
      fields: (f) => ({
        swarm: f.field({ type: SwarmRef, description: "The swarm.", resolve: (p) => p.swarm }),
        moves: f.field({ type: [TaskMoveRef], description: "The moves, in input order.", resolve: (p) => p.moves }),
      }),
    }),
    description: [
      "Moves held or pending work between an ACTIVE swarm's members (seed 001's rebalance), all moves or none, in one transaction.",
      "A PENDING task is claimed for the target, as `assignTask` does (a new attempt; tasks.running is allocated).",
      "A CLAIMED or RUNNING task is taken from its holder: the holder's attempt ends RELEASED (it does not count against maxAttempts, as with `releaseTask`), and the task becomes CLAIMED by the target under a new lease token and fence, keeping its progress. The old lease token stops working at once: every later call of the old holder on the task (start, progress, complete, fail, release) answers LeaseLostError with reason RECLAIMED.",
      "A completion racing the move is decided by the task's row lock: either the completion commits first (the move is then refused with IllegalTransitionError, the task being COMPLETED, and nothing moves), or the move commits first (the completion answers LeaseLostError). Never both.",
      "Each move writes `task.released` (for a held task, with the old holder) and `task.claimed` (with the new holder); the call writes `swarm.rebalanced`.",
      "Refused with NotMemberError when a target is not a member, InvalidInputError when a task is not in the swarm or already held by its target, IllegalTransitionError when a task is WAITING or finished, the swarm not ACTIVE, or a target not IDLE or BUSY.",
    ].join(" "),
    authScopes: { scope: "swarms:write" },
    errors: { types: [...transitionErrors, NotMemberError, CapabilityMismatchError, QuotaExceededError] },
    args: { input: t.arg({ type: RebalanceSwarmInput, required: true, description: "The swarm, the moves and why." }) },
    resolve: async (_root, { input }, ctx) => {
      const swarmId = rawId(input.swarmId, "Swarm");
      const moves = await swarms.rebalanceSwarm(
        ctx.db,
        actorOf(ctx),
        swarmId,
        { moves: input.moves.map((m) => ({ taskId: rawId(m.taskId, "Task"), toAgentId: rawId(m.toAgentId, "Agent") })), reason: input.reason },
        { leaseSeconds: ctx.config.leaseSeconds, retryBaseSeconds: ctx.config.retryBaseSeconds },
      );
      return { swarm: await ctx.db.swarm.findUniqueOrThrow({ where: { id: swarmId } }), moves };
    },
  }),
}));
