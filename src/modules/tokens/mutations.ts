/** Revoking access tokens (admin only). */
import { actorOf } from "../../context.ts";
import type { TokenRevocation } from "../../generated/prisma/client.ts";
import { builder } from "../../schema/builder.ts";
import * as tokens from "./service.ts";
import { TokenRevocationRef } from "./types.ts";

const RevokeTokenInput = builder.inputType("RevokeTokenInput", {
  description: "Which token to revoke, and why.",
  fields: (t) => ({
    tokenId: t.string({ required: true, description: "The token's id: its jti claim, as `viewer { tokenId }` shows it to the token's holder." }),
    reason: t.string({ required: true, description: "Why (1 to 500 characters); shown to the holder when the token is refused." }),
  }),
});

const RevokeSubjectTokensInput = builder.inputType("RevokeSubjectTokensInput", {
  description: "Whose tokens to revoke, and why.",
  fields: (t) => ({
    subject: t.string({ required: true, description: "The token subject (a user, a CLI, an agent): every token of it issued up to now is refused." }),
    reason: t.string({ required: true, description: "Why (1 to 500 characters); shown to the holder when a token is refused." }),
  }),
});

const RevokeTokenPayload = builder.objectRef<{ revocation: TokenRevocation }>("RevokeTokenPayload").implement({
  description: "The revocation now in force.",
  fields: (t) => ({ revocation: t.field({ type: TokenRevocationRef, description: "The revocation.", resolve: (p) => p.revocation }) }),
});

builder.mutationFields((t) => ({
  revokeToken: t.field({
    type: RevokeTokenPayload,
    description:
      "Withdraws one access token of your workspace before it expires. Requests with it get UNAUTHENTICATED, and WebSocket connections holding it close with 4403 at once, on every replica. Revoking a token twice returns the first revocation. Needs admin — except for the caller's own token (viewer.tokenId), which any token may revoke: an agent signing off.",
    // Any principal may revoke its own token; anyone else's needs admin.
    authScopes: (_root, { input }, ctx) => (ctx.viewer?.tokenId != null && input.tokenId === ctx.viewer.tokenId ? { authenticated: true } : { scope: "admin" }),
    errors: {},
    args: { input: t.arg({ type: RevokeTokenInput, required: true, description: "The token and the reason." }) },
    resolve: async (_root, { input }, ctx) => ({ revocation: await tokens.revokeToken(ctx.db, ctx.revocations, actorOf(ctx), input) }),
  }),
  revokeSubjectTokens: t.field({
    type: RevokeTokenPayload,
    description:
      "Withdraws every access token of a subject in your workspace issued up to now (a leaked agent credential, a departed user). Tokens minted afterwards work; one minted within the same second is refused too, as tokens carry their issue time in whole seconds.",
    authScopes: { scope: "admin" },
    errors: {},
    args: { input: t.arg({ type: RevokeSubjectTokensInput, required: true, description: "The subject and the reason." }) },
    resolve: async (_root, { input }, ctx) => ({ revocation: await tokens.revokeSubjectTokens(ctx.db, ctx.revocations, actorOf(ctx), input) }),
  }),
}));
