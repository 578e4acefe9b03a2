/**
 * Findings and the conflicts between them: posting (with conflict detection), validation,
 * retraction, and conflict resolution. Every change runs in one transaction with its events.
 *
 * Vocabulary
 * - subject:  what a finding is about, as a normalized key (trimmed, lowercased, inner whitespace
 *             collapsed to single spaces), e.g. "redis persistence".
 * - position: the finding's short answer on its subject, normalized the same way, e.g. "aof".
 * - active:   a finding that is not RETRACTED.
 * - conflict: two active findings of one workspace on the same subject whose positions differ.
 *
 * Detection rule (deterministic). A posted finding conflicts with every active finding of the
 * workspace that has the same subject and a different position: one Conflict per such finding,
 * `findingA` the earlier finding, `findingB` the new one. Equal positions agree (no conflict);
 * retracted (and rejected) findings never conflict. Both findings of a new conflict become
 * DISPUTED. With `rejectOnConflict` a contradicting post is refused: the finding is kept as
 * REJECTED (never active), its conflicts are recorded OPEN (events `finding.rejected` and
 * `conflict.detected` with `refused: true`) so the escalation they recommend is traceable, the
 * contradicted findings are left as they were, and the call fails with ConflictDetectedError
 * naming the refused finding and the conflicts.
 *
 * Escalation rule. `confidenceDelta` = |a − b| rounded to 2 decimals. Escalation is recommended
 * when the delta is ≥ 0.30 (one side is much surer: check the weaker evidence) or when both
 * confidences are ≥ 0.80 (two confident sources disagree: a person must decide).
 *
 * Statuses. A finding starts UNVERIFIED (DISPUTED when it conflicts on arrival). validateFinding
 * sets VERIFIED or DISPUTED (a verdict on the finding alone: it does not close conflicts).
 * Resolving a conflict with a winner makes the winner VERIFIED and leaves the loser DISPUTED;
 * dismissing a conflict changes neither finding. RETRACTED is final, and retracting a finding
 * dismisses its open conflicts.
 *
 * Concurrency. Every change to the findings of one subject (post, validate, retract, resolve)
 * first takes a transaction-scoped advisory lock on (workspace, subject), before it reads. Two
 * contradicting findings posted at the same moment are therefore serialized: the second sees the
 * first and records the conflict. The same lock orders retractions against posts, so a finding
 * being retracted is never put into a new conflict.
 */
import { z } from "zod";
import type { Db, PrismaClient } from "../../db/client.ts";
import { advisoryXactLock, lockForTransition } from "../../db/locks.ts";
import { type ConflictCandidate, ConflictDetectedError, InvalidInputError, NotFoundError } from "../../errors.ts";
import { type Actor, recordEvent } from "../../events/eventLog.ts";
import type { Conflict, Finding, FindingStatus } from "../../generated/prisma/client.ts";
import { labelListRule, longTextRule, parseInput } from "../../validation.ts";

/** A delta at least this large recommends escalation. */
export const ESCALATION_DELTA = 0.3;
/** Two confidences both at least this high recommend escalation, whatever the delta. */
export const HIGH_CONFIDENCE = 0.8;
/** Longest subject and position, after normalization. */
export const MAX_KEY_LENGTH = 200;

const ACTIVE: readonly FindingStatus[] = ["UNVERIFIED", "VERIFIED", "DISPUTED"];
/** Advisory-lock namespace of "the findings on one subject" (see src/db/locks.ts). */
const SUBJECT_LOCK_NAMESPACE = 72_000_002;

/** Trims, lowercases and collapses inner whitespace: the form subjects and positions are compared in. */
export function normalizeKey(value: string): string {
  return value.trim().toLowerCase().replace(/\s+/g, " ");
}

/** |a − b| rounded to 2 decimals. */
export function confidenceDelta(a: number, b: number): number {
  return Math.round(Math.abs(a - b) * 100) / 100;
}

/**
 * Assesses the conflict between an active finding `a` and a new finding `b` on `subject`: the
 * figures a Conflict is recorded with (the escalation rule: delta ≥ 0.30, or both confidences
 * ≥ 0.80), and notes saying why, e.g. "positions differ on subject
 * redis persistence: 'aof' (0.92) vs 'rdb' (0.57); delta 0.35 ≥ 0.30 → escalate".
 */
export function assessConflict(
  subject: string,
  a: Pick<Finding, "id" | "claim" | "position" | "confidence">,
  b: Pick<Finding, "position" | "confidence">,
): ConflictCandidate {
  const delta = confidenceDelta(a.confidence, b.confidence);
  const wide = delta >= ESCALATION_DELTA;
  const bothHigh = a.confidence >= HIGH_CONFIDENCE && b.confidence >= HIGH_CONFIDENCE;
  const reasons = [wide ? `delta ${delta.toFixed(2)} ≥ ${ESCALATION_DELTA.toFixed(2)}` : null, bothHigh ? `both confidences ≥ ${HIGH_CONFIDENCE.toFixed(2)}` : null].filter(Boolean);
  const verdict =
    reasons.length > 0
      ? `${reasons.join(" and ")} → escalate`
      : `delta ${delta.toFixed(2)} < ${ESCALATION_DELTA.toFixed(2)} and not both ≥ ${HIGH_CONFIDENCE.toFixed(2)} → no escalation`;
  return {
    findingId: a.id,
    claim: a.claim,
    position: a.position,
    confidence: a.confidence,
    confidenceDelta: delta,
    escalationRecommended: reasons.length > 0,
    notes: `positions differ on subject ${subject}: '${a.position}' (${a.confidence}) vs '${b.position}' (${b.confidence}); ${verdict}`,
  };
}

// ── input rules ─────────────────────────────────────────────────────────────────────────────

const keyRule = z
  .string()
  .transform(normalizeKey)
  .pipe(z.string().min(1, "must not be empty").max(MAX_KEY_LENGTH, `must be at most ${MAX_KEY_LENGTH} characters`));

const CITATION_RULE = "must be an https:// URL, an if:// URI, or file:<path>:<line> with a positive line number";

/** `https://host/…`, `if://…`, or `file:<path>:<line>` with a positive line. */
export function isValidCitation(citation: string): boolean {
  if (/\s/.test(citation)) return false;
  if (citation.startsWith("https://")) {
    try {
      return new URL(citation).hostname.length > 0;
    } catch {
      return false;
    }
  }
  if (citation.startsWith("if://")) return citation.length > "if://".length;
  return /^file:.+:[1-9]\d*$/.test(citation);
}

const citationRule = z.string().trim().max(2000, "must be at most 2000 characters").refine(isValidCitation, CITATION_RULE);

const confidenceRule = z.number().min(0, "must be between 0 and 1").max(1, "must be between 0 and 1");

const postFindingSchema = z.object({
  claim: longTextRule,
  subject: keyRule,
  position: keyRule,
  confidence: confidenceRule,
  citations: z.array(citationRule).max(100, "at most 100 entries").default([]),
  tags: labelListRule.default([]),
  taskId: z.string().nullish(),
  agentId: z.string().nullish(),
  swarmId: z.string().nullish(),
  rejectOnConflict: z.boolean().default(false),
});
export type PostFindingInput = z.input<typeof postFindingSchema>;

const validateFindingSchema = z.object({ verdict: z.enum(["VERIFY", "DISPUTE"]), reason: longTextRule });
export type ValidateFindingInput = z.input<typeof validateFindingSchema>;

const resolveConflictSchema = z
  .object({ winningFindingId: z.string().nullish(), dismiss: z.boolean().default(false), notes: longTextRule })
  .refine((v) => (v.winningFindingId != null) !== v.dismiss, {
    path: ["winningFindingId"],
    message: "give either winningFindingId or dismiss: true (exactly one)",
  });
export type ResolveConflictInput = z.input<typeof resolveConflictSchema>;

// ── changes ─────────────────────────────────────────────────────────────────────────────────

export interface PostedFinding {
  finding: Finding;
  /** The conflicts the post revealed (one per contradicted active finding), oldest finding first. */
  conflicts: Conflict[];
}

/**
 * Posts a finding and records its conflicts (see the detection and escalation rules above).
 * @throws NotFoundError when the task, agent or swarm is not in the workspace
 * @throws ConflictDetectedError with `rejectOnConflict` when it contradicts active findings (after
 *   committing the REJECTED finding and its conflicts)
 */
export async function postFinding(db: PrismaClient, actor: Actor, input: PostFindingInput): Promise<PostedFinding> {
  const valid = parseInput(postFindingSchema, input);
  const { candidates, ...posted } = await db.$transaction(async (tx) => {
    await checkReferences(tx, actor, valid);
    await lockSubject(tx, actor, valid.subject);
    const active = await tx.finding.findMany({
      where: { workspaceId: actor.workspaceId, subject: valid.subject, status: { in: [...ACTIVE] } },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    });
    const contradicted = active.filter((f) => f.position !== valid.position);
    const candidates = contradicted.map((f) => assessConflict(valid.subject, f, valid));
    const refused = candidates.length > 0 && valid.rejectOnConflict;

    const finding = await tx.finding.create({
      data: {
        workspaceId: actor.workspaceId,
        claim: valid.claim,
        subject: valid.subject,
        position: valid.position,
        confidence: valid.confidence,
        citations: [...new Set(valid.citations)],
        tags: [...new Set(valid.tags.map((t) => t.trim()))].sort(),
        taskId: valid.taskId ?? null,
        agentId: valid.agentId ?? null,
        swarmId: valid.swarmId ?? null,
        status: refused ? "REJECTED" : candidates.length > 0 ? "DISPUTED" : "UNVERIFIED",
        postedBy: actor.subject,
      },
    });
    await recordEvent(tx, actor, {
      topic: "finding",
      type: refused ? "finding.rejected" : "finding.posted",
      entityId: finding.id,
      payload: { subject: finding.subject, position: finding.position, confidence: finding.confidence, status: finding.status, conflicts: candidates.length },
    });

    const conflicts: Conflict[] = [];
    for (const [i, existing] of contradicted.entries()) {
      const candidate = candidates[i]!;
      const conflict = await tx.conflict.create({
        data: {
          workspaceId: actor.workspaceId,
          subject: valid.subject,
          findingAId: existing.id,
          findingBId: finding.id,
          confidenceDelta: candidate.confidenceDelta,
          escalationRecommended: candidate.escalationRecommended,
          notes: candidate.notes,
        },
      });
      conflicts.push(conflict);
      await recordEvent(tx, actor, {
        topic: "conflict",
        type: "conflict.detected",
        entityId: conflict.id,
        payload: {
          subject: conflict.subject,
          findingAId: existing.id,
          findingBId: finding.id,
          positions: [existing.position, finding.position],
          confidences: [existing.confidence, finding.confidence],
          confidenceDelta: conflict.confidenceDelta,
          escalationRecommended: conflict.escalationRecommended,
          notes: conflict.notes,
          refused,
        },
      });
      // A refused post leaves the findings it contradicted as they were.
      if (!refused) await setStatus(tx, actor, existing, "DISPUTED", "finding.disputed", { conflictId: conflict.id });
    }
    return { finding, conflicts, candidates };
  });
  if (posted.finding.status === "REJECTED") {
    // Committed: the refused finding and its conflicts stay on record for escalation.
    throw new ConflictDetectedError(valid.subject, valid.position, valid.confidence, candidates, posted.finding.id, posted.conflicts.map((c) => c.id));
  }
  return posted;
}

/**
 * A reviewer's verdict: VERIFY → VERIFIED, DISPUTE → DISPUTED, with who, why and when kept as
 * the finding's validation. Allowed while the finding is active; it does not close conflicts.
 * @throws NotFoundError, IllegalTransitionError (RETRACTED)
 */
export async function validateFinding(db: PrismaClient, actor: Actor, id: string, input: ValidateFindingInput): Promise<Finding> {
  const valid = parseInput(validateFindingSchema, input);
  return db.$transaction(async (tx) => {
    const before = await lockFinding(tx, actor, id, "validate");
    const to: FindingStatus = valid.verdict === "VERIFY" ? "VERIFIED" : "DISPUTED";
    const finding = await tx.finding.update({
      where: { id },
      data: { status: to, validationVerdict: valid.verdict, validatedBy: actor.subject, validationReason: valid.reason, validatedAt: new Date() },
    });
    await recordEvent(tx, actor, { topic: "finding", type: "finding.validated", entityId: id, payload: { verdict: valid.verdict, reason: valid.reason, from: before.status, to } });
    return finding;
  });
}

/**
 * Retracts a finding for good (it stays readable) and dismisses its open conflicts.
 * @throws NotFoundError, IllegalTransitionError (already RETRACTED)
 */
export async function retractFinding(db: PrismaClient, actor: Actor, id: string, reasonInput: string): Promise<Finding> {
  const reason = parseInput(longTextRule, reasonInput, "input.reason");
  return db.$transaction(async (tx) => {
    const before = await lockFinding(tx, actor, id, "retract");
    const now = new Date();
    const finding = await tx.finding.update({ where: { id }, data: { status: "RETRACTED", retractedBy: actor.subject, retractionReason: reason, retractedAt: now } });
    await recordEvent(tx, actor, { topic: "finding", type: "finding.retracted", entityId: id, payload: { reason, from: before.status } });
    const open = await tx.conflict.findMany({ where: { status: "OPEN", OR: [{ findingAId: id }, { findingBId: id }] }, select: { id: true } });
    for (const { id: conflictId } of open) {
      const notes = `dismissed: finding ${id} was retracted (${reason})`;
      await tx.conflict.update({ where: { id: conflictId }, data: { status: "DISMISSED", resolutionNotes: notes, resolvedBy: actor.subject, resolvedAt: now } });
      await recordEvent(tx, actor, { topic: "conflict", type: "conflict.dismissed", entityId: conflictId, payload: { notes, retractedFindingId: id } });
    }
    return finding;
  });
}

/**
 * Closes an OPEN conflict: with a winner (RESOLVED; the winner becomes VERIFIED with the notes as
 * its validation, the loser stays DISPUTED), or dismissed (DISMISSED; both findings unchanged).
 * @throws NotFoundError, IllegalTransitionError (not OPEN), InvalidInputError (winner not in the conflict)
 */
export async function resolveConflict(db: PrismaClient, actor: Actor, conflictId: string, input: ResolveConflictInput): Promise<Conflict> {
  const valid = parseInput(resolveConflictSchema, input);
  return db.$transaction(async (tx) => {
    const found = await tx.conflict.findFirst({ where: { id: conflictId, workspaceId: actor.workspaceId }, select: { subject: true } });
    if (!found) throw new NotFoundError("Conflict", conflictId);
    await lockSubject(tx, actor, found.subject);
    await lockForTransition(tx, { table: "Conflict", id: conflictId, workspaceId: actor.workspaceId }, valid.dismiss ? "dismiss" : "resolve", ["OPEN"]);
    const conflict = await tx.conflict.findUniqueOrThrow({ where: { id: conflictId } });
    const closed = { resolutionNotes: valid.notes, resolvedBy: actor.subject, resolvedAt: new Date() };

    if (valid.dismiss) {
      const dismissed = await tx.conflict.update({ where: { id: conflictId }, data: { status: "DISMISSED", ...closed } });
      await recordEvent(tx, actor, { topic: "conflict", type: "conflict.dismissed", entityId: conflictId, payload: { notes: valid.notes } });
      return dismissed;
    }

    const winnerId = valid.winningFindingId!;
    if (winnerId !== conflict.findingAId && winnerId !== conflict.findingBId) {
      throw new InvalidInputError([{ path: "input.winningFindingId", message: "must be one of the conflict's two findings (findingA or findingB)" }]);
    }
    const loserId = winnerId === conflict.findingAId ? conflict.findingBId : conflict.findingAId;
    const winnerStatus = await tx.finding.findUniqueOrThrow({ where: { id: winnerId }, select: { status: true } });
    if (winnerStatus.status === "REJECTED") {
      throw new InvalidInputError([{ path: "input.winningFindingId", message: "is a REJECTED finding (refused by rejectOnConflict): it cannot win; post its position again without rejectOnConflict, or dismiss the conflict" }]);
    }
    const resolved = await tx.conflict.update({ where: { id: conflictId }, data: { status: "RESOLVED", winningFindingId: winnerId, ...closed } });
    await recordEvent(tx, actor, { topic: "conflict", type: "conflict.resolved", entityId: conflictId, payload: { winningFindingId: winnerId, losingFindingId: loserId, notes: valid.notes } });

    const winner = await tx.finding.findUniqueOrThrow({ where: { id: winnerId }, select: { status: true } });
    await tx.finding.update({
      where: { id: winnerId },
      data: { status: "VERIFIED", validationVerdict: "VERIFY", validatedBy: actor.subject, validationReason: `won conflict ${conflictId}: ${valid.notes}`, validatedAt: closed.resolvedAt },
    });
    await recordEvent(tx, actor, { topic: "finding", type: "finding.verified", entityId: winnerId, payload: { from: winner.status, to: "VERIFIED", conflictId } });
    // Normally DISPUTED since the conflict was detected; a reviewer may have verified it since.
    // A REJECTED loser (a refused post) stays REJECTED: it never becomes active.
    const loser = await tx.finding.findUniqueOrThrow({ where: { id: loserId } });
    if (loser.status !== "REJECTED") await setStatus(tx, actor, loser, "DISPUTED", "finding.disputed", { conflictId });
    return resolved;
  });
}

// ── reads ───────────────────────────────────────────────────────────────────────────────────

/**
 * Ids of the workspace's findings whose claim matches `text`, a web-search style query
 * (`redis "append only" -cluster`), with PostgreSQL full-text search over the generated
 * `searchVector` column (to_tsvector('english', claim), GIN-indexed).
 */
export async function findingIdsMatching(db: Db, workspaceId: string, text: string, maxLength: number): Promise<string[]> {
  // PostgreSQL parses the query recursively: a long one overflows the embedded database's stack.
  if (text.length > maxLength) throw new InvalidInputError([{ path: "filter.text", message: `must be at most ${maxLength} characters (MAX_SEARCH_TEXT_LENGTH)` }]);
  const rows = await db.$queryRaw<{ id: string }[]>`
    SELECT id FROM "Finding"
    WHERE "workspaceId" = ${workspaceId} AND "searchVector" @@ websearch_to_tsquery('english', ${text})`;
  return rows.map((r) => r.id);
}

/** The conflicts each finding is part of (as A or B), oldest first, for many findings in one query. */
export async function conflictsOfFindings(db: Db, workspaceId: string, findingIds: readonly string[]): Promise<Map<string, Conflict[]>> {
  const conflicts = await db.conflict.findMany({
    where: { workspaceId, OR: [{ findingAId: { in: [...findingIds] } }, { findingBId: { in: [...findingIds] } }] },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
  });
  const byFinding = new Map<string, Conflict[]>(findingIds.map((id) => [id, []]));
  for (const conflict of conflicts) {
    byFinding.get(conflict.findingAId)?.push(conflict);
    byFinding.get(conflict.findingBId)?.push(conflict);
  }
  return byFinding;
}

// ── internals ───────────────────────────────────────────────────────────────────────────────

/** Serializes every change to the findings of one subject of the workspace (see Concurrency above). */
function lockSubject(tx: Db, actor: Actor, subject: string): Promise<void> {
  return advisoryXactLock(tx, SUBJECT_LOCK_NAMESPACE, `${actor.workspaceId}:${subject}`);
}

/** Takes the finding's subject lock, then its row lock, and checks it is active. */
async function lockFinding(tx: Db, actor: Actor, id: string, action: string): Promise<Finding> {
  // The subject never changes, so reading it before the lock is safe.
  const found = await tx.finding.findFirst({ where: { id, workspaceId: actor.workspaceId }, select: { subject: true } });
  if (!found) throw new NotFoundError("Finding", id);
  await lockSubject(tx, actor, found.subject);
  await lockForTransition(tx, { table: "Finding", id, workspaceId: actor.workspaceId }, action, ACTIVE);
  return tx.finding.findUniqueOrThrow({ where: { id } });
}

async function setStatus(tx: Db, actor: Actor, finding: Finding, to: FindingStatus, type: `finding.${string}`, payload: { conflictId: string }): Promise<void> {
  if (finding.status === to) return;
  await tx.finding.update({ where: { id: finding.id }, data: { status: to } });
  await recordEvent(tx, actor, { topic: "finding", type, entityId: finding.id, payload: { from: finding.status, to, ...payload } });
}

async function checkReferences(tx: Db, actor: Actor, refs: { taskId?: string | null; agentId?: string | null; swarmId?: string | null }): Promise<void> {
  const where = (id: string) => ({ where: { id, workspaceId: actor.workspaceId }, select: { id: true } });
  if (refs.taskId && !(await tx.task.findFirst(where(refs.taskId)))) throw new NotFoundError("Task", refs.taskId);
  if (refs.agentId && !(await tx.agent.findFirst(where(refs.agentId)))) throw new NotFoundError("Agent", refs.agentId);
  if (refs.swarmId && !(await tx.swarm.findFirst(where(refs.swarmId)))) throw new NotFoundError("Swarm", refs.swarmId);
}
