/**
 * The durable event log. Every state change calls {@link recordEvent} with the transaction that
 * makes the change, so an event exists if and only if its change committed. The sequencer then
 * gives it its log position in commit order (src/events/sequencer.ts); subscriptions replay the
 * log by position and continue live (src/events/tailer.ts, src/events/stream.ts).
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
  memory: true;
  context: true;
  session: true;
  /** API keys, service accounts, device authorizations: issuance, approval, rotation, revocation (never a secret). */
  identity: true;
  webhook: true;
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
 * Writes one event in the caller's transaction, as a pending event: it gets its log position
 * (its cursor) from the sequencer once the transaction has committed. `tx` must be the
 * transaction that makes the change, never the root client, or the event could outlive a
 * change that rolls back.
 */
export async function recordEvent(tx: Db, actor: Actor, event: EventInput): Promise<void> {
  await recordEvents(tx, actor, [event]);
}

/**
 * {@link recordEvent} for several events in one INSERT (no RETURNING). They take log positions
 * in the order given: the rows of one multi-row VALUES list are inserted, and take their serial
 * ids, in list order.
 */
export async function recordEvents(tx: Db, actor: Actor, events: readonly EventInput[]): Promise<void> {
  if (events.length === 0) return;
  await tx.pendingEvent.createMany({
    data: events.map((event) => ({ workspaceId: actor.workspaceId, topic: event.topic, type: event.type, entityId: event.entityId, payload: event.payload ?? {}, actor: actor.subject })),
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
