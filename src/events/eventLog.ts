/**
 * The durable event log (an outbox). Every state change calls {@link recordEvent} with the
 * transaction that makes the change, so an event exists if and only if its change committed.
 * Subscriptions (a later module) replay it by id and continue live.
 */
import type { Db } from "../db/client.ts";
import type { Prisma } from "../generated/prisma/client.ts";

/** Who performs a change, and in which workspace. Every service function receives one. */
export interface Actor {
  workspaceId: string;
  /** Token subject, or "system" for the server's own housekeeping. */
  subject: string;
}

/** Topics group event types the way subscription fields consume them. */
export type EventTopic = "agent" | "swarm" | "task" | "quota" | "finding" | "conflict";

export interface EventInput {
  topic: EventTopic;
  /** `<topic>.<what happened>`, e.g. "agent.paused". */
  type: `${EventTopic}.${string}`;
  entityId: string;
  payload?: Prisma.InputJsonObject;
}

export async function recordEvent(db: Db, actor: Actor, event: EventInput): Promise<void> {
  await db.event.create({
    data: {
      workspaceId: actor.workspaceId,
      topic: event.topic,
      type: event.type,
      entityId: event.entityId,
      payload: event.payload ?? {},
      actor: actor.subject,
    },
  });
}
