/** Changes to agents. Each mutation maps its input to one service call. */
import type { Agent } from "../../generated/prisma/client.ts";
import { actorOf } from "../../context.ts";
import { IllegalTransitionError, NotFoundError, QuotaExceededError } from "../../errors.ts";
import { builder } from "../../schema/builder.ts";
import { rawId } from "../../schema/globalIds.ts";
import * as agents from "./service.ts";
import { AgentRef } from "./types.ts";

const AgentPayload = (name: string, description: string) =>
  builder.objectRef<{ agent: Agent }>(name).implement({
    description,
    fields: (t) => ({ agent: t.field({ type: AgentRef, description: "The agent as it is after the change.", resolve: (p) => p.agent }) }),
  });

const RegisterAgentInput = builder.inputType("RegisterAgentInput", {
  description: "A new agent.",
  fields: (t) => ({
    name: t.string({ required: true, description: "Human-readable name (1–200 characters)." }),
    type: t.string({ required: true, description: "Kind of agent, e.g. coder (letters, digits, _ . : / -)." }),
    capabilities: t.stringList({ required: false, defaultValue: [], description: "What the agent can do; work is matched against these." }),
    config: t.field({ type: "JSONObject", required: false, description: "Agent configuration (model, temperature, …), at most 64 KiB." }),
    metadata: t.field({ type: "JSONObject", required: false, description: "Free-form labels (project, team, …), at most 64 KiB." }),
  }),
});

const AgentIdInput = (name: string, description: string) =>
  builder.inputType(name, {
    description,
    fields: (t) => ({ id: t.globalID({ required: true, description: "Global id of the agent." }) }),
  });

const UpdateAgentInput = builder.inputType("UpdateAgentInput", {
  description: "Fields to change on an agent; omitted fields keep their value. config and metadata are replaced whole.",
  fields: (t) => ({
    id: t.globalID({ required: true, description: "Global id of the agent." }),
    name: t.string({ required: false, description: "New name." }),
    type: t.string({ required: false, description: "New type." }),
    capabilities: t.stringList({ required: false, description: "New capability set (replaces the old one)." }),
    config: t.field({ type: "JSONObject", required: false, description: "New configuration (replaces the old one)." }),
    metadata: t.field({ type: "JSONObject", required: false, description: "New metadata (replaces the old one)." }),
  }),
});

const HeartbeatInput = builder.inputType("HeartbeatInput", {
  description: "A sign of life from an agent.",
  fields: (t) => ({
    id: t.globalID({ required: true, description: "Global id of the agent." }),
    metrics: t.field({ type: "JSONObject", required: false, description: "Current resource metrics (cpu, memory, queue size, …); kept until the next heartbeat that carries metrics." }),
  }),
});

const TerminateAgentInput = builder.inputType("TerminateAgentInput", {
  description: "Which agent to terminate, and why.",
  fields: (t) => ({
    id: t.globalID({ required: true, description: "Global id of the agent." }),
    reason: t.string({ required: false, description: "Why, kept with the agent for history." }),
  }),
});

const PauseAgentInput = AgentIdInput("PauseAgentInput", "Which agent to pause.");
const ResumeAgentInput = AgentIdInput("ResumeAgentInput", "Which agent to resume.");

const transitionErrors = [NotFoundError, IllegalTransitionError];

builder.mutationFields((t) => ({
  registerAgent: t.field({
    type: AgentPayload("RegisterAgentPayload", "The agent that was registered."),
    description: "Registers a new agent. It starts IDLE.",
    authScopes: { scope: "agents:write" },
    errors: { types: [QuotaExceededError] },
    args: { input: t.arg({ type: RegisterAgentInput, required: true, description: "The agent to register." }) },
    resolve: async (_root, { input }, ctx) => ({
      agent: await agents.registerAgent(ctx.db, actorOf(ctx), {
        name: input.name,
        type: input.type,
        capabilities: input.capabilities ?? undefined,
        config: input.config ?? undefined,
        metadata: input.metadata ?? undefined,
      }),
    }),
  }),
  updateAgent: t.field({
    type: AgentPayload("UpdateAgentPayload", "The agent after the update."),
    description: "Changes an agent's name, type, capabilities, config or metadata. Not allowed once TERMINATED.",
    authScopes: { scope: "agents:write" },
    errors: { types: transitionErrors },
    args: { input: t.arg({ type: UpdateAgentInput, required: true, description: "What to change." }) },
    resolve: async (_root, { input }, ctx) => ({
      agent: await agents.updateAgent(ctx.db, actorOf(ctx), rawId(input.id, "Agent"), input),
    }),
  }),
  heartbeat: t.field({
    type: AgentPayload("HeartbeatPayload", "The agent after the heartbeat, with its refreshed health."),
    description: "Records a sign of life (and optionally resource metrics). Agents should call it well within HEARTBEAT_DEGRADED_AFTER_SECONDS.",
    authScopes: { scope: "agents:write" },
    errors: { types: transitionErrors },
    args: { input: t.arg({ type: HeartbeatInput, required: true, description: "Which agent, and its metrics." }) },
    resolve: async (_root, { input }, ctx) => ({
      agent: await agents.recordHeartbeat(ctx.db, ctx.sql, actorOf(ctx), rawId(input.id, "Agent"), input.metrics, agents.healthThresholds(ctx.config)),
    }),
  }),
  pauseAgent: t.field({
    type: AgentPayload("PauseAgentPayload", "The paused agent."),
    description: "Pauses an IDLE or BUSY agent: it gets no new work until resumed.",
    authScopes: { scope: "agents:write" },
    errors: { types: transitionErrors },
    args: { input: t.arg({ type: PauseAgentInput, required: true, description: "Which agent." }) },
    resolve: async (_root, { input }, ctx) => ({ agent: await agents.pauseAgent(ctx.db, actorOf(ctx), rawId(input.id, "Agent")) }),
  }),
  resumeAgent: t.field({
    type: AgentPayload("ResumeAgentPayload", "The resumed agent."),
    description: "Resumes a PAUSED agent, back to the status it was paused from.",
    authScopes: { scope: "agents:write" },
    errors: { types: transitionErrors },
    args: { input: t.arg({ type: ResumeAgentInput, required: true, description: "Which agent." }) },
    resolve: async (_root, { input }, ctx) => ({ agent: await agents.resumeAgent(ctx.db, actorOf(ctx), rawId(input.id, "Agent")) }),
  }),
  terminateAgent: t.field({
    type: AgentPayload("TerminateAgentPayload", "The terminated agent, with its final status and time."),
    description: "Terminates an agent for good and removes it from its swarms. The agent stays readable for history.",
    authScopes: { scope: "agents:write" },
    errors: { types: transitionErrors },
    args: { input: t.arg({ type: TerminateAgentInput, required: true, description: "Which agent, and why." }) },
    resolve: async (_root, { input }, ctx) => ({ agent: await agents.terminateAgent(ctx.db, actorOf(ctx), rawId(input.id, "Agent"), input.reason) }),
  }),
}));
