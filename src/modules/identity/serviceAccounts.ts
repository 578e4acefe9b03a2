/**
 * Service accounts: the clients of the OAuth 2.0 client credentials grant (src/web/oauth.ts).
 * An admin creates one with the scopes it may be granted; its client secret is shown once and
 * stored as a SHA-256 hash (256 random bits: a fast hash is enough). Rotating the secret
 * replaces it at once; disabling refuses new tokens and revokes the account's tokens (access
 * tokens by subject, refresh tokens by row) on every replica.
 * Their refresh tokens are src/modules/identity/refreshTokens.ts's.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { RevocationList } from "../../auth/revocations.ts";
import { isScope, type Scope } from "../../auth/scopes.ts";
import type { Db, PrismaClient } from "../../db/client.ts";
import { InvalidInputError, NotFoundError } from "../../errors.ts";
import { type Actor, recordEvent } from "../../events/eventLog.ts";
import type { ServiceAccount } from "../../generated/prisma/client.ts";
import { parseInput } from "../../validation.ts";
import { revocationOf } from "../tokens/service.ts";
import { scopesRule } from "./scopes.ts";

const CLIENT_ID_PATTERN = /^sa_([0-9a-f]{32})$/;

export const hashSecret = (secret: string) => createHash("sha256").update(secret).digest("hex");
export const newSecret = () => randomBytes(32).toString("base64url");

/** The OAuth client id of a service account (derived from its id, so nothing more is stored). */
export const clientIdOf = (account: Pick<ServiceAccount, "id">) => `sa_${account.id.replaceAll("-", "")}`;
/** The subject of the access tokens a service account gets. */
export const subjectOf = (account: Pick<ServiceAccount, "name">) => `sa:${account.name}`;

function idOfClientId(clientId: string): string | undefined {
  const hex = CLIENT_ID_PATTERN.exec(clientId)?.[1];
  return hex && `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const createSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, "must be 1 to 63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit"),
    scopes: scopesRule,
  })
  .strict();

/** Creates a service account; returns it with its client secret, which is never shown again. */
export async function createServiceAccount(db: PrismaClient, actor: Actor, input: z.input<typeof createSchema>): Promise<{ serviceAccount: ServiceAccount; clientSecret: string }> {
  const valid = parseInput(createSchema, input);
  const clientSecret = newSecret();
  const serviceAccount = await db.$transaction(async (tx) => {
    const taken = await tx.serviceAccount.findUnique({ where: { workspaceId_name: { workspaceId: actor.workspaceId, name: valid.name } } });
    if (taken) throw new InvalidInputError([{ path: "input.name", message: "a service account of this name exists in this workspace" }]);
    const row = await tx.serviceAccount.create({ data: { workspaceId: actor.workspaceId, name: valid.name, scopes: valid.scopes, secretHash: hashSecret(clientSecret), createdBy: actor.subject } });
    await recordEvent(tx, actor, { topic: "identity", type: "identity.serviceAccountCreated", entityId: row.id, payload: { name: row.name, clientId: clientIdOf(row), scopes: row.scopes } });
    return row;
  });
  return { serviceAccount, clientSecret };
}

async function findInWorkspace(tx: Db, actor: Actor, id: string): Promise<ServiceAccount> {
  const found = await tx.serviceAccount.findFirst({ where: { id, workspaceId: actor.workspaceId } });
  if (!found) throw new NotFoundError("ServiceAccount", id);
  return found;
}

/** Replaces the client secret: the old one stops working at once; tokens already issued stay valid. */
export async function rotateServiceAccountSecret(db: PrismaClient, actor: Actor, id: string): Promise<{ serviceAccount: ServiceAccount; clientSecret: string }> {
  const clientSecret = newSecret();
  const serviceAccount = await db.$transaction(async (tx) => {
    await findInWorkspace(tx, actor, id);
    const row = await tx.serviceAccount.update({ where: { id }, data: { secretHash: hashSecret(clientSecret), secretRotatedAt: new Date() } });
    await recordEvent(tx, actor, { topic: "identity", type: "identity.serviceAccountSecretRotated", entityId: id, payload: { name: row.name, clientId: clientIdOf(row) } });
    return row;
  });
  return { serviceAccount, clientSecret };
}

const disableSchema = z.object({ reason: z.string().trim().min(1, "must not be empty: say why").max(500, "must be at most 500 characters") }).strict();

/**
 * Disables a service account: it gets no new token, its refresh tokens are revoked, and every
 * access token it holds is refused on every replica. Disabling twice changes nothing.
 */
export async function disableServiceAccount(db: PrismaClient, list: RevocationList, actor: Actor, id: string, input: z.input<typeof disableSchema>): Promise<ServiceAccount> {
  const valid = parseInput(disableSchema, input);
  const { row, revocation } = await db.$transaction(async (tx) => {
    const found = await findInWorkspace(tx, actor, id);
    if (found.disabledAt) return { row: found, revocation: undefined };
    const now = new Date();
    const row = await tx.serviceAccount.update({ where: { id }, data: { disabledAt: now } });
    await tx.refreshToken.updateMany({ where: { serviceAccountId: id, revokedAt: null }, data: { revokedAt: now } });
    const revoked = await tx.tokenRevocation.create({ data: { workspaceId: actor.workspaceId, subject: subjectOf(row), reason: `service account disabled: ${valid.reason}`, revokedBy: actor.subject, revokedAt: now } });
    await recordEvent(tx, actor, { topic: "token", type: "token.revoked", entityId: revoked.id, payload: { tokenId: null, subject: revoked.subject, revokedAt: now.toISOString(), reason: revoked.reason } });
    await recordEvent(tx, actor, { topic: "identity", type: "identity.serviceAccountDisabled", entityId: id, payload: { name: row.name, reason: valid.reason } });
    return { row, revocation: revocationOf(revoked) };
  });
  if (revocation) list.add(revocation);
  return row;
}

/** The service accounts of the actor's workspace. */
export function serviceAccountsWhere(actor: Actor, includeDisabled: boolean) {
  return { workspaceId: actor.workspaceId, ...(includeDisabled ? {} : { disabledAt: null }) };
}

/** Why a client was refused, worded for the client's operator (never contains the secret). */
export class ClientRefusal extends Error {
  override name = "ClientRefusal";
}

/**
 * The service account a client id and secret authenticate. Unknown id and wrong secret answer
 * alike; a disabled account says so.
 */
export async function authenticateClient(db: PrismaClient, clientId: string, clientSecret: string): Promise<ServiceAccount> {
  const id = idOfClientId(clientId);
  const account = id ? await db.serviceAccount.findUnique({ where: { id } }) : null;
  const presented = Buffer.from(hashSecret(clientSecret), "hex");
  if (!account || !timingSafeEqual(presented, Buffer.from(account.secretHash, "hex"))) throw new ClientRefusal("unknown client or wrong client secret");
  if (account.disabledAt) throw new ClientRefusal(`service account ${account.name} was disabled at ${account.disabledAt.toISOString()}`);
  return account;
}

/** The granted scopes: the requested ones if the account may have them all, else undefined; none requested → all it may have. */
export function grantedScopes(account: ServiceAccount, requested: readonly string[] | undefined): Scope[] | undefined {
  const allowed = account.scopes.filter(isScope);
  if (!requested || requested.length === 0) return allowed;
  return requested.every((s) => (allowed as string[]).includes(s)) ? (requested as Scope[]) : undefined;
}

