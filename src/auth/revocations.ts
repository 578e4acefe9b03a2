/**
 * The revocation list: access withdrawn before a token expires. Tokens are stateless JWTs, so
 * revoking one means remembering it. A revocation names one token (its `jti`), or a subject —
 * then every token of that subject issued up to the revocation is refused.
 *
 * Every replica keeps the whole list in memory, so checking a token is a map lookup, cheap
 * enough for every request and every subscription event. The list is loaded from the
 * TokenRevocation table at start and kept current from the event log: revoking writes a
 * `token.revoked` event that every replica's tailer reads (at once with Redis, otherwise within
 * EVENT_POLL_INTERVAL_MS), and the replica that revoked applies it before it answers.
 *
 * Open WebSocket connections watch the list: when their principal is revoked they are told at
 * once (the server closes them with 4403), idle or not.
 */
import type { EventRecord } from "../events/bus.ts";
import type { Principal } from "./tokens.ts";

export interface Revocation {
  workspaceId: string;
  /** The one token revoked, or null for a subject-wide revocation. */
  tokenId: string | null;
  /** The subject whose tokens issued at or before `revokedAt` are revoked, or null. */
  subject: string | null;
  revokedAt: Date;
  reason: string;
}

type Watcher = { principal: Principal; onRevoked: (revocation: Revocation) => void };

const key = (workspaceId: string, id: string) => `${workspaceId}\u0000${id}`;

export class RevocationList {
  private readonly tokens = new Map<string, Revocation>();
  /** The latest subject-wide revocation per (workspace, subject). */
  private readonly subjects = new Map<string, Revocation>();
  private readonly watchers = new Set<Watcher>();

  /** Adds a revocation (idempotent) and tells the watchers of every principal it revokes. */
  add(revocation: Revocation): void {
    if (revocation.tokenId !== null) {
      const k = key(revocation.workspaceId, revocation.tokenId);
      if (!this.tokens.has(k)) this.tokens.set(k, revocation);
    } else if (revocation.subject !== null) {
      const k = key(revocation.workspaceId, revocation.subject);
      const known = this.subjects.get(k);
      if (!known || known.revokedAt < revocation.revokedAt) this.subjects.set(k, revocation);
    }
    for (const watcher of [...this.watchers]) {
      const found = this.check(watcher.principal);
      if (!found) continue;
      this.watchers.delete(watcher);
      watcher.onRevoked(found);
    }
  }

  /** The revocation that withdraws this principal's token, if any. */
  check(principal: Principal): Revocation | undefined {
    if (principal.tokenId !== null) {
      const byToken = this.tokens.get(key(principal.workspaceId, principal.tokenId));
      if (byToken) return byToken;
    }
    const bySubject = this.subjects.get(key(principal.workspaceId, principal.subject));
    // `iat` has whole seconds: a token issued in the revocation's second counts as issued before it.
    if (bySubject && principal.issuedAt.getTime() <= bySubject.revokedAt.getTime()) return bySubject;
    return undefined;
  }

  /** Calls `onRevoked` once, as soon as this principal's token is revoked; returns the function that stops watching. */
  watch(principal: Principal, onRevoked: (revocation: Revocation) => void): () => void {
    const watcher: Watcher = { principal, onRevoked };
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  /** Open watches (tests check that closed connections let go). */
  get watching(): number {
    return this.watchers.size;
  }
}

/** The revocation a `token.revoked` event carries; undefined for any other event. */
export function revocationOfEvent(event: EventRecord): Revocation | undefined {
  if (event.type !== "token.revoked") return undefined;
  const { tokenId, subject, revokedAt, reason } = event.payload;
  if (typeof revokedAt !== "string") return undefined;
  return {
    workspaceId: event.workspaceId,
    tokenId: typeof tokenId === "string" ? tokenId : null,
    subject: typeof subject === "string" ? subject : null,
    revokedAt: new Date(revokedAt),
    reason: typeof reason === "string" ? reason : "",
  };
}

/** Why a revoked token is refused, for people: when, and the reason given. */
export function describeRevocation(revocation: Revocation): string {
  const what = revocation.tokenId !== null ? "access token revoked" : `every access token of ${revocation.subject} issued up to then was revoked`;
  return `${what} at ${revocation.revokedAt.toISOString()}${revocation.reason ? ` (${revocation.reason})` : ""}; ask for a new token`;
}
