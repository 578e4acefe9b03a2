/**
 * Tokens of an external identity provider (the company's own, as Hasura trusts one by its JWKS
 * URL). Configured by EXTERNAL_ISSUER, EXTERNAL_JWKS_URL and EXTERNAL_AUDIENCE; the claims
 * naming the workspace and the scopes are mapped by EXTERNAL_WORKSPACE_CLAIM and
 * EXTERNAL_SCOPES_CLAIM. The provider's keys are fetched from its JWKS URL and cached
 * (EXTERNAL_JWKS_CACHE_SECONDS); a token naming a key not in the cache makes jose fetch the set
 * again, at most every 30 seconds. Every refusal says what did not match.
 */
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from "jose";
import type { Config } from "../config.ts";
import { isScope, type Scope } from "./scopes.ts";
import { joseTokenError } from "./signingKeys.ts";
import { type Principal, TokenError, WORKSPACE_ID_PATTERN } from "./tokens.ts";
import type { CredentialCheck } from "./verifier.ts";

export type ExternalIssuerConfig = Pick<Config, "externalIssuer" | "externalJwksUrl" | "externalAudience" | "externalWorkspaceClaim" | "externalDefaultWorkspace" | "externalScopesClaim" | "externalJwksCacheSeconds">;

/** The check for the configured external issuer, or undefined when none is configured. */
export function externalIssuerCheck(config: ExternalIssuerConfig): CredentialCheck | undefined {
  const { externalIssuer: issuer, externalJwksUrl: jwksUrl, externalAudience: audience } = config;
  if (!issuer || !jwksUrl || !audience) return undefined;
  const keys = createRemoteJWKSet(new URL(jwksUrl), { cacheMaxAge: config.externalJwksCacheSeconds * 1000, timeoutDuration: 5_000 });
  const refused = (reason: string) => new TokenError(`token of issuer ${issuer} refused: ${reason}`);
  return {
    handles: (_token, unverifiedIssuer) => unverifiedIssuer === issuer,
    async verify(token): Promise<Principal> {
      let claims: Record<string, unknown>;
      try {
        claims = (await jwtVerify(token, keys, { issuer, audience })).payload as Record<string, unknown>;
      } catch (error) {
        if (error instanceof joseErrors.JWKSNoMatchingKey) throw refused(`no key in ${jwksUrl} matches the token's key id (kid)`);
        if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid) throw refused(`could not read its keys from ${jwksUrl} (${error.message})`);
        if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === "aud") throw refused(`audience ${JSON.stringify(error.payload.aud ?? null)} is not ${JSON.stringify(audience)}`);
        if (error instanceof TypeError || (error instanceof Error && /fetch|ECONNREFUSED|status code/i.test(error.message))) throw refused(`could not read its keys from ${jwksUrl} (${error.message})`);
        const mapped = joseTokenError(error);
        if (mapped instanceof TokenError) throw refused(mapped.message.replace(/^invalid access token: /, ""));
        throw mapped;
      }
      const { sub, exp, iat, jti } = claims;
      if (typeof sub !== "string" || sub.length === 0 || sub.length > 200 || sub.includes("\u0000") || !sub.isWellFormed()) throw refused("its sub claim must be 1 to 200 characters of text");
      if (typeof exp !== "number") throw refused("it has no exp claim (tokens without an expiry are not accepted)");
      const ws = claims[config.externalWorkspaceClaim] ?? config.externalDefaultWorkspace;
      if (typeof ws !== "string" || !WORKSPACE_ID_PATTERN.test(ws)) {
        throw refused(`its ${config.externalWorkspaceClaim} claim must name a workspace (lowercase letters, digits and -, at most 63)${config.externalDefaultWorkspace ? "" : "; or set EXTERNAL_DEFAULT_WORKSPACE"}`);
      }
      return {
        subject: sub,
        workspaceId: ws,
        scopes: scopesOf(claims[config.externalScopesClaim]),
        expiresAt: new Date(exp * 1000),
        issuedAt: new Date((typeof iat === "number" ? iat : Math.floor(Date.now() / 1000)) * 1000),
        tokenId: typeof jti === "string" && jti.length <= 200 ? jti : null,
      };
    },
  };
}

/** Scopes from a space-separated string (OAuth `scope`) or an array (`scp`, `permissions`); unknown ones are ignored. */
function scopesOf(value: unknown): Set<Scope> {
  const names = typeof value === "string" ? value.split(/\s+/) : Array.isArray(value) ? value : [];
  return new Set(names.filter((s): s is Scope => typeof s === "string" && isScope(s)));
}
