/** Read access to chat sessions. */
import { actorOf } from "../../context.ts";
import type { Prisma } from "../../generated/prisma/client.ts";
import { builder, connectionOptions, pageSizeLimit } from "../../schema/builder.ts";
import { liveSessionWhere } from "./service.ts";
import { SessionRef, SessionStatusEnum } from "./types.ts";

const SessionFilter = builder.inputType("SessionFilter", {
  description: "Narrows a list of sessions. All given conditions must hold.",
  fields: (t) => ({
    status: t.field({ type: [SessionStatusEnum], required: false, description: "Any of these statuses." }),
    swarm: t.globalID({ required: false, description: "Belonging to this swarm." }),
    createdBy: t.string({ required: false, description: "Created by this token subject." }),
  }),
});

type FilterShape = { status?: ("OPEN" | "CLOSED")[] | null; swarm?: { typename: string; id: string } | null; createdBy?: string | null } | null | undefined;

function sessionWhere(workspaceId: string, filter: FilterShape): Prisma.SessionWhereInput {
  return {
    workspaceId,
    ...liveSessionWhere(),
    status: filter?.status ? { in: filter.status } : undefined,
    // An id of another type matches nothing, like an unknown id.
    swarmId: filter?.swarm ? (filter.swarm.typename === "Swarm" ? filter.swarm.id : "") : undefined,
    createdBy: filter?.createdBy ?? undefined,
  };
}

builder.queryFields((t) => ({
  session: t.prismaField({
    type: SessionRef,
    nullable: true,
    description: "One session by global id, with its messages; null when it does not exist in your workspace or has expired.",
    authScopes: { scope: "sessions:read" },
    args: { id: t.arg.globalID({ required: true, description: "Global id of the session." }) },
    resolve: (query, _root, { id }, ctx) =>
      id.typename === "Session" ? ctx.db.session.findFirst({ ...query, where: { id: id.id, workspaceId: actorOf(ctx).workspaceId, ...liveSessionWhere() } }) : null,
  }),
  sessions: t.prismaConnection(
    {
      type: SessionRef,
      cursor: "id",
      description: "Live sessions of your workspace, newest first.",
      authScopes: { scope: "sessions:read" },
      maxSize: pageSizeLimit,
      args: { filter: t.arg({ type: SessionFilter, required: false, description: "Conditions the sessions must meet." }) },
      resolve: (query, _root, { filter }, ctx) => ctx.db.session.findMany({ ...query, where: sessionWhere(actorOf(ctx).workspaceId, filter), orderBy: [{ createdAt: "desc" }, { id: "desc" }] }),
      totalCount: (_root, { filter }, ctx) => ctx.db.session.count({ where: sessionWhere(actorOf(ctx).workspaceId, filter) }),
    },
    connectionOptions("A page of sessions."),
    { description: "A session in a page." },
  ),
}));
