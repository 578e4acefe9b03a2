/**
 * The event tailer: each server process reads new rows of the shared event log in id order and
 * publishes them to its in-process bus. Several replicas on one PostgreSQL database each tail
 * the log themselves, so every replica sees every event exactly once, in id order, whatever
 * replica committed it; Redis (REDIS_URL) only carries a "new events" nudge so that replicas
 * wake at once instead of at their next poll.
 *
 * Gap-free order. Ids are drawn when a row is inserted, but transactions commit in any order:
 * a naive `WHERE id > last` tail could deliver id 6 and move on while id 5 is still
 * uncommitted, losing 5 for good. `recordEvent` draws the id in a transaction that already
 * holds a transaction id, then stamps the row's `horizon`: the first transaction id not yet
 * assigned, taken after the id was drawn. Any transaction that drew a smaller id already had a
 * transaction id below that horizon. So once the oldest running transaction
 * (`txid_snapshot_xmin`) is at or past a row's horizon, every smaller id has committed or
 * rolled back, and the row can be delivered. The tailer delivers the longest such prefix and
 * advances its position only over delivered rows. The cost: a transaction that stays open for a
 * long time (on any database of the cluster) holds delivery back until it ends — never longer
 * than Prisma's transaction timeout for our own transactions.
 */
import type { SqlRunner } from "../db/sql.ts";
import type { Logger } from "../logger.ts";
import type { EventBus, EventRecord } from "./bus.ts";

/** Something that carries nudges between replicas (the Redis event target). */
export interface NudgeTarget {
  addEventListener(type: string, listener: (event: Event) => void): void;
  removeEventListener(type: string, listener: (event: Event) => void): void;
  dispatchEvent(event: Event): boolean;
}

export const NUDGE_CHANNEL = "swarmgraph:event-log";

export interface EventTailer {
  /** The id of the last event published; every event up to it has been delivered. */
  readonly position: bigint;
  /** Finds the starting position and starts polling. */
  start(): Promise<void>;
  /** Reads new events now (coalesced with a read in progress). */
  wake(): void;
  /** Wakes this tailer and, through Redis, every other replica's. Call after a commit. */
  notify(): void;
  /** Resolves once every event committed before the call has been published (tests, shutdown). */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

export interface TailerOptions {
  /** The raw connection (not Prisma's, so the poll stays out of the query log that tests count). */
  sql: SqlRunner;
  bus: EventBus;
  pollIntervalMs: number;
  log: Logger;
  nudges?: NudgeTarget;
  /** Rows read per statement. */
  batchSize?: number;
}

/** A log row as the raw driver returns it (bigints may arrive as strings), with its horizon. */
interface TailRow extends Omit<EventRecord, "id"> {
  id: bigint | string;
  horizon: bigint | string;
  xmin: bigint | string;
}

export function createEventTailer(options: TailerOptions): EventTailer {
  const { sql, bus, log } = options;
  const batchSize = options.batchSize ?? 500;
  let position = 0n;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  let stalledSince: number | undefined;
  let stalled = false;
  let retryTimer: NodeJS.Timeout | undefined;
  const onNudge = () => tailer.wake();

  async function readOnce(): Promise<boolean> {
    const rows = await sql.query<TailRow>(
      `SELECT id, "workspaceId", topic, type, "entityId", payload, actor, "createdAt", horizon,
              txid_snapshot_xmin(txid_current_snapshot()) AS xmin
       FROM "Event" WHERE id > $1 ORDER BY id LIMIT $2`,
      [String(position), batchSize],
    );
    let delivered = 0;
    for (const row of rows) {
      if (BigInt(row.horizon) > BigInt(row.xmin)) break;
      const event: EventRecord = {
        id: BigInt(row.id),
        workspaceId: row.workspaceId,
        topic: row.topic,
        type: row.type,
        entityId: row.entityId,
        payload: row.payload,
        actor: row.actor,
        createdAt: new Date(row.createdAt),
      };
      position = event.id;
      bus.publish(event);
      delivered++;
    }
    if (delivered < rows.length) {
      // The head waits for an older transaction: look again soon, not at the next poll.
      stalled = true;
      stalledSince ??= Date.now();
      if (Date.now() - stalledSince > 10_000) {
        log.warn({ waitingFor: String(rows[delivered]!.id) }, "event delivery waits for a long-running transaction");
        stalledSince = Date.now();
      }
    } else {
      stalledSince = undefined;
    }
    return delivered === batchSize;
  }

  async function run(): Promise<void> {
    do {
      again = false;
      stalled = false;
      try {
        while (!stopped && (await readOnce()));
      } catch (error) {
        if (!stopped) log.error({ err: error }, "reading the event log failed");
      }
    } while (again && !stopped);
    if (stalled && !stopped && !retryTimer) {
      retryTimer = setTimeout(() => {
        retryTimer = undefined;
        tailer.wake();
      }, Math.min(20, options.pollIntervalMs));
      retryTimer.unref();
    }
  }

  const tailer: EventTailer = {
    get position() {
      return position;
    },
    async start() {
      const [row] = await sql.query<{ position: bigint | string | null }>(
        `SELECT max(id) AS position FROM "Event" WHERE horizon <= txid_snapshot_xmin(txid_current_snapshot())`,
      );
      position = row?.position == null ? 0n : BigInt(row.position);
      options.nudges?.addEventListener(NUDGE_CHANNEL, onNudge);
      const tick = () => {
        if (stopped) return;
        tailer.wake();
        timer = setTimeout(tick, options.pollIntervalMs);
        timer.unref();
      };
      timer = setTimeout(tick, options.pollIntervalMs);
      timer.unref();
    },
    wake() {
      if (stopped) return;
      if (running) {
        again = true;
        return;
      }
      running = run().finally(() => (running = undefined));
    },
    notify() {
      tailer.wake();
      options.nudges?.dispatchEvent(new CustomEvent(NUDGE_CHANNEL, { detail: null }));
    },
    async drain() {
      // One full read that starts after this call.
      while (running) await running;
      tailer.wake();
      while (running) await running;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      clearTimeout(retryTimer);
      options.nudges?.removeEventListener(NUDGE_CHANNEL, onNudge);
      await running;
    },
  };
  return tailer;
}
