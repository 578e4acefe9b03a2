/** Managing the workspace's credentials (admin only). Each mutation maps its input to one service call. */
import type { ApiKey, ServiceAccount } from "../../generated/prisma/client.ts";
import { actorOf } from "../../context.ts";
import { NotFoundError } from "../../errors.ts";
import { builder } from "../../schema/builder.ts";
import { rawId } from "../../schema/globalIds.ts";
import * as apiKeys from "./apiKeys.ts";
import * as serviceAccounts from "./serviceAccounts.ts";
import { ApiKeyRef, ServiceAccountRef } from "./types.ts";

const CreateApiKeyInput = builder.inputType("CreateApiKeyInput", {
  description: "A new API key.",
  fields: (t) => ({
    label: t.string({ required: true, description: "What it is for (1 to 200 characters), e.g. claude-flow agents on build-3." }),
    scopes: t.stringList({ required: true, description: "The scopes it grants (the scopes query lists them); at least one." }),
    expiresAt: t.field({ type: "DateTime", required: false, description: "When it stops working. Omitted: never (until revoked)." }),
  }),
});

const CreateApiKeyPayload = builder.objectRef<{ apiKey: ApiKey; key: string }>("CreateApiKeyPayload").implement({
  description: "The new key. `key` is shown this once: the server keeps only its hash.",
  fields: (t) => ({
    apiKey: t.field({ type: ApiKeyRef, description: "The key's record (label, scopes, prefix).", resolve: (p) => p.apiKey }),
    key: t.exposeString("key", { description: "The key itself (sgk_…), to send as `Authorization: Bearer <key>`. Store it now: it cannot be shown again." }),
  }),
});

const RevokeApiKeyInput = builder.inputType("RevokeApiKeyInput", {
  description: "Which API key to revoke, and why.",
  fields: (t) => ({
    id: t.globalID({ required: true, description: "Global id of the API key." }),
    reason: t.string({ required: true, description: "Why (1 to 500 characters); shown to the key's holder when it is refused." }),
  }),
});

const RevokeApiKeyPayload = builder.objectRef<{ apiKey: ApiKey }>("RevokeApiKeyPayload").implement({
  description: "The revoked key.",
  fields: (t) => ({ apiKey: t.field({ type: ApiKeyRef, description: "The key, with revokedAt set.", resolve: (p) => p.apiKey }) }),
});

const CreateServiceAccountInput = builder.inputType("CreateServiceAccountInput", {
  description: "A new service account.",
  fields: (t) => ({
    name: t.string({ required: true, description: "Unique in the workspace: 1 to 63 lowercase letters, digits, '.', '_' or '-' (e.g. aia-ingest)." }),
    scopes: t.stringList({ required: true, description: "The scopes it may be granted; at least one." }),
  }),
});

const ServiceAccountIdInput = builder.inputType("RotateServiceAccountSecretInput", {
  description: "Which service account.",
  fields: (t) => ({ id: t.globalID({ required: true, description: "Global id of the service account." }) }),
});

const DisableServiceAccountInput = builder.inputType("DisableServiceAccountInput", {
  description: "Which service account to disable, and why.",
  fields: (t) => ({
    id: t.globalID({ required: true, description: "Global id of the service account." }),
    reason: t.string({ required: true, description: "Why (1 to 500 characters); shown when its tokens are refused." }),
  }),
});

const ServiceAccountSecretPayload = (name: string, description: string) =>
  builder.objectRef<{ serviceAccount: ServiceAccount; clientSecret: string }>(name).implement({
    description,
    fields: (t) => ({
      serviceAccount: t.field({ type: ServiceAccountRef, description: "The service account (its clientId included).", resolve: (p) => p.serviceAccount }),
      clientSecret: t.exposeString("clientSecret", { description: "The client secret, shown this once: the server keeps only its hash. Store it now." }),
    }),
  });

const DisableServiceAccountPayload = builder.objectRef<{ serviceAccount: ServiceAccount }>("DisableServiceAccountPayload").implement({
  description: "The disabled service account.",
  fields: (t) => ({ serviceAccount: t.field({ type: ServiceAccountRef, description: "The account, with disabledAt set.", resolve: (p) => p.serviceAccount }) }),
});

builder.mutationFields((t) => ({
  createServiceAccount: t.field({
    type: ServiceAccountSecretPayload("CreateServiceAccountPayload", "The new service account and its client secret (shown once)."),
    description: "Creates a service account that gets access tokens with the OAuth 2.0 client credentials grant (POST /oauth/token). Needs admin.",
    authScopes: { scope: "admin" },
    errors: {},
    args: { input: t.arg({ type: CreateServiceAccountInput, required: true, description: "Name and scopes." }) },
    resolve: (_root, { input }, ctx) => serviceAccounts.createServiceAccount(ctx.db, actorOf(ctx), { name: input.name, scopes: input.scopes }),
  }),
  rotateServiceAccountSecret: t.field({
    type: ServiceAccountSecretPayload("RotateServiceAccountSecretPayload", "The service account and its new client secret (shown once)."),
    description: "Replaces a service account's client secret: the old one stops working at once; tokens already issued stay valid until they expire. Needs admin.",
    authScopes: { scope: "admin" },
    errors: { types: [NotFoundError] },
    args: { input: t.arg({ type: ServiceAccountIdInput, required: true, description: "The service account." }) },
    resolve: (_root, { input }, ctx) => serviceAccounts.rotateServiceAccountSecret(ctx.db, actorOf(ctx), rawId(input.id, "ServiceAccount")),
  }),
  disableServiceAccount: t.field({
    type: DisableServiceAccountPayload,
    description: "Disables a service account: it gets no new token, and its access and refresh tokens are refused at once on every replica. Disabling twice changes nothing. Needs admin.",
    authScopes: { scope: "admin" },
    errors: { types: [NotFoundError] },
    args: { input: t.arg({ type: DisableServiceAccountInput, required: true, description: "The service account and the reason." }) },
    resolve: async (_root, { input }, ctx) => ({
      serviceAccount: await serviceAccounts.disableServiceAccount(ctx.db, ctx.revocations, actorOf(ctx), rawId(input.id, "ServiceAccount"), { reason: input.reason }),
    }),
  }),
  createApiKey: t.field({
    type: CreateApiKeyPayload,
    description: "Creates a long-lived API key for your workspace with the given scopes. The key is in the answer, once; the server stores only its hash. Needs admin.",
    authScopes: { scope: "admin" },
    errors: {},
    args: { input: t.arg({ type: CreateApiKeyInput, required: true, description: "Label, scopes and optional expiry." }) },
    resolve: (_root, { input }, ctx) => apiKeys.createApiKey(ctx.db, actorOf(ctx), { label: input.label, scopes: input.scopes, expiresAt: input.expiresAt }),
  }),
  revokeApiKey: t.field({
    type: RevokeApiKeyPayload,
    description: "Revokes an API key of your workspace: from now on, on every replica, requests with it get UNAUTHENTICATED and its WebSocket connections close with 4403. Revoking twice keeps the first revocation. Needs admin.",
    authScopes: { scope: "admin" },
    errors: { types: [NotFoundError] },
    args: { input: t.arg({ type: RevokeApiKeyInput, required: true, description: "The key and the reason." }) },
    resolve: async (_root, { input }, ctx) => ({ apiKey: await apiKeys.revokeApiKey(ctx.db, ctx.revocations, actorOf(ctx), rawId(input.id, "ApiKey"), { reason: input.reason }) }),
  }),
}));
