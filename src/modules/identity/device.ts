/**
 * The OAuth 2.0 device authorization grant (RFC 8628) for CLIs and headless agents (seed 000).
 *
 * 1. The device asks for a code (POST /oauth/device_authorization): it gets a device code (its
 *    secret; only a hash is stored) and a user code for a person, valid DEVICE_CODE_TTL_SECONDS.
 * 2. A person with an admin token types the user code (the /device page, or the mutations),
 *    sees the client and scopes asked for, and approves (into the person's own workspace) or
 *    denies. Wrong user codes are counted per person: after USER_CODE_ATTEMPTS failures within
 *    a window further attempts are refused, so the 20^8 codes cannot be walked.
 * 3. The device gets its token pushed by the `deviceAuthorization(deviceCode)` subscription the
 *    moment the decision commits (on any replica: the decision is an event of the log), or by
 *    polling the token endpoint the standard way (authorization_pending, slow_down,
 *    access_denied, expired_token). A device code yields one token pair, once.
 */
import { randomBytes, randomInt } from "node:crypto";
import { z } from "zod";
import { grants, isScope, type Scope } from "../../auth/scopes.ts";
import type { PrismaClient } from "../../db/client.ts";
import { IllegalTransitionError, InvalidInputError, NotFoundError } from "../../errors.ts";
import { type Actor, recordEvent } from "../../events/eventLog.ts";
import type { DeviceAuthorization } from "../../generated/prisma/client.ts";
import { parseInput } from "../../validation.ts";
import { hashSecret } from "./serviceAccounts.ts";

const ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"; // no vowels: no words; no look-alikes
/** Seconds a polling device waits between token requests (RFC 8628 `interval`). */
export const POLL_INTERVAL_SECONDS = 5;
export const USER_CODE_ATTEMPTS = 5;
const ATTEMPT_WINDOW_MS = 15 * 60_000;
export const DECIDED_EVENT = "identity.deviceAuthorizationDecided";

export const formatUserCode = (code: string) => `${code.slice(0, 4)}-${code.slice(4)}`;
const normalizeUserCode = (input: string) => input.toUpperCase().replace(/[^A-Z]/g, "");

/** Why a device authorization request was refused (an RFC 8628 error code and words). */
export class DeviceRequestError extends Error {
  constructor(
    readonly oauthError: "invalid_request" | "invalid_scope",
    message: string,
  ) {
    super(message);
    this.name = "DeviceRequestError";
  }
}

/** Starts a device authorization for `clientId` asking for `scope` (space-separated; all of the approver's when empty). */
export async function startDeviceAuthorization(db: PrismaClient, input: { clientId: string | undefined; scope: string | undefined; ttlSeconds: number }) {
  const clientId = input.clientId?.trim() ?? "";
  if (!/^[\w.:@-]{1,100}$/.test(clientId)) throw new DeviceRequestError("invalid_request", "client_id must be 1 to 100 letters, digits or . _ : @ - (what the device calls itself, shown to the approver)");
  const requested = (input.scope ?? "").split(/\s+/).filter(Boolean);
  const unknown = requested.filter((s) => !isScope(s));
  if (unknown.length > 0) throw new DeviceRequestError("invalid_scope", `unknown scope(s) ${unknown.join(", ")}`);
  const deviceCode = randomBytes(32).toString("base64url");
  const userCode = Array.from({ length: 8 }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");
  const row = await db.deviceAuthorization.create({
    data: { deviceCodeHash: hashSecret(deviceCode), userCode, clientId, requestedScopes: [...new Set(requested)], expiresAt: new Date(Date.now() + input.ttlSeconds * 1000) },
  });
  return { deviceCode, userCode: formatUserCode(row.userCode), expiresIn: input.ttlSeconds, interval: POLL_INTERVAL_SECONDS };
}

/** Wrong user codes per person (per replica): the guard against walking the code space. */
export class UserCodeAttempts {
  private readonly failures = new Map<string, number[]>();

  /** Throws when `who` has used up their attempts; otherwise returns how many are left. */
  check(who: string): void {
    const recent = this.recent(who);
    if (recent.length >= USER_CODE_ATTEMPTS) {
      const retryAt = new Date(recent[0]! + ATTEMPT_WINDOW_MS);
      throw new UserCodeRateLimited(`too many wrong user codes (${USER_CODE_ATTEMPTS} within 15 minutes); try again after ${retryAt.toISOString()}`);
    }
  }

  fail(who: string): void {
    this.failures.set(who, [...this.recent(who), Date.now()]);
  }

  private recent(who: string): number[] {
    const cutoff = Date.now() - ATTEMPT_WINDOW_MS;
    return (this.failures.get(who) ?? []).filter((t) => t > cutoff);
  }
}

/** Too many wrong user codes: answered as a GraphQL error with code RATE_LIMITED. */
export class UserCodeRateLimited extends Error {
  override name = "UserCodeRateLimited";
}

/** The pending authorization a user code names, for a person about to decide; wrong codes count against them. */
export async function pendingByUserCode(db: PrismaClient, attempts: UserCodeAttempts, actor: Actor, userCode: string): Promise<DeviceAuthorization> {
  const who = `${actor.workspaceId}\u0000${actor.subject}`;
  attempts.check(who);
  const code = normalizeUserCode(userCode);
  const row = code.length === 8 ? await db.deviceAuthorization.findUnique({ where: { userCode: code } }) : null;
  if (!row || row.expiresAt <= new Date()) {
    attempts.fail(who);
    throw new NotFoundError("DeviceAuthorization", userCode);
  }
  return row;
}

const decideSchema = z.object({ scopes: z.array(z.string()).nullish() }).strict();

/**
 * Approves or denies the authorization a user code names. Approval grants the scopes asked
 * for (or `scopes`, a subset of them; all the approver holds when the device asked for none)
 * that the approver itself holds, in the approver's workspace.
 */
export async function decideDeviceAuthorization(
  db: PrismaClient,
  attempts: UserCodeAttempts,
  actor: Actor,
  approverScopes: ReadonlySet<Scope>,
  userCode: string,
  decision: { approve: boolean; scopes?: string[] | null },
): Promise<DeviceAuthorization> {
  const valid = parseInput(decideSchema, { scopes: decision.scopes });
  const row = await pendingByUserCode(db, attempts, actor, userCode);
  let granted: Scope[] = [];
  if (decision.approve) {
    const asked = row.requestedScopes.length > 0 ? row.requestedScopes.filter(isScope) : [...approverScopes];
    const chosen = valid.scopes ?? asked;
    const outside = chosen.filter((s) => !(asked as string[]).includes(s));
    if (outside.length > 0) throw new InvalidInputError([{ path: "input.scopes", message: `${outside.join(", ")} not asked for by the device (it asked for ${asked.join(", ") || "nothing"})` }]);
    const notHeld = chosen.filter((s) => !isScope(s) || !grants(approverScopes, s));
    if (notHeld.length > 0) throw new InvalidInputError([{ path: "input.scopes", message: `you cannot grant scopes you do not hold: ${notHeld.join(", ")}` }]);
    granted = chosen as Scope[];
    if (granted.length === 0) throw new InvalidInputError([{ path: "input.scopes", message: "grant at least one scope, or deny" }]);
  }
  const status = decision.approve ? "APPROVED" : "DENIED";
  return db.$transaction(async (tx) => {
    const updated = await tx.deviceAuthorization.updateMany({
      where: { id: row.id, status: "PENDING" },
      data: { status, workspaceId: decision.approve ? actor.workspaceId : null, grantedScopes: granted, decidedBy: actor.subject, decidedAt: new Date() },
    });
    if (updated.count === 0) {
      const now = await tx.deviceAuthorization.findUniqueOrThrow({ where: { id: row.id } });
      throw new IllegalTransitionError("DeviceAuthorization", formatUserCode(row.userCode), now.status, decision.approve ? "approve" : "deny", ["PENDING"]);
    }
    await recordEvent(tx, actor, { topic: "identity", type: DECIDED_EVENT, entityId: row.id, payload: { status, clientId: row.clientId, scopes: granted } });
    return tx.deviceAuthorization.findUniqueOrThrow({ where: { id: row.id } });
  });
}

/** What a device learns about its authorization. */
export type DeviceOutcome =
  | { kind: "pending"; authorizationId: string; expiresAt: Date; slowDown: boolean }
  | { kind: "denied"; by: string }
  | { kind: "expired"; at: Date }
  | { kind: "redeemed" }
  | { kind: "approved"; row: DeviceAuthorization };

/**
 * Where the authorization of `deviceCode` stands. An approved one is redeemed here, atomically:
 * of a subscription and a poll racing for it, one gets "approved" (and issues the token pair),
 * the other "redeemed". `poll` records the poll time for slow_down.
 */
export async function deviceOutcome(db: PrismaClient, deviceCode: string, options: { poll: boolean }): Promise<DeviceOutcome | undefined> {
  const row = await db.deviceAuthorization.findUnique({ where: { deviceCodeHash: hashSecret(deviceCode) } });
  if (!row) return undefined;
  if (row.redeemedAt) return { kind: "redeemed" };
  if (row.status === "DENIED") return { kind: "denied", by: row.decidedBy ?? "" };
  if (row.status === "APPROVED") {
    const claimed = await db.deviceAuthorization.updateMany({ where: { id: row.id, redeemedAt: null }, data: { redeemedAt: new Date() } });
    return claimed.count === 1 ? { kind: "approved", row } : { kind: "redeemed" };
  }
  if (row.expiresAt <= new Date()) return { kind: "expired", at: row.expiresAt };
  let slowDown = false;
  if (options.poll) {
    slowDown = row.lastPolledAt !== null && Date.now() - row.lastPolledAt.getTime() < POLL_INTERVAL_SECONDS * 1000;
    await db.deviceAuthorization.update({ where: { id: row.id }, data: { lastPolledAt: new Date() } });
  }
  return { kind: "pending", authorizationId: row.id, expiresAt: row.expiresAt, slowDown };
}
