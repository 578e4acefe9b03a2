/**
 * Access tokens: JWTs carrying a subject, a workspace and scopes. HS256 ones (the CLI's, signed
 * with the shared secret) are signed and verified here, the only place that touches jsonwebtoken;
 * ES256/EdDSA ones are src/auth/signingKeys.ts's, and src/auth/verifier.ts picks the right check.
 */
import { createSecretKey, type KeyObject, randomUUID } from "node:crypto";
import jwt from "jsonwebtoken";
import { isScope, type Scope } from "./scopes.ts";

/** The `iss` and `aud` of every token this server issues. */
export const ISSUER = "swarmgraph";
export const AUDIENCE = "swarmgraph";

/** Who is calling: the verified content of an access token. */
export interface Principal {
  /** The token's subject (a user, a CLI, an agent). Recorded as the actor of what it does. */
  subject: string;
  /** The workspace (tenant) every read and write of this principal is confined to. */
  workspaceId: string;
  scopes: ReadonlySet<Scope>;
  /** When the token stops being accepted. */
  expiresAt: Date;
  /** When the token was issued (JWT `iat`, whole seconds): a subject-wide revocation covers tokens issued up to it. */
  issuedAt: Date;
  /** The token's id (JWT `jti`), by which it can be revoked alone; null for a token minted without one. */
  tokenId: string | null;
}

export interface SignTokenOptions {
  subject: string;
  workspaceId: string;
  scopes: readonly Scope[];
  /** Lifetime, e.g. "15m", "12h", "30d", or seconds. */
  ttl: string | number;
  /** The token's id (`jti`), by which it can be revoked; a random UUID when omitted. */
  tokenId?: string;
}

/** Workspace ids are slugs: they appear in tokens, logs and URLs. */
export const WORKSPACE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export function signToken(secret: string, options: SignTokenOptions): string {
  if (!WORKSPACE_ID_PATTERN.test(options.workspaceId)) {
    throw new TokenError(`workspace "${options.workspaceId}" is not a valid workspace id (lowercase letters, digits and -, at most 63)`);
  }
  return jwt.sign({ ws: options.workspaceId, scopes: [...options.scopes] }, secret, {
    algorithm: "HS256",
    subject: options.subject,
    issuer: ISSUER,
    audience: AUDIENCE,
    expiresIn: options.ttl as jwt.SignOptions["expiresIn"],
    jwtid: options.tokenId ?? randomUUID(),
  });
}

/** Why a token was refused, in words a person can act on. Never contains the token. */
export class TokenError extends Error {
  override name = "TokenError";
}

/**
 * The secret as a KeyObject, made once: given a string, jsonwebtoken first tries to parse it as
 * a public key and catches the failure — on every request (5% of a claim's CPU time).
 */
const secretKeys = new Map<string, KeyObject>();
function secretKey(secret: string): KeyObject {
  let key = secretKeys.get(secret);
  if (!key) secretKeys.set(secret, (key = createSecretKey(Buffer.from(secret))));
  return key;
}

export function verifyToken(secret: string, token: string): Principal {
  let claims: jwt.JwtPayload;
  try {
    claims = jwt.verify(token, secretKey(secret), { algorithms: ["HS256"], issuer: ISSUER, audience: AUDIENCE }) as jwt.JwtPayload;
  } catch (error) {
    if (error instanceof jwt.TokenExpiredError) {
      throw new TokenError(`access token expired at ${error.expiredAt.toISOString()}; mint a new one`);
    }
    if (error instanceof jwt.JsonWebTokenError) throw new TokenError(`invalid access token: ${error.message}`);
    throw error;
  }
  return principalOfClaims(claims);
}

/**
 * The principal a verified token's claims describe (`sub`, `ws`, `scopes`, `iat`, `exp`, `jti`),
 * whatever signed it; TokenError when a claim is missing or malformed.
 */
export function principalOfClaims(claims: Record<string, unknown>): Principal {
  const { sub, ws, scopes, exp, iat, jti } = claims;
  if (typeof sub !== "string" || typeof ws !== "string" || !WORKSPACE_ID_PATTERN.test(ws) || !Array.isArray(scopes) || typeof exp !== "number" || typeof iat !== "number") {
    throw new TokenError("invalid access token: missing or malformed sub, ws, scopes, iat or exp claim");
  }
  // The subject is stored as the actor of every change: it must be storable text.
  const badClaim = (["sub", "jti"] as const).find((name) => {
    const value = claims[name];
    return typeof value === "string" && (value.length > 200 || value.includes("\u0000") || !value.isWellFormed());
  });
  if (badClaim) throw new TokenError(`invalid access token: the ${badClaim} claim must be at most 200 characters of text without NUL characters or lone surrogates`);
  return {
    subject: sub,
    workspaceId: ws,
    scopes: new Set(scopes.filter((s): s is Scope => typeof s === "string" && isScope(s))),
    expiresAt: new Date(exp * 1000),
    issuedAt: new Date(iat * 1000),
    tokenId: typeof jti === "string" ? jti : null,
  };
}

/**
 * The token of a graphql-ws `connection_init` payload. The rule: the payload carries at most one
 * `Authorization` entry (any letter case; several spellings with the same value count as one),
 * a string of the form "Bearer <token>". No entry → undefined (an anonymous connection, whose
 * operations needing a token answer UNAUTHENTICATED); anything else → TokenError, and the server
 * closes the connection with 4401 at once rather than failing each operation later.
 */
export function connectionParamsToken(params: Readonly<Record<string, unknown>> | null | undefined): string | undefined {
  const values = new Set(Object.entries(params ?? {}).filter(([key]) => key.toLowerCase() === "authorization").map(([, value]) => value));
  if (values.size === 0) return undefined;
  if (values.size > 1) throw new TokenError("connection_init carries different Authorization values; send exactly one");
  const [value] = values;
  if (typeof value !== "string") throw new TokenError('connection_init Authorization must be a string "Bearer <token>"');
  return bearerToken(value);
}

/** Extracts the token from an `Authorization: Bearer …` value; undefined when absent. */
export function bearerToken(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new TokenError('the Authorization header must be "Bearer <token>"');
  return match[1];
}
