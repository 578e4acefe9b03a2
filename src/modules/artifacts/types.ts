/**
 * GraphQL types of the blackboard: artifacts, their consumptions, correlations, agents'
 * declarations, summaries and history. Every field that leads to an artifact filters with the
 * reader's visibility (visibility.ts); none is a plain relation.
 */
import { encodeGlobalID } from "@pothos/plugin-relay";
import type { Context } from "../../context.ts";
import type { Artifact } from "../../generated/prisma/client.ts";
import { builder, connectionOptions, inViewerWorkspace, pageSizeLimit } from "../../schema/builder.ts";
import { defineLoader } from "../../schema/loaders.ts";
import { storedRules } from "./routing.ts";
import { rawId } from "../../schema/globalIds.ts";
import { type AgentHistory, type ArtifactInput, type ArtifactSummary, type CorrelationView, MAX_PAYLOAD_BYTES, OLDEST_FIRST, WAIT_SECONDS, artifactsWhere } from "./service.ts";
import { type ArtifactReader, readerOf, visibleArtifactsWhere } from "./visibility.ts";

/** The caller as an artifact reader, resolved once per operation. */
const readerLoader = defineLoader<"viewer", ArtifactReader>("artifacts.reader", (ctx, keys) => Promise.all(keys.map(() => readerOf(ctx.db, ctx.viewer!))));
export const readerFor = (ctx: Context): Promise<ArtifactReader> => readerLoader(ctx).load("viewer");

export const ArtifactVisibilityEnum = builder.enumType("ArtifactVisibility", {
  description: "Who may read an artifact. Whoever published it, its producer, and admin tokens always may. A token acts as the agents it registered.",
  values: {
    PUBLIC: { description: "Everyone in the workspace." },
    PRIVATE: { description: "Its producer and the agents listed as its readers." },
    LABELLED: { description: "Agents holding its label (labels are granted with setAgentLabels)." },
    AFTER: { description: "Everyone in the workspace from `visibleFrom` on; consumers' tasks become claimable then." },
  } as const,
});

export const CorrelationStateEnum = builder.enumType("CorrelationState", {
  description: "Where a correlation (a blackboard workflow) stands.",
  values: {
    ACTIVE: { description: "Some of its tasks are unfinished (pending work)." },
    COMPLETED: { description: "No pending work, and every task of it completed." },
    FAILED: { description: "No pending work, and at least one task failed for good or was cancelled." },
    NOT_FOUND: { description: "It has no artifact you may read (unknown, of another workspace, or all invisible to you)." },
  } as const,
});

export const HistoryIntervalEnum = builder.enumType("HistoryInterval", {
  description: "The length of one entry of an agent's history timeline.",
  values: { MINUTE: { description: "One minute." }, HOUR: { description: "One hour." }, DAY: { description: "One day (UTC)." } } as const,
});

const ConsumeRuleRef = builder.objectRef<{ types: string[]; tags: string[]; partitionKeys: string[] }>("ConsumeRule").implement({
  description: "Which artifacts an agent wants handed to it: all conditions must hold.",
  fields: (t) => ({
    types: t.exposeStringList("types", { description: "Artifact types (any of them)." }),
    tags: t.exposeStringList("tags", { description: "Tags the artifact must all carry; empty: any." }),
    partitionKeys: t.exposeStringList("partitionKeys", { description: "Partition keys (any of them); empty: any, including none." }),
  }),
});

builder.prismaObject("AgentArtifactProfile", {
  description: "How an agent takes part in the blackboard: what it consumes and produces, and the visibility labels it holds.",
  fields: (t) => ({
    consumes: t.field({ type: [ConsumeRuleRef], description: "Its consume rules: each published artifact matching one becomes a task reserved for the agent.", resolve: (p) => storedRules(p.consumes) }),
    produces: t.exposeStringList("produces", { description: "Artifact types it publishes (as declared)." }),
    labels: t.exposeStringList("labels", { description: "Labels it holds: it may read LABELLED artifacts carrying one of them." }),
    updatedAt: t.expose("updatedAt", { type: "DateTime", description: "When the declaration or the labels last changed." }),
  }),
});

builder.prismaObjectFields("Agent", (t) => ({
  artifactProfile: t.relation("artifactProfile", { nullable: true, description: "What the agent consumes and produces on the blackboard, and its labels; null until declared (declareArtifactTypes, setAgentLabels)." }),
}));

builder.prismaObject("ArtifactConsumption", {
  description: "An artifact handed to a consuming agent as a task.",
  fields: (t) => ({
    agent: t.relation("agent", { description: "The consuming agent." }),
    task: t.relation("task", { description: "The task that carries the artifact to it." }),
    routedAt: t.expose("createdAt", { type: "DateTime", description: "When the task was created." }),
    consumedAt: t.expose("consumedAt", { type: "DateTime", nullable: true, description: "When the task completed; null until then." }),
  }),
});

export const ArtifactRef = builder.prismaNode("Artifact", {
  description: "A typed piece of data on the blackboard. Immutable; readable as its visibility allows.",
  id: { field: "id", description: "Global id of the artifact." },
  authScopes: { scope: "artifacts:read" },
  nullable: true,
  findUnique: async (id, ctx) => ({ ...inViewerWorkspace(id, ctx), AND: [visibleArtifactsWhere(await readerFor(ctx), new Date())] }),
  fields: (t) => ({
    type: t.exposeString("type", { description: "Type name, e.g. CodeSubmission; consumers subscribe by type." }),
    payload: t.field({ type: "JSONObject", description: `The data (at most ${MAX_PAYLOAD_BYTES / 1024} KiB serialized).`, select: { payload: true }, resolve: (a) => a.payload as Record<string, unknown> }),
    producerId: t.id({ nullable: true, description: "Global id of the producing agent; null when a principal published it directly.", resolve: (a) => (a.producerAgentId ? encodeGlobalID("Agent", a.producerAgentId) : null) }),
    producer: t.relation("producer", { nullable: true, description: "The producing agent (needs agents:read); null when a principal published it directly." }),
    publishedBy: t.exposeString("publishedBy", { description: "Subject of the token that published it." }),
    correlationId: t.exposeString("correlationId", { description: "The workflow it belongs to: see `correlation(id)`." }),
    partitionKey: t.exposeString("partitionKey", { nullable: true, description: "Partition key, if any (consume rules may match on it)." }),
    tags: t.exposeStringList("tags", { description: "Tags, as a sorted set." }),
    visibility: t.expose("visibility", { type: ArtifactVisibilityEnum, description: "Who may read it." }),
    readers: t.idList({ description: "PRIVATE: global ids of the agents that may read it besides its producer.", resolve: (a) => a.readerAgentIds.map((id) => encodeGlobalID("Agent", id)) }),
    label: t.exposeString("label", { nullable: true, description: "LABELLED: the label an agent must hold." }),
    visibleFrom: t.expose("visibleFrom", { type: "DateTime", nullable: true, description: "AFTER: from when on everyone may read it." }),
    version: t.exposeInt("version", { description: "1 + the number of earlier artifacts of the same type, correlation and partition key." }),
    sourceTask: t.relation("sourceTask", { nullable: true, description: "The task whose completion published it (needs tasks:read); null otherwise." }),
    consumptions: t.relation("consumptions", { description: "Every consumer it was handed to, with its task and when it was consumed.", query: { orderBy: { createdAt: "asc" } } }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When it was published." }),
  }),
});

builder.prismaObjectFields("Task", (t) => ({
  correlationId: t.exposeString("correlationId", { nullable: true, description: "The blackboard workflow (correlation) the task works for; null for other tasks." }),
  reservedFor: t.relation("reservedFor", { nullable: true, description: "The only agent that may claim the task (blackboard work: a consumer, or runAgent); null when any matching agent may." }),
  inputArtifacts: t.prismaField({
    type: ["Artifact"],
    description: "The artifacts the task carries to its agent (those you may read), oldest first.",
    authScopes: { scope: "artifacts:read" },
    resolve: async (query, task, _args, ctx) =>
      ctx.db.artifact.findMany({ ...query, where: artifactsWhere(await readerFor(ctx), { inputsOfTask: task.id }), orderBy: OLDEST_FIRST }),
  }),
  outputArtifacts: t.prismaField({
    type: ["Artifact"],
    description: "The artifacts its completion published (those you may read), oldest first.",
    authScopes: { scope: "artifacts:read" },
    resolve: async (query, task, _args, ctx) =>
      ctx.db.artifact.findMany({ ...query, where: artifactsWhere(await readerFor(ctx), { outputsOfTask: task.id }), orderBy: OLDEST_FIRST }),
  }),
}));

export const CorrelationRef = builder.objectRef<CorrelationView>("Correlation").implement({
  description: "A blackboard workflow: every artifact and task carrying one correlation id (seed 004's correlation status). Counts cover what you may read.",
  fields: (t) => ({
    correlationId: t.exposeString("id", { description: "The correlation id (a UUID)." }),
    state: t.field({ type: CorrelationStateEnum, description: "ACTIVE while work is pending, then COMPLETED or FAILED; NOT_FOUND when you may read none of its artifacts.", resolve: (c) => c.state }),
    hasPendingWork: t.boolean({ description: "Whether any of its tasks is unfinished.", resolve: (c) => c.pendingTasks > 0 }),
    pendingTasks: t.exposeInt("pendingTasks", { description: "Its unfinished tasks (waiting, pending, claimed or running)." }),
    completedTasks: t.exposeInt("completedTasks", { description: "Its completed tasks." }),
    errorCount: t.exposeInt("failedTasks", { description: "Its tasks that failed for good or were cancelled." }),
    artifactCount: t.exposeInt("artifactCount", { description: "Its artifacts you may read." }),
    startedAt: t.expose("startedAt", { type: "DateTime", nullable: true, description: "When its first artifact you may read was published." }),
    lastActivityAt: t.expose("lastActivityAt", { type: "DateTime", nullable: true, description: "Its latest artifact or task change." }),
    artifacts: t.prismaConnection(
      {
        type: ArtifactRef,
        cursor: "id",
        description: "Its artifacts you may read, oldest first.",
        authScopes: { scope: "artifacts:read" },
        maxSize: pageSizeLimit,
        resolve: async (query, c, _args, ctx) =>
          ctx.db.artifact.findMany({ ...query, where: artifactsWhere(await readerFor(ctx), { correlationId: c.id }), orderBy: OLDEST_FIRST }),
        totalCount: async (c, _args, ctx) => ctx.db.artifact.count({ where: artifactsWhere(await readerFor(ctx), { correlationId: c.id }) }),
      },
      connectionOptions("A page of a correlation's artifacts."),
      { description: "An artifact in a page." },
    ),
    tasks: t.prismaConnection(
      {
        type: "Task",
        cursor: "id",
        description: "Its tasks (consumers' work and runs), oldest first (needs tasks:read).",
        authScopes: { scope: "tasks:read" },
        maxSize: pageSizeLimit,
        resolve: (query, c, _args, ctx) => ctx.db.task.findMany({ ...query, where: { workspaceId: ctx.viewer!.workspaceId, correlationId: c.id }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] }),
        totalCount: (c, _args, ctx) => ctx.db.task.count({ where: { workspaceId: ctx.viewer!.workspaceId, correlationId: c.id } }),
      },
      connectionOptions("A page of a correlation's tasks."),
      { description: "A task in a page." },
    ),
  }),
});

const CountByKey = builder.objectRef<{ key: string; count: number }>("ArtifactCountByType").implement({
  description: "How many artifacts have one type.",
  fields: (t) => ({ type: t.exposeString("key", { description: "The type." }), count: t.exposeInt("count", { description: "How many." }) }),
});

const CountByProducer = builder.objectRef<{ agentId: string | null; count: number }>("ArtifactCountByProducer").implement({
  description: "How many artifacts one agent produced (or principals published directly).",
  fields: (t) => ({
    producerId: t.id({ nullable: true, description: "Global id of the producing agent; null for artifacts principals published directly.", resolve: (c) => (c.agentId ? encodeGlobalID("Agent", c.agentId) : null) }),
    count: t.exposeInt("count", { description: "How many." }),
  }),
});

const CountByVisibility = builder.objectRef<{ visibility: Artifact["visibility"]; count: number }>("ArtifactCountByVisibility").implement({
  description: "How many artifacts have one visibility.",
  fields: (t) => ({ visibility: t.field({ type: ArtifactVisibilityEnum, description: "The visibility.", resolve: (c) => c.visibility }), count: t.exposeInt("count", { description: "How many." }) }),
});

export const ArtifactSummaryRef = builder.objectRef<ArtifactSummary>("ArtifactSummary").implement({
  description: "Counts of the artifacts matching a filter that you may read (seed 004's summary).",
  fields: (t) => ({
    totalCount: t.exposeInt("totalCount", { description: "How many in all." }),
    byType: t.field({ type: [CountByKey], description: "Per type, by type name.", resolve: (s) => s.byType }),
    byProducer: t.field({ type: [CountByProducer], description: "Per producing agent.", resolve: (s) => s.byProducer }),
    byVisibility: t.field({ type: [CountByVisibility], description: "Per visibility.", resolve: (s) => s.byVisibility }),
  }),
});

const historyCountFields = (t: PothosSchemaTypes.ObjectFieldBuilder<import("../../schema/builder.ts").SchemaTypesOf<typeof builder>, AgentHistory["timeline"][number] | AgentHistory>) => ({
  executions: t.exposeInt("executions", { description: "Claims of the agent's tasks (attempts) started in the window." }),
  completed: t.exposeInt("completed", { description: "Of those, how many it completed." }),
  failed: t.exposeInt("failed", { description: "Of those, how many failed or lost their lease." }),
  artifactsConsumed: t.exposeInt("artifactsConsumed", { description: "Artifacts (you may read) it consumed: consumer tasks it completed." }),
  artifactsProduced: t.exposeInt("artifactsProduced", { description: "Artifacts (you may read) it produced." }),
});

const HistoryEntryRef = builder.objectRef<AgentHistory["timeline"][number]>("AgentHistoryEntry").implement({
  description: "An agent's activity in one interval of the window.",
  fields: (t) => ({ start: t.expose("start", { type: "DateTime", description: "Where the interval begins." }), ...historyCountFields(t) }),
});

export const AgentHistoryRef = builder.objectRef<AgentHistory>("AgentHistory").implement({
  description: "What an agent did in a window (seed 004's agent history summary).",
  fields: (t) => ({
    agentId: t.id({ description: "Global id of the agent.", resolve: (h) => encodeGlobalID("Agent", h.agentId) }),
    from: t.expose("from", { type: "DateTime", description: "Start of the window (inclusive)." }),
    to: t.expose("to", { type: "DateTime", description: "End of the window (exclusive)." }),
    ...historyCountFields(t),
    timeline: t.field({ type: [HistoryEntryRef], description: "The same counts per interval, oldest first; intervals with no activity are left out.", resolve: (h) => h.timeline }),
  }),
});

export const ArtifactInputRef = builder.inputType("ArtifactInput", {
  description: "A new artifact.",
  fields: (t) => ({
    type: t.string({ required: true, description: "Type name (letters, digits, _ . : / -; at most 100 characters)." }),
    payload: t.field({ type: "JSONObject", required: true, description: `The data; at most ${MAX_PAYLOAD_BYTES / 1024} KiB serialized.` }),
    partitionKey: t.string({ required: false, description: "Partition key (consume rules may match on it)." }),
    tags: t.stringList({ required: false, description: "Tags (consume rules may require them)." }),
    visibility: t.field({ type: ArtifactVisibilityEnum, required: false, description: "Who may read it (default PUBLIC)." }),
    readers: t.globalIDList({ required: false, description: "PRIVATE only: agents that may read it besides its producer." }),
    label: t.string({ required: false, description: "LABELLED only (and required there): the label an agent must hold." }),
    visibleFrom: t.field({ type: "DateTime", required: false, description: "AFTER only (and required there): from when on everyone may read it." }),
  }),
});

export type ArtifactInputShape = {
  type: string;
  payload: Record<string, unknown>;
  partitionKey?: string | null;
  tags?: string[] | null;
  visibility?: Artifact["visibility"] | null;
  readers?: { typename: string; id: string }[] | null;
  label?: string | null;
  visibleFrom?: Date | null;
};

/** An ArtifactInput as the service takes it (reader agents as raw ids). */
export function toArtifactInput(input: ArtifactInputShape): ArtifactInput {
  return { ...input, tags: input.tags ?? undefined, visibility: input.visibility ?? undefined, readers: input.readers?.map((id) => rawId(id, "Agent")) };
}

export const WAIT_DESCRIPTION = `How long to wait, in seconds (${WAIT_SECONDS.min}–${WAIT_SECONDS.max}, default 30).`;
