/** GraphQL types of the findings domain: findings and the conflicts between them. */
import type { Conflict, Finding } from "../../generated/prisma/client.ts";
import { actorOf } from "../../context.ts";
import { builder, inViewerWorkspace } from "../../schema/builder.ts";
import { defineLoader } from "../../schema/loaders.ts";
import { conflictsOfFindings } from "./service.ts";

export const FindingStatusEnum = builder.enumType("FindingStatus", {
  description: "Where a finding stands. See the README's findings section.",
  values: {
    UNVERIFIED: { description: "Posted; nobody has validated it yet." },
    VERIFIED: { description: "Verified by a reviewer, or the winner of a resolved conflict." },
    DISPUTED: { description: "In a conflict with another finding, or disputed by a reviewer." },
    RETRACTED: { description: "Withdrawn for good; kept for history, never part of a new conflict." },
    REJECTED: {
      description:
        "Refused on arrival: posted with rejectOnConflict while it contradicted active findings. Kept with the conflicts it revealed (their `refused` is true), so the refusal and its escalation are traceable; never active: it takes part in no later conflict, cannot be validated, retracted or win a conflict, and changed no other finding.",
    },
  } as const,
});

export const FindingVerdictEnum = builder.enumType("FindingVerdict", {
  description: "A reviewer's verdict on a finding.",
  values: {
    VERIFY: { description: "The finding holds: it becomes VERIFIED." },
    DISPUTE: { description: "The finding is doubtful: it becomes DISPUTED." },
  } as const,
});

export const ConflictStatusEnum = builder.enumType("ConflictStatus", {
  description: "Where a conflict stands: OPEN until resolved with a winner or dismissed.",
  values: {
    OPEN: { description: "Detected and not yet decided." },
    RESOLVED: { description: "Decided in favour of one of the two findings." },
    DISMISSED: { description: "Closed without a winner (not a real contradiction, or one finding was retracted)." },
  } as const,
});

const FindingValidation = builder.objectRef<Finding>("FindingValidation").implement({
  description: "The last validation of a finding: a reviewer's verdict, or winning a conflict.",
  fields: (t) => ({
    verdict: t.field({ type: FindingVerdictEnum, description: "The verdict.", resolve: (f) => f.validationVerdict! }),
    reason: t.string({ description: "Why, as the reviewer gave it.", resolve: (f) => f.validationReason ?? "" }),
    by: t.string({ description: "Subject of the token that validated.", resolve: (f) => f.validatedBy ?? "" }),
    at: t.field({ type: "DateTime", description: "When.", resolve: (f) => f.validatedAt! }),
  }),
});

const FindingRetraction = builder.objectRef<Finding>("FindingRetraction").implement({
  description: "Why, by whom and when a finding was retracted.",
  fields: (t) => ({
    reason: t.string({ description: "Why, as given.", resolve: (f) => f.retractionReason ?? "" }),
    by: t.string({ description: "Subject of the token that retracted it.", resolve: (f) => f.retractedBy ?? "" }),
    at: t.field({ type: "DateTime", description: "When.", resolve: (f) => f.retractedAt! }),
  }),
});

/** The conflicts of many findings in one query per operation. */
const findingConflictsLoader = defineLoader<string, Conflict[]>("finding.conflicts", async (ctx, ids) => {
  const byFinding = await conflictsOfFindings(ctx.db, actorOf(ctx).workspaceId, ids);
  return ids.map((id) => byFinding.get(id) ?? []);
});

export const FindingRef = builder.prismaNode("Finding", {
  description: "A research result: a claim about a subject, its position, a confidence and citations.",
  id: { field: "id", description: "Global id of the finding." },
  authScopes: { scope: "findings:read" },
  nullable: true,
  findUnique: inViewerWorkspace,
  fields: (t) => ({
    claim: t.exposeString("claim", { description: "The claim, in words, as posted." }),
    subject: t.exposeString("subject", { description: "What it is about, normalized (trimmed, lowercased, single spaces); findings on one subject are compared." }),
    position: t.exposeString("position", { description: "Its short answer on the subject, normalized like the subject; different positions conflict." }),
    confidence: t.exposeFloat("confidence", { description: "How sure the poster is, 0 to 1." }),
    citations: t.exposeStringList("citations", { description: "Sources: https:// URLs, if:// URIs or file:<path>:<line> references." }),
    tags: t.exposeStringList("tags", { description: "Labels, as a sorted set." }),
    status: t.expose("status", { type: FindingStatusEnum, description: "Where the finding stands." }),
    task: t.relation("task", { nullable: true, description: "The task the finding came out of, if any." }),
    agent: t.relation("agent", { nullable: true, description: "The agent that found it, if any." }),
    swarm: t.relation("swarm", { nullable: true, description: "The swarm it belongs to, if any." }),
    postedBy: t.exposeString("postedBy", { description: "Subject of the token that posted it." }),
    validation: t.field({
      type: FindingValidation,
      nullable: true,
      description: "The last validation (verdict, reason, who, when); null if never validated.",
      resolve: (f) => (f.validationVerdict ? f : null),
    }),
    retraction: t.field({ type: FindingRetraction, nullable: true, description: "Why, by whom and when it was retracted; null unless RETRACTED.", resolve: (f) => (f.retractedAt ? f : null) }),
    conflicts: t.field({
      type: [ConflictRef],
      description: "Every conflict the finding is part of, oldest first (batched across findings).",
      resolve: (f, _args, ctx) => findingConflictsLoader(ctx).load(f.id),
    }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When it was posted." }),
    updatedAt: t.expose("updatedAt", { type: "DateTime", description: "When it last changed." }),
  }),
});

const ConflictResolution = builder.objectRef<Conflict>("ConflictResolution").implement({
  description: "How a conflict was closed.",
  fields: (t) => ({
    notes: t.string({ description: "Why it was decided this way.", resolve: (c) => c.resolutionNotes ?? "" }),
    resolvedBy: t.string({ description: "Subject of the token that closed it.", resolve: (c) => c.resolvedBy ?? "" }),
    resolvedAt: t.field({ type: "DateTime", description: "When it was closed.", resolve: (c) => c.resolvedAt! }),
    dismissed: t.boolean({ description: "Whether it was dismissed (no winner) rather than resolved.", resolve: (c) => c.status === "DISMISSED" }),
  }),
});

export const ConflictRef = builder.prismaNode("Conflict", {
  description: "Two active findings on the same subject with different positions, and how the contradiction was settled.",
  id: { field: "id", description: "Global id of the conflict." },
  authScopes: { scope: "findings:read" },
  nullable: true,
  findUnique: inViewerWorkspace,
  fields: (t) => ({
    subject: t.exposeString("subject", { description: "The subject both findings are about." }),
    findingA: t.relation("findingA", { description: "The earlier finding." }),
    findingB: t.relation("findingB", { description: "The finding whose posting revealed the conflict." }),
    confidenceDelta: t.exposeFloat("confidenceDelta", { description: "|confidence A − confidence B|, rounded to 2 decimals." }),
    escalationRecommended: t.exposeBoolean("escalationRecommended", { description: "Whether a person should decide: delta ≥ 0.30 or both confidences ≥ 0.80." }),
    notes: t.exposeString("notes", { description: "Why the findings conflict and why escalation is (not) recommended." }),
    status: t.expose("status", { type: ConflictStatusEnum, description: "Where the conflict stands." }),
    refused: t.boolean({
      description:
        "Whether findingB was refused (posted with rejectOnConflict: it is REJECTED, and findingA was left as it was). Such a conflict stays OPEN for escalation: dismiss it, or resolve it in favour of findingA; to make the refused position count, post it again without rejectOnConflict.",
      select: { findingB: { select: { status: true } } },
      resolve: (c) => c.findingB.status === "REJECTED",
    }),
    winningFinding: t.relation("winningFinding", { nullable: true, description: "The finding the conflict was resolved in favour of; null unless RESOLVED." }),
    resolution: t.field({
      type: ConflictResolution,
      nullable: true,
      description: "Notes, who and when of the resolution or dismissal; null while OPEN.",
      resolve: (c) => (c.status === "OPEN" ? null : c),
    }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the conflict was detected." }),
  }),
});
