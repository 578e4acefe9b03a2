/** Changes to the blackboard. Each mutation maps its input to service calls. */
import type { AgentArtifactProfile } from "../../generated/prisma/client.ts";
import { actorOf, type Context } from "../../context.ts";
import { IdempotencyKeyReusedError, IllegalTransitionError, NotFoundError, QuotaExceededError } from "../../errors.ts";
import { builder } from "../../schema/builder.ts";
import { rawId } from "../../schema/globalIds.ts";
import { TaskRef } from "../tasks/types.ts";
import * as artifacts from "./service.ts";
import { ArtifactInputRef, ArtifactRef, type ArtifactInputShape, readerFor, toArtifactInput, WAIT_DESCRIPTION } from "./types.ts";

const DEFAULT_WAIT_SECONDS = 30;

const publishFields = (t: PothosSchemaTypes.InputFieldBuilder<import("../../schema/builder.ts").SchemaTypesOf<typeof builder>, "InputObject">) => ({
  artifact: t.field({ type: ArtifactInputRef, required: true, description: "The artifact." }),
  correlationId: t.string({ required: false, description: "The correlation (workflow) to publish into, a UUID: an existing one of your workspace, or a new one you choose. Omitted: a new one is generated." }),
  producerId: t.globalID({ required: false, description: "The agent producing it: one your token registered (admins: any). Omitted: you publish it as yourself." }),
  idempotencyKey: t.string({ required: false, description: "Makes retries safe: a second call with the same key returns the first call's artifact instead of publishing another, for IDEMPOTENCY_KEY_TTL_HOURS (default 24 h)." }),
});

const PublishArtifactInput = builder.inputType("PublishArtifactInput", { description: "An artifact to publish, and where.", fields: publishFields });

const WaitFilterInput = builder.inputType("ArtifactWaitFilter", {
  description: "Which of the correlation's artifacts to return.",
  fields: (t) => ({
    types: t.stringList({ required: false, description: "Only these types (each must be known to the workspace)." }),
    producedBy: t.globalIDList({ required: false, description: "Only artifacts produced by these agents." }),
  }),
});

const PublishArtifactAndWaitInput = builder.inputType("PublishArtifactAndWaitInput", {
  description: "An artifact to publish, and how long to wait for its workflow to settle.",
  fields: (t) => ({
    ...publishFields(t),
    timeoutSeconds: t.int({ required: false, defaultValue: DEFAULT_WAIT_SECONDS, description: WAIT_DESCRIPTION }),
    filter: t.field({ type: WaitFilterInput, required: false, description: "Which artifacts to return; all when omitted." }),
  }),
});

const RunAgentInput = builder.inputType("RunAgentInput", {
  description: "Inputs to hand one agent directly.",
  fields: (t) => ({
    agentId: t.globalID({ required: true, description: "The agent to run (not terminated)." }),
    inputs: t.field({ type: [ArtifactInputRef], required: true, description: `Its input artifacts (1–${artifacts.MAX_ARTIFACTS_PER_CALL}); published into a new correlation, for this agent only.` }),
    timeoutSeconds: t.int({ required: false, defaultValue: DEFAULT_WAIT_SECONDS, description: WAIT_DESCRIPTION }),
  }),
});

const ConsumeRuleInput = builder.inputType("ConsumeRuleInput", {
  description: "Which artifacts an agent wants handed to it; all given conditions must hold.",
  fields: (t) => ({
    types: t.stringList({ required: true, description: "Artifact types (any of them; at least one)." }),
    tags: t.stringList({ required: false, description: "Tags the artifact must all carry." }),
    partitionKeys: t.stringList({ required: false, description: "Partition keys (any of them); omitted: any." }),
  }),
});

const DeclareArtifactTypesInput = builder.inputType("DeclareArtifactTypesInput", {
  description: "What an agent consumes and produces (replaces its earlier declaration).",
  fields: (t) => ({
    agentId: t.globalID({ required: true, description: "The agent." }),
    consumes: t.field({ type: [ConsumeRuleInput], required: false, description: "Its consume rules; every published artifact matching one becomes a task reserved for it." }),
    produces: t.stringList({ required: false, description: "Artifact types it publishes." }),
  }),
});

const SetAgentLabelsInput = builder.inputType("SetAgentLabelsInput", {
  description: "The visibility labels an agent holds (replaces the earlier ones).",
  fields: (t) => ({
    agentId: t.globalID({ required: true, description: "The agent." }),
    labels: t.stringList({ required: true, description: "Labels; it may read LABELLED artifacts carrying one of them." }),
  }),
});

const PublishArtifactPayload = builder.objectRef<artifacts.Published>("PublishArtifactPayload").implement({
  description: "The published artifact and the work it created.",
  fields: (t) => ({
    artifact: t.field({ type: ArtifactRef, description: "The artifact.", resolve: (p) => p.artifact }),
    correlationId: t.string({ description: "Its correlation: subscribe to correlationEvents to follow the workflow.", resolve: (p) => p.artifact.correlationId }),
    consumerTasks: t.field({ type: [TaskRef], description: "One task per consuming agent, reserved for it (needs tasks:read).", authScopes: { scope: "tasks:read" }, resolve: (p) => p.consumerTasks }),
    replayed: t.exposeBoolean("replayed", { description: "True when an earlier call with the same idempotency key published it; nothing new was stored." }),
  }),
});

const PublishArtifactAndWaitPayload = builder.objectRef<artifacts.PublishedAndWaited>("PublishArtifactAndWaitPayload").implement({
  description: "The workflow's artifacts once it settled, or what existed when the wait timed out.",
  fields: (t) => ({
    correlationId: t.exposeString("correlationId", { description: "The correlation of the published artifact." }),
    artifact: t.field({ type: ArtifactRef, description: "The published artifact.", resolve: (p) => p.artifact }),
    artifacts: t.field({ type: [ArtifactRef], description: "The correlation's artifacts matching the filter that you may read, oldest first (the published one included).", resolve: (p) => p.artifacts }),
    completed: t.exposeBoolean("completed", { description: "True when no work was pending any more (COMPLETED or FAILED) before the timeout." }),
    durationMs: t.exposeInt("durationMs", { description: "How long the call took, in milliseconds." }),
  }),
});

const RunAgentPayload = builder.objectRef<artifacts.AgentRunResult>("RunAgentPayload").implement({
  description: "The run's task and output artifacts, once it ended or when the wait timed out.",
  fields: (t) => ({
    correlationId: t.string({ description: "The run's correlation.", resolve: (r) => r.run.correlationId }),
    task: t.field({ type: TaskRef, description: "The task reserved for the agent (needs tasks:read): its status, result and error.", authScopes: { scope: "tasks:read" }, resolve: (r) => r.run.task }),
    inputs: t.field({ type: [ArtifactRef], description: "The published inputs.", resolve: (r) => r.run.inputs }),
    artifacts: t.field({ type: [ArtifactRef], description: "The outputs the agent published by completing the task (those you may read).", resolve: (r) => r.outputs }),
    completed: t.exposeBoolean("completed", { description: "True when the task ended (completed, failed or cancelled) before the timeout." }),
    durationMs: t.exposeInt("durationMs", { description: "How long the call took, in milliseconds." }),
  }),
});

const AgentPayload = (name: string, description: string) =>
  builder.objectRef<AgentArtifactProfile>(name).implement({
    description,
    fields: (t) => ({
      agent: t.prismaField({
        type: "Agent",
        description: "The agent, with its artifactProfile.",
        resolve: (query, p, _args, ctx) => ctx.db.agent.findUniqueOrThrow({ ...query, where: { id: p.agentId } }),
      }),
    }),
  });

type IdRef = { typename: string; id: string };
const agentIds = (ids: IdRef[] | null | undefined) => ids?.map((id) => (id.typename === "Agent" ? id.id : ""));
const retention = (ctx: Context) => ctx.config;

builder.mutationFields((t) => ({
  publishArtifact: t.field({
    type: PublishArtifactPayload,
    description: "Publishes an artifact on the blackboard and hands it, as a task, to every agent whose consume rule matches (and who may read it), in one transaction.",
    authScopes: { scope: "artifacts:write" },
    errors: { types: [NotFoundError, IdempotencyKeyReusedError, QuotaExceededError] },
    args: { input: t.arg({ type: PublishArtifactInput, required: true, description: "The artifact and where it goes." }) },
    resolve: async (_root, { input }, ctx) =>
      artifacts.publishArtifact(ctx.db, await readerFor(ctx), publishInput(input), input.idempotencyKey, retention(ctx)),
  }),
  publishArtifactAndWait: t.field({
    type: PublishArtifactAndWaitPayload,
    description:
      "Publishes an artifact, then waits until its correlation has no pending work (or the timeout) and returns the correlation's artifacts. Woken by the event log, not by polling.",
    authScopes: { scope: "artifacts:write" },
    errors: { types: [NotFoundError, IdempotencyKeyReusedError, QuotaExceededError] },
    args: { input: t.arg({ type: PublishArtifactAndWaitInput, required: true, description: "The artifact, the wait and the filter." }) },
    resolve: async (_root, { input }, ctx) =>
      artifacts.publishArtifactAndWait(
        ctx.db,
        ctx.events.bus,
        () => ctx.events.tailer.notify(),
        await readerFor(ctx),
        {
          ...publishInput(input),
          idempotencyKey: input.idempotencyKey,
          timeoutSeconds: input.timeoutSeconds ?? DEFAULT_WAIT_SECONDS,
          filter: input.filter ? { types: input.filter.types, producedBy: agentIds(input.filter.producedBy) } : null,
        },
        retention(ctx),
      ),
  }),
  runAgent: t.field({
    type: RunAgentPayload,
    description:
      "Runs one agent directly (seed 004): publishes the inputs for it alone and creates a task reserved for it, which it learns of through tasksAvailable; waits for the task to end and returns its outputs.",
    authScopes: { scope: "artifacts:write" },
    errors: { types: [NotFoundError, IllegalTransitionError, QuotaExceededError] },
    args: { input: t.arg({ type: RunAgentInput, required: true, description: "The agent, its inputs and the wait." }) },
    resolve: async (_root, { input }, ctx) =>
      artifacts.runAgent(
        ctx.db,
        ctx.events.bus,
        () => ctx.events.tailer.notify(),
        await readerFor(ctx),
        rawId(input.agentId, "Agent"),
        (input.inputs as ArtifactInputShape[]).map(toArtifactInput),
        input.timeoutSeconds ?? DEFAULT_WAIT_SECONDS,
      ),
  }),
  declareArtifactTypes: t.field({
    type: AgentPayload("DeclareArtifactTypesPayload", "The agent with its new declaration."),
    description: "Declares which artifact types an agent consumes (with optional tag and partition conditions) and produces (seed 004's agent subscriptions and outputs). Replaces the earlier declaration.",
    authScopes: { scope: "agents:write" },
    errors: { types: [NotFoundError, IllegalTransitionError] },
    args: { input: t.arg({ type: DeclareArtifactTypesInput, required: true, description: "The agent and its declaration." }) },
    resolve: (_root, { input }, ctx) =>
      artifacts.declareArtifactTypes(ctx.db, actorOf(ctx), rawId(input.agentId, "Agent"), {
        consumes: input.consumes?.map((r) => ({ types: r.types, tags: r.tags ?? undefined, partitionKeys: r.partitionKeys ?? undefined })) ?? undefined,
        produces: input.produces ?? undefined,
      }),
  }),
  setAgentLabels: t.field({
    type: AgentPayload("SetAgentLabelsPayload", "The agent with its new labels."),
    description: "Sets the visibility labels an agent holds (which LABELLED artifacts it may read). Admin only: labels grant access.",
    authScopes: { scope: "admin" },
    errors: { types: [NotFoundError] },
    args: { input: t.arg({ type: SetAgentLabelsInput, required: true, description: "The agent and its labels." }) },
    resolve: (_root, { input }, ctx) => artifacts.setAgentLabels(ctx.db, actorOf(ctx), rawId(input.agentId, "Agent"), input.labels),
  }),
}));

function publishInput(input: { artifact: ArtifactInputShape; correlationId?: string | null; producerId?: IdRef | null }): artifacts.PublishArtifactInput {
  return { artifact: toArtifactInput(input.artifact), correlationId: input.correlationId, producerAgentId: input.producerId ? rawId(input.producerId, "Agent") : null };
}

