/**
 * One entry point for every credential a request can carry as `Authorization: Bearer …`:
 * - an API key (`sgk_…`), looked up by its hash (src/modules/identity/apiKeys.ts);
 * - an HS256 JWT signed with the shared secret (the CLI's `npm run token`, the embedded default);
 * - an ES256/EdDSA JWT this server issued (client credentials, device flow), checked against
 *   the signing keys (src/auth/signingKeys.ts);
 * - a JWT of the configured external identity provider, checked against its JWKS
 *   (src/auth/externalIssuer.ts).
 * Revocation is checked afterwards, the same way for all of them (src/context.ts).
 *
 * The server's own JWTs are verified once per token, not once per request: an agent sends the
 * same token with every claim and completion, and checking its signature again each time was
 * about 5% of the server's CPU on the agent hot path. What is remembered is only what the signature proved (the claims),
 * until the token expires; revocation is still checked on every request, and a signing key
 * retires only after every token it signed has expired. API keys and external issuers' tokens
 * are checked every time (a key can be deleted, an issuer's keys withdrawn).
 */
import { decodeJwt, decodeProtectedHeader } from "jose";
import { LRUCache } from "lru-cache";
import type { SigningKeys } from "./signingKeys.ts";
import { AUDIENCE, ISSUER, type Principal, principalOfClaims, TokenError, verifyToken } from "./tokens.ts";

/** Verifies one kind of credential the server does not sign itself. */
export interface CredentialCheck {
  /** Whether this check is the one for `token` (cheap: a prefix or an `iss` claim). */
  handles(token: string, unverifiedIssuer: string | undefined): boolean;
  verify(token: string): Promise<Principal>;
}

export interface TokenVerifierOptions {
  secret: string;
  keys: SigningKeys;
  /** API keys, external issuers: tried in order before the server's own JWTs. */
  checks?: CredentialCheck[];
}

export type TokenVerifier = (token: string) => Promise<Principal>;

/** Distinct tokens whose verification is remembered (a few thousand agents' tokens). */
const VERIFIED_TOKENS = 10_000;

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const checks = options.checks ?? [];
  const verified = new LRUCache<string, Principal>({ max: VERIFIED_TOKENS });
  return async (token) => {
    const known = verified.get(token);
    if (known && known.expiresAt.getTime() > Date.now()) return known;
    const issuer = unverifiedIssuer(token);
    for (const check of checks) if (check.handles(token, issuer)) return check.verify(token);
    const principal = await verifyOwnToken(options, token, issuer);
    verified.set(token, principal);
    return principal;
  };
}

/** A JWT this server (or the shared secret) signed: HS256, or a key pair of the signing keys. */
async function verifyOwnToken(options: TokenVerifierOptions, token: string, issuer: string | undefined): Promise<Principal> {
  let alg: unknown;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch {
    throw new TokenError("invalid access token: not a JWT and not an API key");
  }
  if (alg === "HS256") return verifyToken(options.secret, token);
  if (issuer !== undefined && issuer !== ISSUER) throw new TokenError(`invalid access token: issuer ${JSON.stringify(issuer)} is not trusted by this server (expected "${ISSUER}" or a configured external issuer)`);
  return principalOfClaims(await options.keys.verify(token, { issuer: ISSUER, audience: AUDIENCE }));
}

function unverifiedIssuer(token: string): string | undefined {
  try {
    const iss = decodeJwt(token).iss;
    return typeof iss === "string" ? iss : undefined;
  } catch {
    return undefined;
  }
}
