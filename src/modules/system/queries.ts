/** Who am I: the caller's identity as the server sees it. */
import { SCOPES } from "../../auth/scopes.ts";
import type { Principal } from "../../auth/tokens.ts";
import { builder } from "../../schema/builder.ts";

const Viewer = builder.objectRef<Principal>("Viewer").implement({
  description: "The caller, as identified by its access token.",
  fields: (t) => ({
    subject: t.exposeString("subject", { description: "The token's subject: who is calling." }),
    workspaceId: t.exposeString("workspaceId", { description: "The workspace every read and write is confined to." }),
    scopes: t.stringList({ description: "The scopes the token grants (admin implies all).", resolve: (p) => [...p.scopes].sort() }),
    expiresAt: t.field({ type: "DateTime", description: "When the token stops being accepted.", resolve: (p) => p.expiresAt }),
    issuedAt: t.field({ type: "DateTime", description: "When the token was issued (whole seconds).", resolve: (p) => p.issuedAt }),
    tokenId: t.string({ nullable: true, description: "The token's id (its jti claim): what an admin passes to revokeToken to withdraw it. Null for a token minted without one.", resolve: (p) => p.tokenId }),
  }),
});

const ScopeInfo = builder.objectRef<{ name: string; description: string }>("ScopeInfo").implement({
  description: "A scope a token can carry.",
  fields: (t) => ({
    name: t.exposeString("name", { description: "The scope, as written in tokens, e.g. agents:read." }),
    description: t.exposeString("description", { description: "What it allows." }),
  }),
});

builder.queryFields((t) => ({
  viewer: t.field({
    type: Viewer,
    description: "The caller's identity: subject, workspace, scopes, and its token's id, issue time and expiry.",
    authScopes: { authenticated: true },
    resolve: (_root, _args, ctx) => ctx.viewer!,
  }),
  scopes: t.field({
    type: [ScopeInfo],
    description: "Every scope a token can carry, with what it allows. Needs no token.",
    resolve: () => Object.entries(SCOPES).map(([name, description]) => ({ name, description })),
  }),
}));
