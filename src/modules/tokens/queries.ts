/** Read access to token revocations (admin only). */
import { actorOf, type Context } from "../../context.ts";
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
      resolve: (query, _root, { subject }, ctx) => ctx.db.tokenRevocation.findMany({ ...query, where: revocationWhere(ctx, subject), orderBy: [{ revokedAt: "desc" }, { id: "desc" }] }),
      totalCount: (_root, { subject }, ctx) => ctx.db.tokenRevocation.count({ where: revocationWhere(ctx, subject) }),
    },
    connectionOptions("A page of token revocations."),
    { description: "A token revocation in a page." },
  ),
}));

function revocationWhere(ctx: Context, subject: string | null | undefined) {
  return { workspaceId: actorOf(ctx).workspaceId, subject: subject ?? undefined };
}
