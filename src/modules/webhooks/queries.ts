/** Read access to webhook endpoints and their delivery log. */
import { actorOf } from "../../context.ts";
import type { Prisma } from "../../generated/prisma/client.ts";
import { builder, connectionOptions, pageSizeLimit } from "../../schema/builder.ts";
import { WebhookRef, WebhookStatusEnum } from "./types.ts";

function webhookWhere(workspaceId: string, status: readonly ("ACTIVE" | "DISABLED")[] | null | undefined): Prisma.WebhookWhereInput {
  return { workspaceId, status: status ? { in: [...status] } : undefined };
}

builder.queryFields((t) => ({
  webhook: t.prismaField({
    type: WebhookRef,
    nullable: true,
    description: "One webhook endpoint by global id; null when it does not exist in your workspace.",
    authScopes: { scope: "webhooks:read" },
    args: { id: t.arg.globalID({ required: true, description: "Global id of the endpoint." }) },
    resolve: (query, _root, { id }, ctx) => (id.typename === "Webhook" ? ctx.db.webhook.findFirst({ ...query, where: { id: id.id, workspaceId: actorOf(ctx).workspaceId } }) : null),
  }),
  webhooks: t.prismaConnection(
    {
      type: WebhookRef,
      cursor: "id",
      description: "The webhook endpoints of your workspace, newest first.",
      authScopes: { scope: "webhooks:read" },
      maxSize: pageSizeLimit,
      args: { status: t.arg({ type: [WebhookStatusEnum], required: false, description: "Only endpoints in any of these states." }) },
      resolve: (query, _root, { status }, ctx) => ctx.db.webhook.findMany({ ...query, where: webhookWhere(actorOf(ctx).workspaceId, status), orderBy: [{ createdAt: "desc" }, { id: "desc" }] }),
      totalCount: (_root, { status }, ctx) => ctx.db.webhook.count({ where: webhookWhere(actorOf(ctx).workspaceId, status) }),
    },
    connectionOptions("A page of webhook endpoints."),
    { description: "An endpoint in a page." },
  ),
}));
