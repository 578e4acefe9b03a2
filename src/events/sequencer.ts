/**
 * The sequencer: gives committed events their position in the log, in commit order.
 *
 * Why not order by an id drawn at insert. PostgreSQL hands out sequence values and transaction
 * ids in one order and makes commits visible in another. A reader that delivers `id > last`
 * can see id 6 while id 5 is still uncommitted and skip 5 for good; and no snapshot function
 * tells a reader the first transaction id not yet assigned (`pg_snapshot_xmax` is one past the
 * latest *completed* one; transactions with larger ids may be running), so "wait until every
 * older writer ended" cannot be computed from an insert-time stamp. Ordering by the writer's
 * xid8 and delivering below `pg_snapshot_xmin` is gap-free, but not causal: a transaction that
 * took its xid early and then waited on a row lock held by a later xid commits after it, so
 * "task.completed" could reach clients before the "task.claimed" it depends on.
 *
 * The design. Writers insert into PendingEvent inside the transaction that makes the change
 * (an outbox; `recordEvent`) and hold no shared lock. The SQL function
 * `swarmgraph_sequence_events` (migration `event_log_sequencer`) then, in one short
 * transaction of its own:
 *   1. takes a transaction-scoped advisory lock, so sequencing runs one at a time cluster-wide;
 *   2. with a snapshot taken after the lock (plpgsql, VOLATILE, READ COMMITTED: each statement
 *      takes a fresh one), moves the visible pending rows into Event, numbering them from the
 *      head on in PendingEvent id order, and advances the one-row EventLogHead.
 * What this guarantees, from what PostgreSQL documents:
 *   - Dense and final. Positions are assigned inside the sequencing transaction from a counter
 *     row it updates; a rolled-back run assigns nothing. A run holds the lock until after its
 *     commit is visible (PostgreSQL releases locks after marking the transaction committed),
 *     and the next run reads the head after acquiring it. So a reader that sees position p sees
 *     every position below p: readers may deliver `id > last` in id order with no horizon.
 *   - Nothing skipped. An event is sequenced by the first run whose snapshot sees its writer
 *     committed, and every later reader sees it at its position; an aborted writer's row never
 *     becomes visible and never gets a position.
 *   - Commit (causal) order. If transaction B waited for a row lock held by A, B commits after
 *     A, and any snapshot that sees B committed also sees A: A's events get positions no later
 *     than B's. Within one run, PendingEvent ids break ties; B drew its ids after A committed,
 *     from a sequence with CACHE 1 (monotonic across sessions), so A's come first.
 * The cost: one extra statement per batch of events (not per event), and a delivery latency of
 * one sequencing run after commit. Writers never wait for the lock; runs contend only with
 * each other, for the length of one INSERT … SELECT. On PGlite (one connection) all of this
 * holds trivially.
 *
 * Who runs it: every replica's tailer before each read, and readers that must see their own
 * writes (audit trail, the head query) before reading. A run with nothing pending returns at
 * once without taking the lock: "nothing visible is pending" means every event committed before
 * the call is already in Event.
 */
import type { SqlRunner } from "../db/sql.ts";

/** Most pending events moved by one run (a run with more pending leaves the rest to the next). */
export const SEQUENCE_BATCH = 1_000;

interface SequenceRow {
  head: bigint | string;
  moved: bigint | string;
}

/**
 * One sequencing run: gives log positions to the events committed before the call (up to
 * `batch` of them). Returns the log's head (the newest position) and how many it moved.
 */
export async function sequenceEvents(sql: Pick<SqlRunner, "query">, batch = SEQUENCE_BATCH): Promise<{ head: bigint; moved: number }> {
  const [row] = await sql.query<SequenceRow>(`SELECT head, moved FROM "swarmgraph_sequence_events"($1)`, [batch]);
  return { head: BigInt(row!.head), moved: Number(row!.moved) };
}

/** Runs the sequencer until every event committed before the call has its position; returns the head. */
export async function settleEvents(sql: Pick<SqlRunner, "query">): Promise<bigint> {
  for (;;) {
    const { head, moved } = await sequenceEvents(sql);
    if (moved < SEQUENCE_BATCH) return head;
  }
}

/** Events moved out of PendingEvent between two vacuums of it. */
export const OUTBOX_VACUUM_EVERY = 2_000;

/**
 * Keeps PendingEvent small. Every event passes through it (inserted by a writer, deleted by the
 * sequencer), so it is all dead rows but for the few in flight; and every sequencing run starts
 * with "is anything pending?", a scan that reads every page of the table, dead rows included.
 * Autovacuum visits a table at most once a minute (autovacuum_naptime) and not at all where it
 * is off: at a few hundred events a second the table grew to tens of thousands of dead rows and
 * the check alone took 2 ms of every run. So the replica that moved events vacuums the table
 * itself after every {@link OUTBOX_VACUUM_EVERY} of them: a plain VACUUM of a table this small
 * takes about a millisecond, blocks no reader or writer, and (SKIP_LOCKED) skips a run rather
 * than wait when another session holds a conflicting lock. A role that does not own the table
 * gets a warning from PostgreSQL, not an error; a failure is logged and retried later.
 */
export function createOutboxVacuum(sql: Pick<SqlRunner, "exec">, onError: (error: unknown) => void): { moved(count: number): void } {
  let since = 0;
  let running = false;
  return {
    moved(count) {
      since += count;
      if (since < OUTBOX_VACUUM_EVERY || running) return;
      since = 0;
      running = true;
      sql
        .exec(`VACUUM (SKIP_LOCKED) "PendingEvent"`)
        .catch(onError)
        .finally(() => (running = false));
    },
  };
}
