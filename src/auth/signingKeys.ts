/**
 * Asymmetric signing keys for access tokens the server issues itself (client credentials, device
 * flow, refresh): ES256 or EdDSA key pairs kept in the SigningKey table so every replica signs
 * and verifies with the same set, and published as a JWKS so other services can verify our
 * tokens without a shared secret.
 *
 * Rotation: when the newest key is older than SIGNING_KEY_ROTATION_DAYS a new one is made; the
 * previous one keeps verifying (and stays in the JWKS) until every token it signed has expired.
 * A token naming a key this replica does not know makes it reload the table once (another
 * replica may have rotated), at most every few seconds, so a forged `kid` cannot hammer the
 * database.
 *
 * The private keys are stored encrypted with a key derived (HKDF) from the HS256 secret, so a
 * database dump alone cannot sign tokens.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, randomUUID } from "node:crypto";
import { exportJWK, generateKeyPair, importJWK, type JWK, jwtVerify, SignJWT, errors as joseErrors } from "jose";
import type { PrismaClient } from "../db/client.ts";
import { AUDIENCE, ISSUER, TokenError, WORKSPACE_ID_PATTERN } from "./tokens.ts";

export type SigningAlgorithm = "ES256" | "EdDSA";
export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ["ES256", "EdDSA"];

type Key = CryptoKey | Uint8Array;
interface LoadedKey {
  kid: string;
  alg: SigningAlgorithm;
  publicJwk: JWK;
  publicKey: Key;
  privateKey: Key;
  createdAt: Date;
  retiresAt: Date | null;
}

const RELOAD_COOLDOWN_MS = 5_000;

function encryptionKey(secret: string): Buffer {
  return Buffer.from(hkdfSync("sha256", secret, "swarmgraph-signing-keys", "private-jwk", 32));
}

function encrypt(secret: string, plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", encryptionKey(secret), iv);
  const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return [iv, cipher.getAuthTag(), body].map((b) => b.toString("base64url")).join(".");
}

function decrypt(secret: string, sealed: string): string {
  const [iv, tag, body] = sealed.split(".").map((part) => Buffer.from(part, "base64url"));
  const decipher = createDecipheriv("aes-256-gcm", encryptionKey(secret), iv!);
  decipher.setAuthTag(tag!);
  return Buffer.concat([decipher.update(body!), decipher.final()]).toString("utf8");
}

export interface SigningKeysOptions {
  /** The HS256 secret: the private keys are encrypted with a key derived from it. */
  secret: string;
  alg: SigningAlgorithm;
  /** Age after which the signing key is replaced. */
  rotateAfterMs: number;
  /** The longest lifetime of a token signed with these keys: how long a replaced key keeps verifying. */
  maxTokenLifetimeMs: number;
}

/** The server's signing keys: sign with the newest, verify with any unretired one, publish as JWKS. */
export class SigningKeys {
  private keys = new Map<string, LoadedKey>();
  /** When an unknown `kid` last made this replica reload the keys. */
  private lastMissReload = 0;

  constructor(
    private readonly db: PrismaClient,
    private readonly options: SigningKeysOptions,
  ) {}

  /** Loads the keys, making the first one (or a new one when the newest is due) as needed. */
  async start(): Promise<void> {
    await this.reload();
    await this.rotateIfDue();
  }

  /** Reads every unretired key from the database. A key encrypted with another secret cannot be used: it is skipped. */
  async reload(): Promise<void> {
    const rows = await this.db.signingKey.findMany({ where: { OR: [{ retiresAt: null }, { retiresAt: { gt: new Date() } }] }, orderBy: { createdAt: "asc" } });
    const next = new Map<string, LoadedKey>();
    for (const row of rows) {
      const known = this.keys.get(row.kid);
      if (known) {
        next.set(row.kid, { ...known, retiresAt: row.retiresAt });
        continue;
      }
      let privateJwk: JWK;
      try {
        privateJwk = JSON.parse(decrypt(this.options.secret, row.privateKey)) as JWK;
      } catch {
        continue;
      }
      const alg = row.alg as SigningAlgorithm;
      next.set(row.kid, {
        kid: row.kid,
        alg,
        publicJwk: row.publicJwk as JWK,
        publicKey: await importJWK(row.publicJwk as JWK, alg),
        privateKey: await importJWK(privateJwk, alg),
        createdAt: row.createdAt,
        retiresAt: row.retiresAt,
      });
    }
    this.keys = next;
  }

  /** The key that signs: the newest usable one of the configured algorithm. */
  private current(): LoadedKey | undefined {
    let newest: LoadedKey | undefined;
    for (const key of this.keys.values()) if (key.alg === this.options.alg && key.retiresAt === null && (!newest || key.createdAt > newest.createdAt)) newest = key;
    return newest;
  }

  /** Makes a new key when there is none of the configured algorithm or the newest is older than the rotation age. */
  async rotateIfDue(): Promise<boolean> {
    const current = this.current();
    if (current && Date.now() - current.createdAt.getTime() < this.options.rotateAfterMs) return false;
    await this.rotate();
    return true;
  }

  /**
   * Makes a new signing key; the previous ones retire once every token they signed has expired.
   * Returns the new key id.
   */
  async rotate(): Promise<string> {
    const { alg } = this.options;
    const pair = await generateKeyPair(alg, { extractable: true, ...(alg === "EdDSA" ? { crv: "Ed25519" } : {}) });
    const kid = randomUUID();
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid, alg, use: "sig" };
    const privateJwk = await exportJWK(pair.privateKey);
    const now = new Date();
    await this.db.$transaction([
      this.db.signingKey.updateMany({ where: { retiresAt: null }, data: { retiresAt: new Date(now.getTime() + this.options.maxTokenLifetimeMs) } }),
      this.db.signingKey.create({ data: { kid, alg, publicJwk, privateKey: encrypt(this.options.secret, JSON.stringify(privateJwk)), createdAt: now } }),
    ]);
    await this.reload();
    return kid;
  }

  /** The public keys that verify tokens now, as a JSON Web Key Set. */
  jwks(): { keys: JWK[] } {
    return { keys: [...this.keys.values()].map((k) => k.publicJwk) };
  }

  /** Signs these claims as a JWT with the current key. */
  async sign(claims: Record<string, unknown>, options: { subject: string; issuer: string; audience: string; ttlSeconds: number; tokenId: string }): Promise<string> {
    let key = this.current();
    if (!key) {
      await this.rotate();
      key = this.current()!;
    }
    return new SignJWT(claims)
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "at+jwt" })
      .setSubject(options.subject)
      .setIssuer(options.issuer)
      .setAudience(options.audience)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + options.ttlSeconds)
      .setJti(options.tokenId)
      .sign(key.privateKey);
  }

  /** Verifies a token signed by one of these keys; throws TokenError in words a person can act on. */
  async verify(token: string, expected: { issuer: string; audience: string }): Promise<Record<string, unknown>> {
    const keyOf = async (kid: unknown): Promise<LoadedKey | undefined> => {
      if (typeof kid !== "string") return undefined;
      const known = this.keys.get(kid);
      if (known || Date.now() - this.lastMissReload < RELOAD_COOLDOWN_MS) return known;
      this.lastMissReload = Date.now();
      await this.reload();
      return this.keys.get(kid);
    };
    try {
      const { payload } = await jwtVerify(
        token,
        async (header) => {
          const key = await keyOf(header.kid);
          if (!key) throw new TokenError(`invalid access token: signed with an unknown or retired key (kid ${JSON.stringify(header.kid ?? null)}); see /.well-known/jwks.json`);
          if (key.retiresAt && key.retiresAt <= new Date()) throw new TokenError(`invalid access token: its signing key ${key.kid} retired at ${key.retiresAt.toISOString()}`);
          return key.publicKey;
        },
        { issuer: expected.issuer, audience: expected.audience, algorithms: [...SIGNING_ALGORITHMS] },
      );
      return payload as Record<string, unknown>;
    } catch (error) {
      throw joseTokenError(error);
    }
  }
}

/** A jose verification failure as a TokenError a person can act on. */
export function joseTokenError(error: unknown): unknown {
  if (error instanceof TokenError) return error;
  if (error instanceof joseErrors.JWTExpired) {
    const exp = error.payload.exp;
    return new TokenError(`access token expired${typeof exp === "number" ? ` at ${new Date(exp * 1000).toISOString()}` : ""}; get a new one`);
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed) return new TokenError(`invalid access token: ${error.claim} claim ${error.reason === "check_failed" ? "does not match" : error.reason} (${error.message})`);
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return new TokenError("invalid access token: invalid signature");
  if (error instanceof joseErrors.JOSEError) return new TokenError(`invalid access token: ${error.message}`);
  return error;
}

export interface IssueTokenOptions {
  subject: string;
  workspaceId: string;
  scopes: readonly string[];
  ttlSeconds: number;
  /** The token's id (`jti`); a random UUID when omitted. */
  tokenId?: string;
}

/** An access token the server issues itself, signed with its current key pair. */
export async function issueAccessToken(keys: SigningKeys, options: IssueTokenOptions): Promise<{ token: string; tokenId: string; expiresAt: Date }> {
  if (!WORKSPACE_ID_PATTERN.test(options.workspaceId)) throw new TokenError(`workspace "${options.workspaceId}" is not a valid workspace id (lowercase letters, digits and -, at most 63)`);
  const tokenId = options.tokenId ?? randomUUID();
  const token = await keys.sign({ ws: options.workspaceId, scopes: [...options.scopes] }, { subject: options.subject, issuer: ISSUER, audience: AUDIENCE, ttlSeconds: options.ttlSeconds, tokenId });
  return { token, tokenId, expiresAt: new Date(Date.now() + options.ttlSeconds * 1000) };
}
