/** Read access to the blackboard: artifacts, their summary, correlations and agents' history. */
import { GraphQLError } from "graphql";
import { actorOf, type Context } from "../../context.ts";
import { InvalidInputError } from "../../errors.ts";
import { builder, connectionOptions, pageSizeLimit } from "../../schema/builder.ts";
import { agentHistory, type ArtifactFilter, artifactSummary, artifactsWhere, assertKnownTypes, correlationStatus } from "./service.ts";
import { AgentHistoryRef, ArtifactRef, ArtifactSummaryRef, ArtifactVisibilityEnum, CorrelationRef, HistoryIntervalEnum, readerFor } from "./types.ts";

type IdRef = { typename: string; id: string };

export const ArtifactFilterInput = builder.inputType("ArtifactFilter", {
  description: "Narrows a list of artifacts (seed 004's filters). All given conditions must hold.",
  fields: (t) => ({
    types: t.stringList({ required: false, description: "Any of these types; a type the workspace never heard of is refused (BAD_USER_INPUT)." }),
    producedBy: t.globalIDList({ required: false, description: "Produced by any of these agents." }),
    correlationId: t.string({ required: false, description: "Of this correlation." }),
    tags: t.stringList({ required: false, description: "Carrying every one of these tags." }),
    from: t.field({ type: "DateTime", required: false, description: "Published at or after this instant." }),
    to: t.field({ type: "DateTime", required: false, description: "Published before this instant." }),
    visibility: t.field({ type: [ArtifactVisibilityEnum], required: false, description: "With any of these visibilities." }),
    partitionKey: t.string({ required: false, description: "With this partition key." }),
  }),
});

export type ArtifactFilterShape = Omit<ArtifactFilter, "producedBy"> & { producedBy?: IdRef[] | null };

/** The filter as the service takes it; an id of another type matches nothing, like an unknown id. */
export function toArtifactFilter(filter: ArtifactFilterShape | null | undefined): ArtifactFilter {
  return { ...filter, producedBy: filter?.producedBy?.map((id) => (id.typename === "Agent" ? id.id : "")) };
}

/** A query's input error, as the top-level BAD_USER_INPUT error queries answer with. */
export async function asBadUserInput<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    throw new GraphQLError(error.message, { extensions: { code: "BAD_USER_INPUT", issues: error.issues } });
  }
}

async function filteredWhere(ctx: Context, filter: ArtifactFilterShape | null | undefined) {
  await asBadUserInput(() => assertKnownTypes(ctx.db, actorOf(ctx).workspaceId, filter?.types, "filter.types"));
  return artifactsWhere(await readerFor(ctx), toArtifactFilter(filter));
}

builder.queryFields((t) => ({
  artifact: t.prismaField({
    type: ArtifactRef,
    nullable: true,
    description: "One artifact by global id; null when it does not exist in your workspace or you may not read it.",
    authScopes: { scope: "artifacts:read" },
    args: { id: t.arg.globalID({ required: true, description: "Global id of the artifact." }) },
    resolve: async (query, _root, { id }, ctx) =>
      id.typename === "Artifact" ? ctx.db.artifact.findFirst({ ...query, where: artifactsWhere(await readerFor(ctx), { ids: [id.id] }) }) : null,
  }),
  artifacts: t.prismaConnection(
    {
      type: ArtifactRef,
      cursor: "id",
      description: "Artifacts of your workspace that you may read, newest first.",
      authScopes: { scope: "artifacts:read" },
      maxSize: pageSizeLimit,
      args: { filter: t.arg({ type: ArtifactFilterInput, required: false, description: "Conditions the artifacts must meet." }) },
      resolve: async (query, _root, { filter }, ctx) => ctx.db.artifact.findMany({ ...query, where: await filteredWhere(ctx, filter), orderBy: [{ createdAt: "desc" }, { id: "desc" }] }),
      totalCount: async (_root, { filter }, ctx) => ctx.db.artifact.count({ where: await filteredWhere(ctx, filter) }),
    },
    connectionOptions("A page of artifacts."),
    { description: "An artifact in a page." },
  ),
  artifactSummary: t.field({
    type: ArtifactSummaryRef,
    description: "Counts of the artifacts matching the filter that you may read: in all, by type, by producer, by visibility.",
    authScopes: { scope: "artifacts:read" },
    args: { filter: t.arg({ type: ArtifactFilterInput, required: false, description: "Conditions the artifacts must meet." }) },
    resolve: async (_root, { filter }, ctx) => artifactSummary(ctx.db, await filteredWhere(ctx, filter)),
  }),
  correlation: t.field({
    type: CorrelationRef,
    description: "Where a correlation (workflow) stands, with its artifacts and tasks. Replaces polling: subscribe to correlationEvents instead.",
    authScopes: { scope: "artifacts:read" },
    args: { id: t.arg.string({ required: true, description: "The correlation id." }) },
    resolve: async (_root, { id }, ctx) => correlationStatus(ctx.db, await readerFor(ctx), id),
  }),
  agentHistory: t.field({
    type: AgentHistoryRef,
    nullable: true,
    description: "What an agent did in a window: executions, artifacts consumed and produced, and a timeline. Null when the agent is not in your workspace.",
    authScopes: { scope: "artifacts:read" },
    args: {
      agentId: t.arg.globalID({ required: true, description: "The agent." }),
      from: t.arg({ type: "DateTime", required: false, description: "Start of the window (inclusive); default: 24 hours before `to`." }),
      to: t.arg({ type: "DateTime", required: false, description: "End of the window (exclusive); default: now. At most 31 days after `from`." }),
      interval: t.arg({ type: HistoryIntervalEnum, required: false, defaultValue: "HOUR", description: "Length of one timeline entry (default HOUR)." }),
    },
    resolve: async (_root, args, ctx) =>
      args.agentId.typename !== "Agent"
        ? null
        : asBadUserInput(async () => agentHistory(ctx.db, await readerFor(ctx), args.agentId.id, { from: args.from, to: args.to, interval: args.interval ?? "HOUR" })),
  }),
}));
