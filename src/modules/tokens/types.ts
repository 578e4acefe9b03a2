/** GraphQL types of token revocation. */
import { builder, inViewerWorkspace } from "../../schema/builder.ts";

export const TokenRevocationRef = builder.prismaNode("TokenRevocation", {
  description: "Access withdrawn before expiry: one token (tokenId), or every token of a subject issued up to revokedAt.",
  id: { field: "id", description: "Global id of the revocation." },
  // Admins read every revocation; a principal also reads the one of its own token (revokeToken's answer).
  authScopes: (revocation, ctx) => (revocation.tokenId !== null && revocation.tokenId === ctx.viewer?.tokenId ? { authenticated: true } : { scope: "admin" }),
  nullable: true,
  findUnique: inViewerWorkspace,
  fields: (t) => ({
    tokenId: t.exposeString("tokenId", { nullable: true, description: "The revoked token's id (its jti claim); null when a whole subject was revoked." }),
    subject: t.exposeString("subject", { nullable: true, description: "The subject whose tokens issued up to revokedAt are refused; null when one token was revoked." }),
    reason: t.exposeString("reason", { description: "Why, as given; the token's holder sees it when refused." }),
    revokedBy: t.exposeString("revokedBy", { description: "Subject of the token that revoked." }),
    revokedAt: t.expose("revokedAt", { type: "DateTime", description: "When. From then on every replica refuses the token(s)." }),
  }),
});
