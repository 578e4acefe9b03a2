/**
 * Subscription streams over the event log: replay after a cursor, then live, with no gap, no
 * duplicate and in log order (positions are dense and final, see src/events/sequencer.ts); the viewer's token and scope re-checked on every event; a limit on
 * open subscriptions per principal; expired cursors refused.
 *
 * How the split works: a stream registers its bus listener and reads the tailer's position P in
 * the same synchronous step. Every event ≤ P was published before the listener existed, so the
 * stream replays (after, P] from the database; every event > P is published after it, so it
 * arrives live. Live events that arrive during the replay wait in a buffer; ids already emitted
 * are dropped. A buffer that outgrows MAX_BUFFERED is dropped too and the stream catches up from
 * the database instead, so a slow consumer costs the server nothing but reads.
 */
import { GraphQLError } from "graphql";
import { describeRevocation, type RevocationList } from "../auth/revocations.ts";
import { grants, type Scope } from "../auth/scopes.ts";
import type { Principal } from "../auth/tokens.ts";
import type { PrismaClient } from "../db/client.ts";
import { BROADCAST_TOPIC, type EventBus, type EventRecord } from "./bus.ts";
import type { EventTopic } from "./eventLog.ts";
import type { EventTailer } from "./tailer.ts";

const REPLAY_PAGE = 200;
const MAX_BUFFERED = 5_000;

/** What the subscription machinery needs from the server; one per process. */
export interface EventHub {
  bus: EventBus;
  tailer: EventTailer;
  limiter: SubscriptionLimiter;
  /**
   * Admits one more subscription of the viewer's workspace under its `subscriptions` quota
   * (counted across replicas); returns the function that gives the place back. Throws a GraphQL
   * error to refuse.
   */
  admit(viewer: Principal): Promise<() => void>;
}

/** How the server ends a WebSocket connection whose token stops being valid: graphql-ws close code and reason. */
export const ACCESS_CLOSE = {
  expired: [4401, "Unauthorized: access token expired"],
  revoked: [4403, "Forbidden: access token revoked"],
} as const;

/** The transport's way to end a WebSocket connection (absent over HTTP/SSE). */
export interface Connection {
  close(code: number, reason: string): void;
}

/** What a subscription field needs from its context. */
export interface StreamContext {
  db: PrismaClient;
  viewer: Principal | null;
  events: EventHub;
  revocations: RevocationList;
  connection?: Connection;
}

export interface StreamSpec<T> {
  /** The topics this stream reads. */
  topics: readonly EventTopic[];
  /** The scope the viewer must hold, re-checked on every event. */
  scope: Scope;
  /** Only events about these entities (optional; narrows the replay query). */
  entityIds?: readonly string[];
  /**
   * Turns a batch of events (in id order, all of `topics`) into the items to emit, one per
   * event, null to skip it. May query the database, once per batch.
   */
  select(events: readonly EventRecord[], later: (at: Date, item: T) => void): Promise<readonly (T | null)[]>;
  /** Items emitted before anything else (a snapshot), given the position the stream starts from. */
  initial?(position: bigint): Promise<readonly T[]>;
}

/** Counts open subscriptions per principal (workspace and subject) in this process. */
export class SubscriptionLimiter {
  private readonly open = new Map<string, number>();
  constructor(readonly max: number) {}

  /** Takes a slot or throws SUBSCRIPTION_LIMIT; returns the function that gives it back (idempotent). */
  acquire(viewer: Principal): () => void {
    const key = `${viewer.workspaceId}\u0000${viewer.subject}`;
    const count = this.open.get(key) ?? 0;
    if (count >= this.max) {
      throw new GraphQLError(`you already have ${count} open subscriptions, the most one principal may hold (MAX_SUBSCRIPTIONS_PER_PRINCIPAL); close one first`, {
        extensions: { code: "SUBSCRIPTION_LIMIT", limit: this.max },
      });
    }
    this.open.set(key, count + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const left = (this.open.get(key) ?? 1) - 1;
      if (left === 0) this.open.delete(key);
      else this.open.set(key, left);
    };
  }

  /** Open subscriptions of all principals (tests check that closed ones are released). */
  get total(): number {
    let sum = 0;
    for (const n of this.open.values()) sum += n;
    return sum;
  }
}

/** A stream item: an event for the field's resolver, or an error that ends the stream. */
export type StreamItem<T> = T | GraphQLError;

/** The largest cursor PostgreSQL's bigint can hold. */
const MAX_CURSOR = 2n ** 63n - 1n;

function badCursor(message: string, after: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "BAD_USER_INPUT", argument: "after", cursor: after } });
}

/** Parses an `after` argument: a decimal log position. */
export function parseCursor(after: string | null | undefined): bigint | null {
  if (after == null) return null;
  if (!/^\d{1,19}$/.test(after) || BigInt(after) > MAX_CURSOR) {
    throw badCursor(`\`after\` must be an event cursor (the \`cursor\` of an event you received, or \`eventLogHead\`); got ${JSON.stringify(after.slice(0, 40))}`, after.slice(0, 40));
  }
  return BigInt(after);
}

/**
 * The checks every subscription makes before anything else: a token, and the field's scope.
 * Throws the GraphQL error the transport sends as the subscription's error.
 */
export function assertMaySubscribe(viewer: Principal | null, scope: Scope): asserts viewer is Principal {
  if (!viewer) throw new GraphQLError("this subscription needs an access token: send `Authorization: Bearer <token>` (graphql-ws: in the connection_init payload)", { extensions: { code: "UNAUTHENTICATED" } });
  if (!grants(viewer.scopes, scope)) {
    throw new GraphQLError(`this subscription needs the scope ${scope}; ask for a token that grants it`, { extensions: { code: "FORBIDDEN", requiredScopes: [scope] } });
  }
}

/**
 * Opens a stream: checks the viewer, the limit and the cursor (throwing GraphQL errors that the
 * transport sends as the subscription's error), then returns the async iterator.
 */
export async function openEventStream<T>(ctx: StreamContext, after: string | null | undefined, spec: StreamSpec<T>): Promise<AsyncIterableIterator<StreamItem<T>>> {
  const viewer = ctx.viewer;
  assertMaySubscribe(viewer, spec.scope);
  const cursor = parseCursor(after);
  const releaseSlot = ctx.events.limiter.acquire(viewer);
  let releaseQuota: (() => void) | undefined;
  const release = () => {
    releaseSlot();
    releaseQuota?.();
  };
  try {
    releaseQuota = await ctx.events.admit(viewer);
    if (cursor !== null) await assertRetained(ctx, cursor);
    return new EventStream(ctx, viewer, cursor, spec, release);
  } catch (error) {
    release();
    throw error;
  }
}

/** Refuses a cursor whose events retention deleted, and one the log never reached. */
async function assertRetained(ctx: StreamContext, cursor: bigint): Promise<void> {
  // This replica's tailer may trail another replica that handed out the cursor: ask the log.
  if (cursor > ctx.events.tailer.position) {
    const head = await ctx.events.tailer.settle();
    if (cursor > head) {
      throw badCursor(`cursor ${cursor} is ahead of the event log (its newest event is ${head}); use a cursor you received from this deployment, or \`eventLogHead\``, String(cursor));
    }
  }
  const [row] = await ctx.db.$queryRaw<{ oldest: bigint | null; present: boolean }[]>`
    SELECT (SELECT min(id) FROM "Event") AS oldest, EXISTS (SELECT 1 FROM "Event" WHERE id = ${cursor}) AS present`;
  if (row!.present) return;
  // Positions are dense since the sequencer (older logs may have holes), so only a cursor below
  // every retained event — or below the log's end once the log is empty — has lost events.
  const oldest = row!.oldest ?? ctx.events.tailer.position + 1n;
  if (cursor < oldest - 1n) {
    throw new GraphQLError(`events after cursor ${cursor} are no longer kept (retention: EVENT_RETENTION_HOURS); subscribe without \`after\` and reload the state you need`, {
      extensions: { code: "EVENTS_EXPIRED", cursor: String(cursor), oldestCursor: row!.oldest === null ? null : String(row!.oldest) },
    });
  }
}

class EventStream<T> implements AsyncIterableIterator<StreamItem<T>> {
  private last: bigint;
  private replayUpto: bigint;
  private buffer: EventRecord[] = [];
  private ready: StreamItem<T>[] = [];
  private initialDone: boolean;
  private readonly positionAtStart: bigint;
  private closed = false;
  private wakeUp: (() => void) | undefined;
  private readonly unlisten: () => void;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly later = (at: Date, item: T) => {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.ready.push(item);
      this.wake();
    }, Math.min(Math.max(at.getTime() - Date.now(), 0), 2 ** 31 - 1));
    this.timers.add(timer);
  };

  constructor(
    private readonly ctx: StreamContext,
    private readonly viewer: Principal,
    cursor: bigint | null,
    private readonly spec: StreamSpec<T>,
    private readonly release: () => void,
  ) {
    const topics = new Set<string>(spec.topics);
    // Listener and position in one synchronous step: see the module comment.
    this.unlisten = ctx.events.bus.listen(viewer.workspaceId, (event) => {
      // A revocation in this workspace may be this viewer's: next() re-checks access.
      if (event.topic === BROADCAST_TOPIC) this.wake();
      if (event.id <= this.last || !topics.has(event.topic)) return;
      if (this.buffer.length >= MAX_BUFFERED) {
        this.buffer = [];
        this.replayUpto = event.id;
      } else {
        this.buffer.push(event);
      }
      this.wake();
    }, { entityIds: spec.entityIds });
    const position = ctx.events.tailer.position;
    this.last = cursor ?? position;
    this.replayUpto = position;
    this.positionAtStart = position;
    this.initialDone = !spec.initial;
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  async next(): Promise<IteratorResult<StreamItem<T>>> {
    try {
      for (;;) {
        if (this.closed) return { done: true, value: undefined };
        const denied = this.checkAccess();
        if (denied) {
          this.close();
          return { done: false, value: denied };
        }
        if (this.ready.length > 0) return { done: false, value: this.ready.shift()! };
        if (!this.initialDone) {
          this.initialDone = true;
          this.ready.push(...(await this.spec.initial!(this.positionAtStart)));
        } else if (this.last < this.replayUpto) {
          await this.replayPage();
        } else if (this.buffer.length > 0) {
          const batch = this.buffer.splice(0, REPLAY_PAGE).filter((e) => e.id > this.last);
          if (batch.length > 0) await this.emit(batch);
        } else {
          await this.waitForEvents();
        }
      }
    } catch (error) {
      this.close();
      throw error;
    }
  }

  async return(): Promise<IteratorResult<StreamItem<T>>> {
    this.close();
    return { done: true, value: undefined };
  }

  async throw(error: unknown): Promise<IteratorResult<StreamItem<T>>> {
    this.close();
    throw error;
  }

  private close() {
    if (this.closed) return;
    this.closed = true;
    this.unlisten();
    this.release();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.wake();
  }

  private wake() {
    const wakeUp = this.wakeUp;
    this.wakeUp = undefined;
    wakeUp?.();
  }

  /** Waits for a live event, or for the token to expire (so an idle stream notices too). */
  private async waitForEvents() {
    const untilExpiry = this.viewer.expiresAt.getTime() - Date.now();
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.wakeUp = resolve;
      // setTimeout holds at most ~24.8 days; a longer token is re-checked then.
      timer = setTimeout(resolve, Math.min(Math.max(untilExpiry, 0), 2 ** 31 - 1));
    });
    clearTimeout(timer);
  }

  private async replayPage() {
    const { db } = this.ctx;
    const upto = this.replayUpto;
    const rows = await db.event.findMany({
      where: {
        workspaceId: this.viewer.workspaceId,
        topic: { in: [...this.spec.topics] },
        ...(this.spec.entityIds ? { entityId: { in: [...this.spec.entityIds] } } : {}),
        id: { gt: this.last, lte: upto },
      },
      orderBy: { id: "asc" },
      take: REPLAY_PAGE,
      select: { id: true, workspaceId: true, topic: true, type: true, entityId: true, payload: true, actor: true, createdAt: true },
    });
    if (rows.length < REPLAY_PAGE) {
      // Nothing else of ours up to `upto`; live events (or a further catch-up) take over after it.
      if (rows.length > 0) await this.emit(rows as EventRecord[]);
      if (this.last < upto) this.last = upto;
    } else {
      await this.emit(rows as EventRecord[]);
    }
  }

  private async emit(events: readonly EventRecord[]) {
    this.last = events.at(-1)!.id;
    const items = await this.spec.select(events, this.later);
    for (const item of items) if (item !== null) this.ready.push(item);
  }

  /** The token's expiry, its revocation and the field's scope, on every event and whenever a revocation arrives. */
  private checkAccess(): GraphQLError | undefined {
    if (Date.now() >= this.viewer.expiresAt.getTime()) {
      this.ctx.connection?.close(...ACCESS_CLOSE.expired);
      return new GraphQLError(`access token expired at ${this.viewer.expiresAt.toISOString()}; subscribe again with a new token and your last cursor`, {
        extensions: { code: "UNAUTHENTICATED" },
      });
    }
    const revoked = this.ctx.revocations.check(this.viewer);
    if (revoked) {
      this.ctx.connection?.close(...ACCESS_CLOSE.revoked);
      return new GraphQLError(describeRevocation(revoked), { extensions: { code: "FORBIDDEN", revokedAt: revoked.revokedAt.toISOString() } });
    }
    if (!grants(this.viewer.scopes, this.spec.scope)) {
      this.ctx.connection?.close(4403, "Forbidden");
      return new GraphQLError(`this subscription needs the scope ${this.spec.scope}`, { extensions: { code: "FORBIDDEN", requiredScopes: [this.spec.scope] } });
    }
    return undefined;
  }
}
