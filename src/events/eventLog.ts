/**
 * The durable event log (an outbox). Every state change calls {@link recordEvent} with the
 * transaction that makes the change, so an event exists if and only if its change committed.
 * Subscriptions replay it by id and continue live (src/events/tailer.ts, src/events/stream.ts).
 */
import type { Db } from "../db/client.ts";
import type { Prisma } from "../generated/prisma/client.ts";

/** Who performs a change, and in which workspace. Every service function receives one. */
export interface Actor {
  workspaceId: string;
  /** Token subject, or "system" for the server's own housekeeping. */
  subject: string;
}

/**
 * The topics, as an interface so that a module adding one (findings, quotas…) declares it in
 * its own file: `declare module "../../events/eventLog.ts" { interface EventTopics { finding: true } }`.
 */
export interface EventTopics {
  agent: true;
  swarm: true;
  task: true;
  quota: true;
  finding: true;
  conflict: true;
  token: true;
}

/** Topics group event types the way subscription fields consume them. */
export type EventTopic = keyof EventTopics & string;

export interface EventInput {
  topic: EventTopic;
  /** `<topic>.<what happened>`, e.g. "agent.paused". */
  type: `${EventTopic}.${string}`;
  entityId: string;
  payload?: Prisma.InputJsonObject;
}

/**
 * Writes one event in the caller's transaction. The id is drawn first, in a statement that
 * makes sure the transaction already holds a transaction id; the INSERT that follows then
 * stamps the row's delivery `horizon` from a snapshot taken after the id was drawn. Together
 * they let the tailer deliver ids in order without skipping one that commits late. `tx` must be
 * an interactive transaction (both statements in it), never the root client.
 */
export async function recordEvent(tx: Db, actor: Actor, event: EventInput): Promise<void> {
  const db = tx;
  // OFFSET 0 keeps the subquery (which assigns the xid) a separate step evaluated before nextval.
  const [row] = await db.$queryRaw<{ id: bigint }[]>`
    SELECT nextval(pg_get_serial_sequence('"Event"', 'id')) AS id FROM (SELECT txid_current() OFFSET 0) AS xact`;
  await db.event.create({
    data: {
      id: row!.id,
      workspaceId: actor.workspaceId,
      topic: event.topic,
      type: event.type,
      entityId: event.entityId,
      payload: event.payload ?? {},
      actor: actor.subject,
    },
  });
}

/**
 * Deletes events recorded before `cutoff` (the retention window), in batches so that no single
 * statement holds many locks. Returns how many were deleted.
 */
export async function deleteEventsBefore(db: Db, cutoff: Date, batchSize = 5_000): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await db.$executeRaw`
      DELETE FROM "Event" WHERE id IN (SELECT id FROM "Event" WHERE "createdAt" < ${cutoff} ORDER BY id LIMIT ${batchSize})`;
    total += deleted;
    if (deleted < batchSize) return total;
  }
}
