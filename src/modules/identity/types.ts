/** GraphQL types of the identity module: API keys (service accounts and device authorizations join them). */
import { builder, inViewerWorkspace } from "../../schema/builder.ts";
import { clientIdOf, subjectOf } from "./serviceAccounts.ts";

export const ApiKeyRef = builder.prismaNode("ApiKey", {
  description: "A long-lived, labelled, scoped credential of your workspace, sent as `Authorization: Bearer sgk_…`. The key itself was shown once, at creation; only its hash is kept.",
  id: { field: "id", description: "Global id of the API key." },
  authScopes: { scope: "admin" },
  nullable: true,
  findUnique: inViewerWorkspace,
  select: { id: true, workspaceId: true, label: true, scopes: true, prefix: true, createdBy: true, createdAt: true, expiresAt: true, lastUsedAt: true, revokedAt: true },
  fields: (t) => ({
    label: t.exposeString("label", { description: "What the key is for, as given at creation." }),
    scopes: t.exposeStringList("scopes", { description: "The scopes a request with this key has." }),
    prefix: t.exposeString("prefix", { description: "The key's first characters (sgk_ and 8 hex digits): enough to tell keys apart, useless to sign in." }),
    keyId: t.exposeString("id", { description: "The key's token id: a request made with it shows this as viewer.tokenId, and revokeToken accepts it too." }),
    createdBy: t.exposeString("createdBy", { description: "Subject of the token that created it." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When it was created." }),
    expiresAt: t.expose("expiresAt", { type: "DateTime", nullable: true, description: "When it stops working; null: never (until revoked)." }),
    lastUsedAt: t.expose("lastUsedAt", { type: "DateTime", nullable: true, description: "When it last authenticated a request (to the minute); null: never used." }),
    revokedAt: t.expose("revokedAt", { type: "DateTime", nullable: true, description: "When it was revoked; null while it works." }),
  }),
});

export const ServiceAccountRef = builder.prismaNode("ServiceAccount", {
  description:
    "A non-person client of your workspace that gets access tokens with the OAuth 2.0 client credentials grant at POST /oauth/token (and refreshes them there). Its client secret was shown once; only its hash is kept.",
  id: { field: "id", description: "Global id of the service account." },
  authScopes: { scope: "admin" },
  nullable: true,
  findUnique: inViewerWorkspace,
  select: { id: true, workspaceId: true, name: true, scopes: true, secretRotatedAt: true, disabledAt: true, createdBy: true, createdAt: true, lastUsedAt: true },
  fields: (t) => ({
    name: t.exposeString("name", { description: "Unique in the workspace; its access tokens carry the subject sa:<name>." }),
    clientId: t.string({ description: "The OAuth client_id to authenticate with.", resolve: (account) => clientIdOf(account) }),
    subject: t.string({ description: "The subject of its access tokens (sa:<name>): what revokeSubjectTokens and the audit trail name.", resolve: (account) => subjectOf(account) }),
    scopes: t.exposeStringList("scopes", { description: "The scopes it may be granted (all of them when a token request names none)." }),
    createdBy: t.exposeString("createdBy", { description: "Subject of the token that created it." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When it was created." }),
    secretRotatedAt: t.expose("secretRotatedAt", { type: "DateTime", description: "When its current client secret was issued." }),
    lastUsedAt: t.expose("lastUsedAt", { type: "DateTime", nullable: true, description: "When it last obtained a token; null: never." }),
    disabledAt: t.expose("disabledAt", { type: "DateTime", nullable: true, description: "When it was disabled (no new tokens; its tokens revoked); null while enabled." }),
  }),
});
