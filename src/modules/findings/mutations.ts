/** Changes to findings and conflicts. Each mutation maps its input to one service call. */
import type { Finding } from "../../generated/prisma/client.ts";
import { actorOf } from "../../context.ts";
import { ConflictDetectedError, IllegalTransitionError, NotFoundError } from "../../errors.ts";
import { builder } from "../../schema/builder.ts";
import { rawId } from "../../schema/globalIds.ts";
import * as findings from "./service.ts";
import { ConflictRef, FindingRef, FindingVerdictEnum } from "./types.ts";

const FindingPayload = (name: string, description: string) =>
  builder.objectRef<{ finding: Finding }>(name).implement({
    description,
    fields: (t) => ({ finding: t.field({ type: FindingRef, description: "The finding as it is after the change.", resolve: (p) => p.finding }) }),
  });

const PostFindingPayload = builder.objectRef<findings.PostedFinding>("PostFindingPayload").implement({
  description: "The posted finding and the conflicts its posting revealed.",
  fields: (t) => ({
    finding: t.field({ type: FindingRef, description: "The new finding (DISPUTED when it conflicts, UNVERIFIED otherwise).", resolve: (p) => p.finding }),
    conflicts: t.field({ type: [ConflictRef], description: "One new OPEN conflict per contradicted active finding, oldest finding first; empty when none.", resolve: (p) => p.conflicts }),
  }),
});

const ResolveConflictPayload = builder.objectRef<{ conflict: Awaited<ReturnType<typeof findings.resolveConflict>> }>("ResolveConflictPayload").implement({
  description: "The conflict after it was resolved or dismissed.",
  fields: (t) => ({ conflict: t.field({ type: ConflictRef, description: "The conflict, RESOLVED or DISMISSED.", resolve: (p) => p.conflict }) }),
});

const PostFindingInput = builder.inputType("PostFindingInput", {
  description: "A new finding.",
  fields: (t) => ({
    claim: t.string({ required: true, description: "The claim, in words (1–10000 characters)." }),
    subject: t.string({ required: true, description: "What it is about; normalized (trimmed, lowercased, single spaces), at most 200 characters." }),
    position: t.string({ required: true, description: "Its short answer on the subject; normalized like the subject, at most 200 characters." }),
    confidence: t.float({ required: true, description: "How sure, from 0 to 1." }),
    citations: t.stringList({ required: false, defaultValue: [], description: "Sources, each an https:// URL, an if:// URI or file:<path>:<line> (positive line)." }),
    taskId: t.globalID({ required: false, description: "The task it came out of." }),
    agentId: t.globalID({ required: false, description: "The agent that found it." }),
    swarmId: t.globalID({ required: false, description: "The swarm it belongs to." }),
    tags: t.stringList({ required: false, defaultValue: [], description: "Labels (letters, digits, _ . : / -)." }),
    rejectOnConflict: t.boolean({
      required: false,
      defaultValue: false,
      description: "When true, a finding that contradicts active findings is not stored: the result is a ConflictDetectedError (default false: store it and record the conflicts).",
    }),
  }),
});

const ValidateFindingInput = builder.inputType("ValidateFindingInput", {
  description: "A reviewer's verdict on a finding.",
  fields: (t) => ({
    id: t.globalID({ required: true, description: "Global id of the finding." }),
    verdict: t.field({ type: FindingVerdictEnum, required: true, description: "VERIFY or DISPUTE." }),
    reason: t.string({ required: true, description: "Why (1–10000 characters); kept as the finding's validation." }),
  }),
});

const RetractFindingInput = builder.inputType("RetractFindingInput", {
  description: "Which finding to retract, and why.",
  fields: (t) => ({
    id: t.globalID({ required: true, description: "Global id of the finding." }),
    reason: t.string({ required: true, description: "Why (1–10000 characters)." }),
  }),
});

const ResolveConflictInput = builder.inputType("ResolveConflictInput", {
  description: "How to close an OPEN conflict: give exactly one of winningFindingId or dismiss: true.",
  fields: (t) => ({
    conflictId: t.globalID({ required: true, description: "Global id of the conflict." }),
    winningFindingId: t.globalID({ required: false, description: "The finding that holds (one of the conflict's two): it becomes VERIFIED, the other stays DISPUTED." }),
    dismiss: t.boolean({ required: false, defaultValue: false, description: "Close the conflict without a winner; both findings keep their status." }),
    notes: t.string({ required: true, description: "Why it was decided this way (1–10000 characters)." }),
  }),
});

const transitionErrors = [NotFoundError, IllegalTransitionError];

/** A winner id of another type is simply not one of the conflict's findings. */
const asFindingId = (ref: { typename: string; id: string }) => (ref.typename === "Finding" ? ref.id : `${ref.typename}:${ref.id}`);

builder.mutationFields((t) => ({
  postFinding: t.field({
    type: PostFindingPayload,
    description: "Posts a finding. It conflicts with every active finding on the same subject with a different position; those conflicts are recorded and both sides become DISPUTED (or, with rejectOnConflict, nothing is stored).",
    authScopes: { scope: "findings:write" },
    errors: { types: [NotFoundError, ConflictDetectedError] },
    args: { input: t.arg({ type: PostFindingInput, required: true, description: "The finding to post." }) },
    resolve: (_root, { input }, ctx) =>
      findings.postFinding(ctx.db, actorOf(ctx), {
        claim: input.claim,
        subject: input.subject,
        position: input.position,
        confidence: input.confidence,
        citations: input.citations ?? undefined,
        tags: input.tags ?? undefined,
        taskId: input.taskId ? rawId(input.taskId, "Task") : null,
        agentId: input.agentId ? rawId(input.agentId, "Agent") : null,
        swarmId: input.swarmId ? rawId(input.swarmId, "Swarm") : null,
        rejectOnConflict: input.rejectOnConflict ?? false,
      }),
  }),
  validateFinding: t.field({
    type: FindingPayload("ValidateFindingPayload", "The finding with its new status and validation."),
    description: "Records a reviewer's verdict: VERIFY → VERIFIED, DISPUTE → DISPUTED. Not allowed once RETRACTED; does not close conflicts (resolveConflict does).",
    authScopes: { scope: "findings:write" },
    errors: { types: transitionErrors },
    args: { input: t.arg({ type: ValidateFindingInput, required: true, description: "Which finding, the verdict and why." }) },
    resolve: async (_root, { input }, ctx) => ({
      finding: await findings.validateFinding(ctx.db, actorOf(ctx), rawId(input.id, "Finding"), { verdict: input.verdict, reason: input.reason }),
    }),
  }),
  retractFinding: t.field({
    type: FindingPayload("RetractFindingPayload", "The retracted finding."),
    description: "Retracts a finding for good (it stays readable and never conflicts again) and dismisses its open conflicts.",
    authScopes: { scope: "findings:write" },
    errors: { types: transitionErrors },
    args: { input: t.arg({ type: RetractFindingInput, required: true, description: "Which finding, and why." }) },
    resolve: async (_root, { input }, ctx) => ({ finding: await findings.retractFinding(ctx.db, actorOf(ctx), rawId(input.id, "Finding"), input.reason) }),
  }),
  resolveConflict: t.field({
    type: ResolveConflictPayload,
    description: "Closes an OPEN conflict with a winner (RESOLVED: the winner becomes VERIFIED, the loser stays DISPUTED) or without one (DISMISSED).",
    authScopes: { scope: "findings:write" },
    errors: { types: transitionErrors },
    args: { input: t.arg({ type: ResolveConflictInput, required: true, description: "Which conflict, the decision and why." }) },
    resolve: async (_root, { input }, ctx) => ({
      conflict: await findings.resolveConflict(ctx.db, actorOf(ctx), rawId(input.conflictId, "Conflict"), {
        winningFindingId: input.winningFindingId ? asFindingId(input.winningFindingId) : null,
        dismiss: input.dismiss ?? false,
        notes: input.notes,
      }),
    }),
  }),
}));
