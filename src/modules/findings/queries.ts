/** Read access to findings and conflicts. */
import { actorOf, type Context } from "../../context.ts";
import type { Prisma } from "../../generated/prisma/client.ts";
import { builder, connectionOptions, pageSizeLimit } from "../../schema/builder.ts";
import { defineLoader } from "../../schema/loaders.ts";
import { findingIdsMatching, normalizeKey } from "./service.ts";
import { ConflictRef, ConflictStatusEnum, FindingRef, FindingStatusEnum } from "./types.ts";

type IdRef = { typename: string; id: string } | null | undefined;
// An id of the wrong type matches nothing, like an unknown id.
const idOf = (ref: IdRef, type: string) => (ref ? (ref.typename === type ? ref.id : "") : undefined);

const FindingFilter = builder.inputType("FindingFilter", {
  description: "Narrows a list of findings. All given conditions must hold.",
  fields: (t) => ({
    subject: t.string({ required: false, description: "On this subject (normalized before matching, like posted subjects)." }),
    task: t.globalID({ required: false, description: "From this task." }),
    agent: t.globalID({ required: false, description: "From this agent." }),
    swarm: t.globalID({ required: false, description: "Belonging to this swarm." }),
    tag: t.string({ required: false, description: "Carrying this tag." }),
    minConfidence: t.float({ required: false, description: "With a confidence of at least this." }),
    status: t.field({ type: [FindingStatusEnum], required: false, description: "Any of these statuses." }),
    text: t.string({
      required: false,
      description: 'Claims matching this full-text query (PostgreSQL websearch syntax: words, "quoted phrases", -excluded, or; English stemming); at most MAX_SEARCH_TEXT_LENGTH (default 500) characters.',
    }),
  }),
});

type FindingFilterShape = {
  subject?: string | null;
  task?: IdRef;
  agent?: IdRef;
  swarm?: IdRef;
  tag?: string | null;
  minConfidence?: number | null;
  status?: ("UNVERIFIED" | "VERIFIED" | "DISPUTED" | "RETRACTED" | "REJECTED")[] | null;
  text?: string | null;
};

/** Ids matching a full-text query, once per operation even though the page and totalCount both need them. */
const textMatchLoader = defineLoader<string, string[]>("finding.textMatch", (ctx, texts) =>
  Promise.all(texts.map((text) => findingIdsMatching(ctx.db, actorOf(ctx).workspaceId, text, ctx.config.maxSearchTextLength))),
);

async function findingWhere(ctx: Context, filter: FindingFilterShape | null | undefined): Promise<Prisma.FindingWhereInput> {
  const text = filter?.text?.trim();
  return {
    workspaceId: actorOf(ctx).workspaceId,
    id: text ? { in: await textMatchLoader(ctx).load(text) } : undefined,
    subject: filter?.subject != null ? normalizeKey(filter.subject) : undefined,
    taskId: idOf(filter?.task, "Task"),
    agentId: idOf(filter?.agent, "Agent"),
    swarmId: idOf(filter?.swarm, "Swarm"),
    tags: filter?.tag != null ? { has: filter.tag.trim() } : undefined,
    confidence: filter?.minConfidence != null ? { gte: filter.minConfidence } : undefined,
    status: filter?.status ? { in: filter.status } : undefined,
  };
}

const ConflictFilter = builder.inputType("ConflictFilter", {
  description: "Narrows a list of conflicts. All given conditions must hold.",
  fields: (t) => ({
    status: t.field({ type: [ConflictStatusEnum], required: false, description: "Any of these statuses." }),
    subject: t.string({ required: false, description: "On this subject (normalized before matching)." }),
    swarm: t.globalID({ required: false, description: "Either finding belongs to this swarm." }),
    escalationRecommended: t.boolean({ required: false, description: "Only conflicts whose escalation is (true) or is not (false) recommended." }),
  }),
});

type ConflictFilterShape = { status?: ("OPEN" | "RESOLVED" | "DISMISSED")[] | null; subject?: string | null; swarm?: IdRef; escalationRecommended?: boolean | null };

function conflictWhere(workspaceId: string, filter: ConflictFilterShape | null | undefined): Prisma.ConflictWhereInput {
  const swarmId = idOf(filter?.swarm, "Swarm");
  return {
    workspaceId,
    status: filter?.status ? { in: filter.status } : undefined,
    subject: filter?.subject != null ? normalizeKey(filter.subject) : undefined,
    escalationRecommended: filter?.escalationRecommended ?? undefined,
    OR: swarmId !== undefined ? [{ findingA: { swarmId } }, { findingB: { swarmId } }] : undefined,
  };
}

builder.queryFields((t) => ({
  finding: t.prismaField({
    type: FindingRef,
    nullable: true,
    description: "One finding by global id; null when it does not exist in your workspace.",
    authScopes: { scope: "findings:read" },
    args: { id: t.arg.globalID({ required: true, description: "Global id of the finding." }) },
    resolve: (query, _root, { id }, ctx) =>
      id.typename === "Finding" ? ctx.db.finding.findFirst({ ...query, where: { id: id.id, workspaceId: actorOf(ctx).workspaceId } }) : null,
  }),
  findings: t.prismaConnection(
    {
      type: FindingRef,
      cursor: "id",
      description: "Findings of your workspace, newest first.",
      authScopes: { scope: "findings:read" },
      maxSize: pageSizeLimit,
      args: { filter: t.arg({ type: FindingFilter, required: false, description: "Conditions the findings must meet." }) },
      resolve: async (query, _root, { filter }, ctx) =>
        ctx.db.finding.findMany({ ...query, where: await findingWhere(ctx, filter), orderBy: [{ createdAt: "desc" }, { id: "desc" }] }),
      totalCount: async (_root, { filter }, ctx) => ctx.db.finding.count({ where: await findingWhere(ctx, filter) }),
    },
    connectionOptions("A page of findings."),
    { description: "A finding in a page." },
  ),
  conflict: t.prismaField({
    type: ConflictRef,
    nullable: true,
    description: "One conflict by global id; null when it does not exist in your workspace.",
    authScopes: { scope: "findings:read" },
    args: { id: t.arg.globalID({ required: true, description: "Global id of the conflict." }) },
    resolve: (query, _root, { id }, ctx) =>
      id.typename === "Conflict" ? ctx.db.conflict.findFirst({ ...query, where: { id: id.id, workspaceId: actorOf(ctx).workspaceId } }) : null,
  }),
  conflicts: t.prismaConnection(
    {
      type: ConflictRef,
      cursor: "id",
      description: "Conflicts of your workspace, newest first.",
      authScopes: { scope: "findings:read" },
      maxSize: pageSizeLimit,
      args: { filter: t.arg({ type: ConflictFilter, required: false, description: "Conditions the conflicts must meet." }) },
      resolve: (query, _root, { filter }, ctx) =>
        ctx.db.conflict.findMany({ ...query, where: conflictWhere(actorOf(ctx).workspaceId, filter), orderBy: [{ createdAt: "desc" }, { id: "desc" }] }),
      totalCount: (_root, { filter }, ctx) => ctx.db.conflict.count({ where: conflictWhere(actorOf(ctx).workspaceId, filter) }),
    },
    connectionOptions("A page of conflicts."),
    { description: "A conflict in a page." },
  ),
}));
