/** Read access to token revocations (admin only). */
import { actorOf } from "../../context.ts";
import { builder, connectionOptions, pageSizeLimit } from "../../schema/builder.ts";
import { TokenRevocationRef } from "./types.ts";

builder.queryFields((t) => ({
  tokenRevocations: t.prismaConnection(
    {
      type: TokenRevocationRef,
      cursor: "id",
      description: "Token revocations of your workspace, newest first.",
      authScopes: { scope: "admin" },
      maxSize: pageSizeLimit,
      args: { subject: t.arg.string({ required: false, description: "Only revocations of this subject's tokens (subject-wide ones)." }) },
      resolve: (query, _root, { subject }, ctx) =>
        ctx.db.tokenRevocation.findMany({ ...query, where: { workspaceId: actorOf(ctx).workspaceId, subject: subject ?? undefined }, orderBy: [{ revokedAt: "desc" }, { id: "desc" }] }),
      totalCount: (_root, { subject }, ctx) => ctx.db.tokenRevocation.count({ where: { workspaceId: actorOf(ctx).workspaceId, subject: subject ?? undefined } }),
    },
    connectionOptions("A page of token revocations."),
    { description: "A token revocation in a page." },
  ),
}));
