/** Reading the workspace's credentials (admin only). */
import { actorOf } from "../../context.ts";
import { builder, connectionOptions, pageSizeLimit } from "../../schema/builder.ts";
import { apiKeysWhere } from "./apiKeys.ts";
import { serviceAccountsWhere } from "./serviceAccounts.ts";
import { ApiKeyRef, ServiceAccountRef } from "./types.ts";

builder.queryFields((t) => ({
  apiKeys: t.prismaConnection(
    {
      type: ApiKeyRef,
      cursor: "id",
      description: "API keys of your workspace, newest first, with their last use.",
      authScopes: { scope: "admin" },
      maxSize: pageSizeLimit,
      args: { includeRevoked: t.arg.boolean({ required: false, description: "Also list revoked keys (default: only working ones)." }) },
      resolve: (query, _root, { includeRevoked }, ctx) => ctx.db.apiKey.findMany({ ...query, where: apiKeysWhere(actorOf(ctx), includeRevoked ?? false), orderBy: [{ createdAt: "desc" }, { id: "desc" }] }),
      totalCount: (_root, { includeRevoked }, ctx) => ctx.db.apiKey.count({ where: apiKeysWhere(actorOf(ctx), includeRevoked ?? false) }),
    },
    connectionOptions("A page of API keys."),
    { description: "An API key in a page." },
  ),
  serviceAccounts: t.prismaConnection(
    {
      type: ServiceAccountRef,
      cursor: "id",
      description: "Service accounts of your workspace, newest first, with their last use.",
      authScopes: { scope: "admin" },
      maxSize: pageSizeLimit,
      args: { includeDisabled: t.arg.boolean({ required: false, description: "Also list disabled accounts (default: only enabled ones)." }) },
      resolve: (query, _root, { includeDisabled }, ctx) =>
        ctx.db.serviceAccount.findMany({ ...query, where: serviceAccountsWhere(actorOf(ctx), includeDisabled ?? false), orderBy: [{ createdAt: "desc" }, { id: "desc" }] }),
      totalCount: (_root, { includeDisabled }, ctx) => ctx.db.serviceAccount.count({ where: serviceAccountsWhere(actorOf(ctx), includeDisabled ?? false) }),
    },
    connectionOptions("A page of service accounts."),
    { description: "A service account in a page." },
  ),
}));
