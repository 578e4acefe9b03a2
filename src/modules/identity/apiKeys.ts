/**
 * API keys: long-lived, labelled, scoped credentials of a workspace (what seed 001's agents use),
 * sent as `Authorization: Bearer sgk_<id>_<secret>`. The key is shown once; the database keeps
 * the SHA-256 of its secret part (the secret is 256 random bits, so a fast hash is enough).
 *
 * Checking a key costs one primary-key lookup the first time a replica sees it, then nothing:
 * the replica remembers the key's hash and scopes. Revoking writes a token revocation under the
 * key's id, which every replica applies from the event log at once (src/auth/revocations.ts), so
 * the cache never outlives a revocation. The last use is written at most once a minute per key
 * (one UPDATE, awaited, so a list read right after a request shows it).
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { RevocationList } from "../../auth/revocations.ts";
import { isScope, type Scope } from "../../auth/scopes.ts";
import { type Principal, TokenError } from "../../auth/tokens.ts";
import type { CredentialCheck } from "../../auth/verifier.ts";
import type { PrismaClient } from "../../db/client.ts";
import { NotFoundError } from "../../errors.ts";
import { type Actor, recordEvent } from "../../events/eventLog.ts";
import type { ApiKey } from "../../generated/prisma/client.ts";
import { revokeTokenInTx } from "../tokens/service.ts";
import { parseInput } from "../../validation.ts";
import { scopesRule } from "./scopes.ts";

export const API_KEY_PREFIX = "sgk_";
const KEY_PATTERN = /^sgk_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;
/** Keys without an expiry: as far as the principal is concerned, this is never. */
const NEVER = new Date("9999-12-31T23:59:59.000Z");
const LAST_USE_EVERY_MS = 60_000;

const hash = (secret: string) => createHash("sha256").update(secret).digest("hex");
const idToHex = (id: string) => id.replaceAll("-", "");
const hexToId = (hex: string) => `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;

const createSchema = z
  .object({
    label: z.string().trim().min(1, "must not be empty: say what the key is for").max(200, "must be at most 200 characters"),
    scopes: scopesRule,
    expiresAt: z.date().refine((d) => d.getTime() > Date.now(), "must be in the future").nullish(),
  })
  .strict();

/**
 * Creates an API key in the actor's workspace. Returns the row and the key itself, which is
 * never stored nor shown again.
 */
export async function createApiKey(db: PrismaClient, actor: Actor, input: z.input<typeof createSchema>): Promise<{ apiKey: ApiKey; key: string }> {
  const valid = parseInput(createSchema, input);
  const secret = randomBytes(32).toString("base64url");
  const apiKey = await db.$transaction(async (tx) => {
    const row = await tx.apiKey.create({
      data: { workspaceId: actor.workspaceId, label: valid.label, scopes: valid.scopes, secretHash: hash(secret), prefix: "", createdBy: actor.subject, expiresAt: valid.expiresAt ?? null },
    });
    const prefix = `${API_KEY_PREFIX}${idToHex(row.id).slice(0, 8)}`;
    const updated = await tx.apiKey.update({ where: { id: row.id }, data: { prefix } });
    await recordEvent(tx, actor, { topic: "identity", type: "identity.apiKeyCreated", entityId: row.id, payload: { label: row.label, scopes: row.scopes, expiresAt: row.expiresAt?.toISOString() ?? null } });
    return updated;
  });
  return { apiKey, key: `${API_KEY_PREFIX}${idToHex(apiKey.id)}_${secret}` };
}

const revokeSchema = z.object({ reason: z.string().trim().min(1, "must not be empty: say why, it is shown to the key's holder").max(500, "must be at most 500 characters") }).strict();

/** Revokes an API key of the actor's workspace at once, on every replica. Revoking twice keeps the first revocation. */
export async function revokeApiKey(db: PrismaClient, list: RevocationList, actor: Actor, id: string, input: z.input<typeof revokeSchema>): Promise<ApiKey> {
  const valid = parseInput(revokeSchema, input);
  const { row, revocation } = await db.$transaction(async (tx) => {
    const found = await tx.apiKey.findFirst({ where: { id, workspaceId: actor.workspaceId } });
    if (!found) throw new NotFoundError("ApiKey", id);
    if (found.revokedAt) return { row: found, revocation: undefined };
    const row = await tx.apiKey.update({ where: { id }, data: { revokedAt: new Date() } });
    await recordEvent(tx, actor, { topic: "identity", type: "identity.apiKeyRevoked", entityId: id, payload: { label: row.label, reason: valid.reason } });
    return { row, revocation: await revokeTokenInTx(tx, actor, { tokenId: id, reason: valid.reason }) };
  });
  if (revocation) list.add(revocation);
  return row;
}

/** The API keys of the actor's workspace, newest first. */
export function apiKeysWhere(actor: Actor, includeRevoked: boolean) {
  return { workspaceId: actor.workspaceId, ...(includeRevoked ? {} : { revokedAt: null }) };
}

interface KnownKey {
  secretHash: Buffer;
  principal: Omit<Principal, "scopes"> & { scopes: Set<Scope> };
  lastUseWritten: number;
}

/** The credential check that accepts API keys (see the file header for the caching rule). */
export function apiKeyCheck(db: PrismaClient, onError: (error: unknown) => void): CredentialCheck {
  const known = new Map<string, KnownKey>();
  return {
    handles: (token) => token.startsWith(API_KEY_PREFIX),
    async verify(token) {
      const match = KEY_PATTERN.exec(token);
      if (!match) throw new TokenError("invalid API key: not of the form sgk_<32 hex digits>_<43 characters>");
      const id = hexToId(match[1]!);
      let entry = known.get(id);
      if (!entry) {
        const row = await db.apiKey.findUnique({ where: { id } });
        if (!row) throw new TokenError("invalid API key: no such key");
        entry = {
          secretHash: Buffer.from(row.secretHash, "hex"),
          principal: {
            subject: `apikey:${row.id}`,
            workspaceId: row.workspaceId,
            scopes: new Set(row.scopes.filter(isScope)),
            expiresAt: row.expiresAt ?? NEVER,
            issuedAt: row.createdAt,
            tokenId: row.id,
          },
          lastUseWritten: row.lastUsedAt?.getTime() ?? 0,
        };
        if (row.revokedAt) throw new TokenError(`API key revoked at ${row.revokedAt.toISOString()}; ask for a new key`);
        known.set(id, entry);
      }
      if (!timingSafeEqual(Buffer.from(hash(match[2]!), "hex"), entry.secretHash)) throw new TokenError("invalid API key: wrong secret");
      if (entry.principal.expiresAt.getTime() <= Date.now()) throw new TokenError(`API key expired at ${entry.principal.expiresAt.toISOString()}; ask for a new key`);
      const now = Date.now();
      if (now - entry.lastUseWritten >= LAST_USE_EVERY_MS) {
        entry.lastUseWritten = now;
        await db.apiKey.update({ where: { id }, data: { lastUsedAt: new Date(now) } }).catch(onError);
      }
      return entry.principal;
    },
  };
}
