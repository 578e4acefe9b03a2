/**
 * The event tailer: each server process reads the log in position order and publishes every
 * event to its in-process bus. Several replicas on one PostgreSQL database each tail the log
 * themselves, so every replica sees every event exactly once, in order, whatever replica
 * committed it; Redis (REDIS_URL) only carries a "new events" nudge so that replicas wake at
 * once instead of at their next poll.
 *
 * Each read first runs the sequencer (src/events/sequencer.ts), which gives committed events
 * their positions in commit order; positions are dense and final once visible, so the tailer
 * simply delivers `id > position` (up to the head that run returned) in id order and can never
 * skip one. A replica whose nudge arrives while another replica is sequencing waits for that
 * run's lock, and so reads its result. The start position is the log's head after one
 * sequencing run: every event committed before the start is history (replayed by `after`),
 * every later one is delivered live.
 */
import type { SqlRunner } from "../db/sql.ts";
import type { Logger } from "../logger.ts";
import type { EventBus, EventRecord } from "./bus.ts";
import { createOutboxVacuum, SEQUENCE_BATCH, sequenceEvents, settleEvents } from "./sequencer.ts";

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
  /** Sequences every event committed before the call and returns the log's head (read-your-writes for log readers). */
  settle(): Promise<bigint>;
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

/**
 * The tailer's read: $1 the position, $2 the batch size, $3 the head the sequencer just returned.
 * The head bound changes no result (every position up to it is visible, none above it was
 * sequenced before the read began; later ones come with their own nudge or poll), but it makes
 * the condition a range closed on both sides, which the planner estimates as narrow whatever it
 * knows of the table, so the read walks Event_pkey from the position. With `id > $1` alone, an
 * Event table never analyzed and still small (up to a few thousand events: every new
 * database) was scanned and sorted whole on a third of the reads, measured with auto_explain in
 * the bench (162 rows read per claim + complete cycle).
 */
export const READ_EVENTS_SQL = `SELECT id, "workspaceId", topic, type, "entityId", payload, actor, "createdAt"
  FROM "Event" WHERE id > $1 AND id <= $3 ORDER BY id LIMIT $2`;

/** A log row as the raw driver returns it (bigints may arrive as strings). */
interface TailRow extends Omit<EventRecord, "id"> {
  id: bigint | string;
}

export function createEventTailer(options: TailerOptions): EventTailer {
  const { sql, bus, log } = options;
  const batchSize = options.batchSize ?? 500;
  let position = 0n;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  const onNudge = () => tailer.wake();
  const outbox = createOutboxVacuum(sql, (error) => log.warn({ err: error }, "could not vacuum PendingEvent (retried after the next events)"));

  /** Sequences, then publishes one batch; true when a full batch was read (read again at once). */
  async function readOnce(): Promise<boolean> {
    const { head, moved } = await sequenceEvents(sql);
    if (moved > 0) outbox.moved(moved);
    if (head <= position) return false;
    const rows = await sql.query<TailRow>(READ_EVENTS_SQL, [String(position), batchSize, String(head)]);
    for (const row of rows) {
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
    }
    return rows.length === batchSize || moved === SEQUENCE_BATCH;
  }

  async function run(): Promise<void> {
    do {
      again = false;
      try {
        while (!stopped && (await readOnce()));
      } catch (error) {
        if (!stopped) log.error({ err: error }, "reading the event log failed");
      }
    } while (again && !stopped);
  }

  const tailer: EventTailer = {
    get position() {
      return position;
    },
    async start() {
      position = await settleEvents(sql);
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
    settle() {
      return settleEvents(sql);
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
      options.nudges?.removeEventListener(NUDGE_CHANNEL, onNudge);
      await running;
    },
  };
  return tailer;
}
