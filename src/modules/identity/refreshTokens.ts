/**
 * Refresh tokens, of service accounts (client credentials) and of devices a person approved
 * (device flow). They rotate: each use marks the presented token used (a conditional UPDATE, so
 * of two concurrent uses only one wins) and a new one of the same family is issued. Presenting a
 * used token again means it was copied: the whole family is revoked, with the access tokens it
 * issued. Only a SHA-256 hash of each token is stored.
 *
 * Rotation and revocation of one family are serialised on the family's first row (its id is the
 * familyId): both take `FOR UPDATE` on it before they read or write the family. Without that, a
 * reuse detected while the winner of the same token was still storing its successor revoked the
 * family first, and the successor, inserted a moment later, stayed valid. With it, either the
 * revocation commits first and the successor is refused, or the successor commits first and the
 * revocation (a later statement under READ COMMITTED) sees and revokes it. Disabling a service
 * account is serialised the same way on the account row, which storing a token updates.
 */
import type { Revocation, RevocationList } from "../../auth/revocations.ts";
import type { Db, PrismaClient } from "../../db/client.ts";
import { recordEvent } from "../../events/eventLog.ts";
import type { RefreshToken, ServiceAccount } from "../../generated/prisma/client.ts";
import { revokeTokenInTx } from "../tokens/service.ts";
import { hashSecret, newSecret } from "./serviceAccounts.ts";

const REFRESH_PREFIX = "sgr_";

/** Whom a refresh token is issued to. */
export interface RefreshHolder {
  workspaceId: string;
  /** The subject of the access tokens it yields. */
  subject: string;
  /** The OAuth client it belongs to: only that client may use it. */
  clientId: string;
  serviceAccountId: string | null;
}

export interface IssuedRefresh {
  refreshToken: string;
  expiresAt: Date;
}

/**
 * Stores a new refresh token of `familyId` (a new family when omitted) issued with the access
 * token `accessTokenId`, and records the issuance (never the tokens) in the holder's workspace.
 */
export async function storeRefreshToken(
  db: PrismaClient,
  holder: RefreshHolder,
  grant: { familyId?: string; grantType: string; scopes: readonly string[]; accessTokenId: string; accessTokenExpiresAt: Date; ttlSeconds: number },
): Promise<IssuedRefresh> {
  const refreshToken = `${REFRESH_PREFIX}${newSecret()}`;
  const expiresAt = new Date(Date.now() + grant.ttlSeconds * 1000);
  await db.$transaction(async (tx) => {
    if (grant.familyId) {
      await lockFamily(tx, grant.familyId);
      const revoked = await tx.refreshToken.findFirst({ where: { familyId: grant.familyId, revokedAt: { not: null } }, select: { revokedAt: true } });
      if (revoked) throw new RefreshRefusal(`refresh token family was revoked at ${revoked.revokedAt!.toISOString()} while this refresh was under way; sign in again`);
    }
    if (holder.serviceAccountId) {
      const account = await tx.serviceAccount.update({ where: { id: holder.serviceAccountId }, data: { lastUsedAt: new Date() } });
      if (account.disabledAt) throw new RefreshRefusal(`service account ${account.name} is disabled`);
    }
    const row = await tx.refreshToken.create({
      data: {
        workspaceId: holder.workspaceId,
        serviceAccountId: holder.serviceAccountId,
        clientId: holder.clientId,
        subject: holder.subject,
        familyId: grant.familyId ?? "",
        tokenHash: hashSecret(refreshToken),
        scopes: [...grant.scopes],
        accessTokenId: grant.accessTokenId,
        accessTokenExpiresAt: grant.accessTokenExpiresAt,
        expiresAt,
      },
    });
    if (!grant.familyId) await tx.refreshToken.update({ where: { id: row.id }, data: { familyId: row.id } });
    await recordEvent(tx, { workspaceId: holder.workspaceId, subject: holder.subject }, {
      topic: "identity",
      type: "identity.tokenIssued",
      entityId: holder.serviceAccountId ?? row.id,
      payload: { clientId: holder.clientId, grant: grant.grantType, scopes: [...grant.scopes], accessTokenId: grant.accessTokenId, familyId: grant.familyId ?? row.id },
    });
  });
  return { refreshToken, expiresAt };
}

/** Why a refresh token was refused (OAuth `invalid_grant`), worded for the client's operator. */
export class RefreshRefusal extends Error {
  override name = "RefreshRefusal";
}

const REUSED = "refresh token was already used, so it may have been copied: its whole token family is revoked; sign in again";

type StoredRefresh = RefreshToken & { serviceAccount: ServiceAccount | null };

/**
 * The refresh token presented, or a refusal. A token used before revokes its whole family,
 * access tokens included.
 */
export async function findRefreshToken(db: PrismaClient, list: RevocationList, refreshToken: string): Promise<StoredRefresh> {
  const token = await db.refreshToken.findUnique({ where: { tokenHash: hashSecret(refreshToken) }, include: { serviceAccount: true } });
  if (!token) throw new RefreshRefusal("unknown refresh token");
  if (token.usedAt) {
    await revokeFamily(db, list, token);
    throw new RefreshRefusal(REUSED);
  }
  if (token.revokedAt) throw new RefreshRefusal(`refresh token was revoked at ${token.revokedAt.toISOString()}; sign in again`);
  if (token.expiresAt <= new Date()) throw new RefreshRefusal(`refresh token expired at ${token.expiresAt.toISOString()}; sign in again`);
  if (token.serviceAccount?.disabledAt) throw new RefreshRefusal(`service account ${token.serviceAccount.name} is disabled`);
  return token;
}

/**
 * Marks a refresh token used (once its client is verified). Of two concurrent uses only one
 * wins; the other counts as reuse and revokes the family.
 */
export async function markRefreshTokenUsed(db: PrismaClient, list: RevocationList, token: StoredRefresh): Promise<void> {
  const used = await db.refreshToken.updateMany({ where: { id: token.id, usedAt: null, revokedAt: null }, data: { usedAt: new Date() } });
  if (used.count === 1) return;
  await revokeFamily(db, list, token);
  throw new RefreshRefusal(REUSED);
}

/** Serialises rotation and revocation of one family (see the header). */
async function lockFamily(tx: Db, familyId: string): Promise<void> {
  await tx.$queryRaw`SELECT id FROM "RefreshToken" WHERE id = ${familyId} FOR UPDATE`;
}

/** Revokes every refresh token of the family and every unexpired access token it issued. */
async function revokeFamily(db: PrismaClient, list: RevocationList, token: StoredRefresh): Promise<void> {
  const actor = { workspaceId: token.workspaceId, subject: "system" };
  const revocations = await db.$transaction(async (tx) => {
    await lockFamily(tx, token.familyId);
    const now = new Date();
    await tx.refreshToken.updateMany({ where: { familyId: token.familyId, revokedAt: null }, data: { revokedAt: now } });
    const live = await tx.refreshToken.findMany({ where: { familyId: token.familyId, accessTokenExpiresAt: { gt: now } }, select: { accessTokenId: true } });
    const out: Revocation[] = [];
    for (const { accessTokenId } of live) out.push(await revokeTokenInTx(tx, actor, { tokenId: accessTokenId, reason: "its refresh token family was revoked after a refresh token was reused" }));
    await recordEvent(tx, actor, { topic: "identity", type: "identity.refreshTokenReused", entityId: token.serviceAccountId ?? token.familyId, payload: { clientId: token.clientId, subject: token.subject, familyId: token.familyId, revokedAccessTokens: live.length } });
    return out;
  });
  for (const revocation of revocations) list.add(revocation);
}
