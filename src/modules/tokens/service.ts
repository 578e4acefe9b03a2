/**
 * Revoking access tokens before they expire. A revocation row is written together with its
 * `token.revoked` event, so every replica learns of it from the event log; the caller's replica
 * applies it to its list at once, before the mutation answers (see src/auth/revocations.ts).
 */
import { z } from "zod";
import type { Db, PrismaClient } from "../../db/client.ts";
import { type Actor, recordEvent } from "../../events/eventLog.ts";
import type { TokenRevocation } from "../../generated/prisma/client.ts";
import type { Revocation, RevocationList } from "../../auth/revocations.ts";
import { parseInput } from "../../validation.ts";

const reasonRule = z.string().trim().min(1, "must not be empty: say why, it is shown to the token's holder").max(500, "must be at most 500 characters");

const revokeTokenSchema = z.object({ tokenId: z.uuid("must be a token id: the UUID in the token's jti claim (viewer.tokenId)"), reason: reasonRule }).strict();
const revokeSubjectSchema = z.object({ subject: z.string().trim().min(1, "must not be empty").max(200, "must be at most 200 characters"), reason: reasonRule }).strict();

export function revocationOf(row: TokenRevocation): Revocation {
  return { workspaceId: row.workspaceId, tokenId: row.tokenId, subject: row.subject, revokedAt: row.revokedAt, reason: row.reason };
}

/** Revokes one token of the actor's workspace. Revoking it again returns the first revocation. */
export async function revokeToken(db: PrismaClient, list: RevocationList, actor: Actor, input: z.input<typeof revokeTokenSchema>): Promise<TokenRevocation> {
  const valid = parseInput(revokeTokenSchema, input);
  const row = await db.$transaction((tx) => revokeTokenRow(tx, actor, valid));
  list.add(revocationOf(row));
  return row;
}

/**
 * Revokes one token id inside the caller's transaction (an API key's, a refresh family's), for
 * services that withdraw a credential together with their own change. The caller adds the
 * returned revocation to its replica's list after commit.
 */
export async function revokeTokenInTx(tx: Db, actor: Actor, input: { tokenId: string; reason: string }): Promise<Revocation> {
  return revocationOf(await revokeTokenRow(tx, actor, input));
}

async function revokeTokenRow(tx: Db, actor: Actor, valid: { tokenId: string; reason: string }): Promise<TokenRevocation> {
  const created = await tx.tokenRevocation.createManyAndReturn({
    data: [{ workspaceId: actor.workspaceId, tokenId: valid.tokenId, reason: valid.reason, revokedBy: actor.subject, revokedAt: new Date() }],
    skipDuplicates: true,
  });
  if (created.length === 0) return tx.tokenRevocation.findUniqueOrThrow({ where: { workspaceId_tokenId: { workspaceId: actor.workspaceId, tokenId: valid.tokenId } } });
  await record(tx, actor, created[0]!);
  return created[0]!;
}

/**
 * Revokes every token of a subject in the actor's workspace issued up to now (tokens carry their
 * issue time in whole seconds, so one minted later in this same second is refused too).
 */
export async function revokeSubjectTokens(db: PrismaClient, list: RevocationList, actor: Actor, input: z.input<typeof revokeSubjectSchema>): Promise<TokenRevocation> {
  const valid = parseInput(revokeSubjectSchema, input);
  const row = await db.$transaction(async (tx) => {
    const created = await tx.tokenRevocation.create({
      data: { workspaceId: actor.workspaceId, subject: valid.subject, reason: valid.reason, revokedBy: actor.subject, revokedAt: new Date() },
    });
    await record(tx, actor, created);
    return created;
  });
  list.add(revocationOf(row));
  return row;
}

function record(tx: Db, actor: Actor, row: TokenRevocation) {
  return recordEvent(tx, actor, {
    topic: "token",
    type: "token.revoked",
    entityId: row.id,
    payload: { tokenId: row.tokenId, subject: row.subject, revokedAt: row.revokedAt.toISOString(), reason: row.reason },
  });
}

/** Every revocation, oldest first (loaded into each replica's list at start). */
export async function allRevocations(db: PrismaClient): Promise<Revocation[]> {
  const rows = await db.tokenRevocation.findMany({ orderBy: { revokedAt: "asc" } });
  return rows.map(revocationOf);
}
