/**
 * Chat sessions with message history (seed 000), streamed live by sessionEvents instead of polled.
 *
 * Vocabulary
 * - session:  a conversation in a workspace, optionally about one swarm; OPEN until closed.
 * - message:  one turn (role SYSTEM, USER, ASSISTANT or TOOL; content; metadata); `seq` numbers
 *             a session's messages 1, 2, 3… in the order they were appended, without gaps.
 * - TTL:      an idle lifetime. A session with `ttlSeconds` expires that long after it was
 *             created or last appended to; expired sessions vanish from every read and the
 *             sweeper deletes them with their messages.
 *
 * Concurrency. An append locks the session row (`SELECT … FOR UPDATE`), so concurrent appends
 * to one session are serialized: each takes the next sequence numbers after the previous
 * append committed, and a session closed meanwhile refuses the append.
 */
import { z } from "zod";
import type { Db, PrismaClient } from "../../db/client.ts";
import { IllegalTransitionError, NotFoundError } from "../../errors.ts";
import { type Actor, recordEvent } from "../../events/eventLog.ts";
import type { Prisma, Session, SessionMessage } from "../../generated/prisma/client.ts";
import { jsonObjectRule, nameRule, parseInput } from "../../validation.ts";

/** Most messages one append takes. */
export const MAX_MESSAGES_PER_APPEND = 100;
const MAX_TTL_SECONDS = 365 * 24 * 3600;
const ROLES = ["SYSTEM", "USER", "ASSISTANT", "TOOL"] as const;

export interface SessionLimits {
  /** Largest message content in UTF-8 bytes (SESSION_MAX_MESSAGE_BYTES). */
  maxMessageBytes: number;
}

/** Live (not expired) sessions, for Prisma reads; `now` is this server's clock, which the database's is assumed to follow. */
export function liveSessionWhere(now = new Date()): { OR: Prisma.SessionWhereInput[] } {
  return { OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] };
}

const createSchema = z.object({
  label: nameRule,
  swarmId: z.string().nullish(),
  ttlSeconds: z.number().int("must be a whole number").min(1, "must be at least 1").max(MAX_TTL_SECONDS, "must be at most a year").nullish(),
});

/**
 * Opens a session.
 * @throws NotFoundError for an unknown swarm
 */
export async function createSession(db: PrismaClient, actor: Actor, input: z.input<typeof createSchema>): Promise<Session> {
  const valid = parseInput(createSchema, input);
  return db.$transaction(async (tx) => {
    if (valid.swarmId && !(await tx.swarm.findFirst({ where: { id: valid.swarmId, workspaceId: actor.workspaceId }, select: { id: true } }))) {
      throw new NotFoundError("Swarm", valid.swarmId);
    }
    const [now] = await tx.$queryRaw<{ at: Date; expires: Date | null }[]>`
      SELECT now() AS at, CASE WHEN ${valid.ttlSeconds ?? null}::int IS NULL THEN NULL ELSE now() + make_interval(secs => ${valid.ttlSeconds ?? null}::int) END AS expires`;
    const session = await tx.session.create({
      data: { workspaceId: actor.workspaceId, label: valid.label, swarmId: valid.swarmId ?? null, createdBy: actor.subject, ttlSeconds: valid.ttlSeconds ?? null, expiresAt: now!.expires },
    });
    await recordEvent(tx, actor, { topic: "session", type: "session.created", entityId: session.id, payload: { label: session.label, swarmId: session.swarmId } });
    return session;
  });
}

export interface MessageInput {
  role: (typeof ROLES)[number];
  content: string;
  metadata?: Record<string, unknown> | null;
}

const appendSchema = (limits: SessionLimits) =>
  z.object({
    messages: z
      .array(
        z.object({
          role: z.enum(ROLES, { message: `must be one of ${ROLES.join(", ")}` }),
          content: z.string().refine((c) => Buffer.byteLength(c) <= limits.maxMessageBytes, `must be at most ${limits.maxMessageBytes} bytes in UTF-8 (SESSION_MAX_MESSAGE_BYTES)`),
          metadata: jsonObjectRule.nullish(),
        }),
      )
      .min(1, "must hold at least one message")
      .max(MAX_MESSAGES_PER_APPEND, `at most ${MAX_MESSAGES_PER_APPEND} messages per call`),
  });

export interface AppendedMessages {
  session: Session;
  /** The appended messages, with their sequence numbers. */
  messages: SessionMessage[];
}

type LockedSession = Pick<Session, "id" | "status" | "messageCount" | "ttlSeconds"> & { expired: boolean };

/** Locks a live session of the workspace. @throws NotFoundError when there is none */
async function lockSession(tx: Db, actor: Actor, id: string): Promise<LockedSession> {
  const [row] = await tx.$queryRaw<LockedSession[]>`
    SELECT id, status::text AS status, "messageCount", "ttlSeconds", ("expiresAt" IS NOT NULL AND "expiresAt" <= now()) AS expired
    FROM "Session" WHERE id = ${id} AND "workspaceId" = ${actor.workspaceId} FOR UPDATE`;
  if (!row || row.expired) throw new NotFoundError("Session", id);
  return row;
}

/**
 * Appends messages to an OPEN session, in the given order, after every message appended before;
 * moves an idle expiry forward. One session.message event per message.
 * @throws NotFoundError when the session does not exist (or expired)
 * @throws IllegalTransitionError when it is CLOSED
 */
export async function appendMessages(db: PrismaClient, actor: Actor, sessionId: string, messages: readonly MessageInput[], limits: SessionLimits): Promise<AppendedMessages> {
  const valid = parseInput(appendSchema(limits), { messages });
  return db.$transaction(async (tx) => {
    const session = await lockSession(tx, actor, sessionId);
    if (session.status !== "OPEN") throw new IllegalTransitionError("Session", sessionId, session.status, "appendMessages", ["OPEN"]);
    const created = await tx.sessionMessage.createManyAndReturn({
      data: valid.messages.map((m, i) => ({
        workspaceId: actor.workspaceId,
        sessionId,
        seq: session.messageCount + i + 1,
        role: m.role,
        content: m.content,
        metadata: (m.metadata ?? {}) as Prisma.InputJsonObject,
        author: actor.subject,
      })),
    });
    created.sort((a, b) => a.seq - b.seq);
    const ttl = session.ttlSeconds;
    await tx.$executeRaw`
      UPDATE "Session" SET "messageCount" = "messageCount" + ${created.length}, "lastMessageAt" = now(), "updatedAt" = now(),
        "expiresAt" = CASE WHEN ${ttl}::int IS NULL THEN NULL ELSE now() + make_interval(secs => ${ttl}::int) END
      WHERE id = ${sessionId}`;
    for (const message of created) {
      await recordEvent(tx, actor, { topic: "session", type: "session.message", entityId: sessionId, payload: { seq: message.seq, role: message.role } });
    }
    return { session: (await tx.session.findUnique({ where: { id: sessionId } }))!, messages: created };
  });
}

/**
 * Closes an OPEN session: it keeps its history and takes no more messages.
 * @throws NotFoundError, IllegalTransitionError (already CLOSED)
 */
export async function closeSession(db: PrismaClient, actor: Actor, sessionId: string): Promise<Session> {
  return db.$transaction(async (tx) => {
    const session = await lockSession(tx, actor, sessionId);
    if (session.status !== "OPEN") throw new IllegalTransitionError("Session", sessionId, session.status, "closeSession", ["OPEN"]);
    const closed = await tx.session.update({ where: { id: sessionId }, data: { status: "CLOSED", closedAt: new Date(), closedBy: actor.subject } });
    await recordEvent(tx, actor, { topic: "session", type: "session.closed", entityId: sessionId, payload: { messageCount: closed.messageCount } });
    return closed;
  });
}

/** Whether a live session with this id exists in the workspace (sessionEvents checks before it streams). */
export async function sessionExists(db: Db, workspaceId: string, id: string): Promise<boolean> {
  return (await db.session.count({ where: { id, workspaceId, ...liveSessionWhere() } })) > 0;
}

/** Deletes expired sessions with their messages (the sweeper), each with a session.expired event. */
export async function sweepExpiredSessions(db: PrismaClient, batchSize = 200): Promise<number> {
  let total = 0;
  for (;;) {
    const swept = await db.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<{ id: string; workspaceId: string; messageCount: number }[]>`
        DELETE FROM "Session" s WHERE s.id IN (
          SELECT x.id FROM "Session" x WHERE x."expiresAt" <= now() ORDER BY x."expiresAt" LIMIT ${batchSize} FOR UPDATE SKIP LOCKED)
        RETURNING s.id, s."workspaceId", s."messageCount"`;
      for (const row of rows) {
        await recordEvent(tx, { workspaceId: row.workspaceId, subject: "system" }, { topic: "session", type: "session.expired", entityId: row.id, payload: { messageCount: row.messageCount } });
      }
      return rows.length;
    });
    total += swept;
    if (swept < batchSize) return total;
  }
}
