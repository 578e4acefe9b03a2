/**
 * GraphQL shapes of the domain errors in src/errors.ts. Each is an object implementing the
 * `Error` interface; mutations list the ones they can return in their result union.
 */
import { encodeGlobalID } from "@pothos/plugin-relay";
import {
  AlreadyMemberError,
  CapabilityMismatchError,
  type ConflictCandidate,
  ConflictDetectedError,
  DependencyCycleError,
  type DomainError,
  IdempotencyKeyReusedError,
  IllegalTransitionError,
  InvalidInputError,
  LeaseLostError,
  NotFoundError,
  NotHeldError,
  NotMemberError,
  QuotaExceededError,
  SwarmFullError,
  AccessDeniedError,
  VersionConflictError,
} from "../errors.ts";
import { builder } from "./builder.ts";

export const ErrorCode = builder.enumType("ErrorCode", {
  description: "Machine-readable reason of a typed error; switch on it in clients.",
  values: {
    NOT_FOUND: { description: "The id does not exist in your workspace." },
    ILLEGAL_TRANSITION: { description: "The action is not allowed from the entity's current status." },
    SWARM_FULL: { description: "The swarm already has its maximum number of agents." },
    ALREADY_MEMBER: { description: "The agent is already a member of the swarm." },
    NOT_MEMBER: { description: "The agent is not a member of the swarm." },
    INVALID_INPUT: { description: "The input breaks a rule; `issues` says which field and why." },
    LEASE_LOST: { description: "The caller no longer holds the task's lease; drop the work." },
    CAPABILITY_MISMATCH: { description: "The agent lacks capabilities the task requires." },
    DEPENDENCY_CYCLE: { description: "The task graph has a dependency cycle." },
    IDEMPOTENCY_KEY_REUSED: { description: "The idempotency key was already used for a different request." },
    QUOTA_EXCEEDED: { description: "The quota has no room for the request." },
    NOT_HELD: { description: "The holder holds nothing to release." },
    CONFLICT_DETECTED: { description: "The finding contradicts active findings on its subject and was refused (rejectOnConflict): kept as REJECTED, its conflicts recorded for escalation." },
    VERSION_CONFLICT: { description: "Compare-and-set failed: the memory entry is not at the expected version; read it again and retry." },
    ACCESS_DENIED: { description: "The entry exists but you may not change it (its access level, or only its owner may)." },
  } as const,
});

export const ErrorInterface = builder.interfaceRef<DomainError>("Error").implement({
  description: "An expected failure of a mutation: a code to switch on and a message for people.",
  fields: (t) => ({
    code: t.field({ type: ErrorCode, description: "What went wrong, as a stable code.", resolve: (e) => e.code as never }),
    message: t.exposeString("message", { description: "What went wrong and what to do about it, in words." }),
  }),
});

builder.objectType(NotFoundError, {
  name: "NotFoundError",
  description: "An id does not exist in your workspace. Ids of other workspaces answer exactly this too.",
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof NotFoundError,
  fields: (t) => ({
    entityId: t.id({ description: "The global id that was not found. Named entityId, not id: an error is not the entity, and normalized caches (Relay, Apollo) key records by id.", resolve: (e) => encodeGlobalID(e.entityType, e.entityId) }),
    entityType: t.exposeString("entityType", { description: "The type of object that was looked up, e.g. Agent." }),
  }),
});

builder.objectType(IllegalTransitionError, {
  name: "IllegalTransitionError",
  description: "The action is not allowed from the entity's current status; nothing was changed.",
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof IllegalTransitionError,
  fields: (t) => ({
    entityId: t.id({ description: "Global id of the entity whose status refused the action (not `id`: an error is not the entity, and normalized caches key records by id).", resolve: (e) => encodeGlobalID(e.entityType, e.entityId) }),
    entityType: t.exposeString("entityType", { description: "The type of the entity, e.g. Agent." }),
    fromStatus: t.exposeString("fromStatus", { description: "The entity's status when the action was refused." }),
    action: t.exposeString("action", { description: "The refused action, e.g. resume." }),
    allowedFrom: t.exposeStringList("allowedFrom", { description: "The statuses from which the action is allowed." }),
  }),
});

builder.objectType(SwarmFullError, {
  name: "SwarmFullError",
  description: "The swarm already has `maxAgents` members; nothing was changed. Raise maxAgents or remove a member first.",
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof SwarmFullError,
  fields: (t) => ({
    swarmId: t.id({ description: "Global id of the full swarm.", resolve: (e) => encodeGlobalID("Swarm", e.swarmId) }),
    maxAgents: t.exposeInt("maxAgents", { description: "The swarm's member limit." }),
  }),
});

builder.objectType(AlreadyMemberError, {
  name: "AlreadyMemberError",
  description: "The agent is already a member of the swarm; nothing was changed.",
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof AlreadyMemberError,
  fields: (t) => ({
    swarmId: t.id({ description: "Global id of the swarm.", resolve: (e) => encodeGlobalID("Swarm", e.swarmId) }),
    agentId: t.id({ description: "Global id of the agent.", resolve: (e) => encodeGlobalID("Agent", e.agentId) }),
  }),
});

builder.objectType(NotMemberError, {
  name: "NotMemberError",
  description: "The agent is not a member of the swarm; nothing was changed.",
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof NotMemberError,
  fields: (t) => ({
    swarmId: t.id({ description: "Global id of the swarm.", resolve: (e) => encodeGlobalID("Swarm", e.swarmId) }),
    agentId: t.id({ description: "Global id of the agent.", resolve: (e) => encodeGlobalID("Agent", e.agentId) }),
  }),
});

const InputIssue = builder.objectRef<{ path: string; message: string }>("InputIssue").implement({
  description: "One rule an input broke.",
  fields: (t) => ({
    path: t.exposeString("path", { description: "Dotted path of the offending field, e.g. input.maxAgents." }),
    message: t.exposeString("message", { description: "The rule that was broken." }),
  }),
});

builder.objectType(InvalidInputError, {
  name: "InvalidInputError",
  description: "The input breaks one or more rules the GraphQL types cannot express; nothing was changed.",
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof InvalidInputError,
  fields: (t) => ({
    issues: t.field({ type: [InputIssue], description: "Every broken rule, one per field.", resolve: (e) => [...e.issues] }),
  }),
});

builder.objectType(LeaseLostError, {
  name: "LeaseLostError",
  description: "The caller no longer holds the task (lease expired, task reclaimed, cancelled or finished); nothing was changed. Drop the work and claim again.",
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof LeaseLostError,
  fields: (t) => ({
    taskId: t.id({ description: "Global id of the task.", resolve: (e) => encodeGlobalID("Task", e.taskId) }),
    reason: t.exposeString("reason", { description: "EXPIRED, RECLAIMED, CANCELLED, FINISHED or WRONG_TOKEN." }),
  }),
});

builder.objectType(CapabilityMismatchError, {
  name: "CapabilityMismatchError",
  description: "The agent lacks capabilities the task requires; nothing was changed.",
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof CapabilityMismatchError,
  fields: (t) => ({
    taskId: t.id({ description: "Global id of the task.", resolve: (e) => encodeGlobalID("Task", e.taskId) }),
    agentId: t.id({ description: "Global id of the agent.", resolve: (e) => encodeGlobalID("Agent", e.agentId) }),
    missing: t.exposeStringList("missing", { description: "The required capabilities the agent lacks." }),
  }),
});

builder.objectType(DependencyCycleError, {
  name: "DependencyCycleError",
  description: "The task graph has a dependency cycle; nothing was created.",
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof DependencyCycleError,
  fields: (t) => ({
    cycle: t.stringList({ description: "The keys on one cycle, the first repeated at the end (a → b → a).", resolve: (e) => [...e.cycle] }),
  }),
});

builder.objectType(IdempotencyKeyReusedError, {
  name: "IdempotencyKeyReusedError",
  description: "The idempotency key was already used for a different request; nothing was created.",
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof IdempotencyKeyReusedError,
  fields: (t) => ({
    key: t.exposeString("key", { description: "The reused key." }),
    operation: t.exposeString("operation", { description: "The mutation the key was first used with." }),
  }),
});

builder.objectType(QuotaExceededError, {
  name: "QuotaExceededError",
  description: "The quota has no room for the request; nothing was allocated, created or claimed.",
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof QuotaExceededError,
  fields: (t) => ({
    resource: t.exposeString("resource", { description: "The limited resource, e.g. workers:depth:0." }),
    limit: t.exposeInt("limit", { description: "The quota's limit." }),
    inUse: t.exposeInt("inUse", { description: "Units in use when the request was refused." }),
    requested: t.exposeInt("requested", { description: "Units requested." }),
    retryAt: t.field({ type: "DateTime", nullable: true, description: "Rate quotas: when enough capacity returns for this request; null for capacity quotas (wait for a release).", resolve: (e) => e.retryAt }),
  }),
});

builder.objectType(NotHeldError, {
  name: "NotHeldError",
  description: "The holder holds nothing (of that resource) to release; nothing was changed.",
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof NotHeldError,
  fields: (t) => ({
    holderType: t.exposeString("holderType", { description: "TASK, SWARM, AGENT or EXTERNAL." }),
    holderId: t.exposeString("holderId", { description: "The holder's id as given." }),
    requestedResource: t.string({ nullable: true, description: "The resource asked about; null when asked for everything.", resolve: (e) => e.resource }),
  }),
});

const ConflictCandidateRef = builder.objectRef<ConflictCandidate>("ConflictCandidate").implement({
  description: "An active finding the rejected finding contradicts, with the figures the conflict would have been recorded with.",
  fields: (t) => ({
    findingId: t.id({ description: "Global id of the contradicted finding.", resolve: (c) => encodeGlobalID("Finding", c.findingId) }),
    claim: t.exposeString("claim", { description: "Its claim." }),
    position: t.exposeString("position", { description: "Its (normalized) position." }),
    confidence: t.exposeFloat("confidence", { description: "Its confidence." }),
    confidenceDelta: t.exposeFloat("confidenceDelta", { description: "|its confidence − the rejected finding's confidence|, rounded to 2 decimals." }),
    escalationRecommended: t.exposeBoolean("escalationRecommended", { description: "Whether a person should decide: delta ≥ 0.30 or both confidences ≥ 0.80." }),
    notes: t.exposeString("notes", { description: "Why the two conflict and why escalation is (not) recommended." }),
  }),
});

builder.objectType(ConflictDetectedError, {
  name: "ConflictDetectedError",
  description:
    "The finding contradicts active findings on its subject and was posted with rejectOnConflict, so it was refused: it is kept as a REJECTED finding (`findingId`) and one OPEN conflict per contradicted finding is recorded (`conflictIds`, with `conflict.detected` audit entries marked refused), so the escalation is traceable. The contradicted findings were not changed.",
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof ConflictDetectedError,
  fields: (t) => ({
    subject: t.exposeString("subject", { description: "The (normalized) subject of the rejected finding." }),
    position: t.exposeString("position", { description: "The (normalized) position of the rejected finding." }),
    confidence: t.exposeFloat("confidence", { description: "The confidence of the rejected finding." }),
    conflictingFindingIds: t.idList({ description: "Global ids of the active findings it contradicts, oldest first.", resolve: (e) => e.conflicts.map((c) => encodeGlobalID("Finding", c.findingId)) }),
    conflicts: t.field({ type: [ConflictCandidateRef], description: "One entry per contradicted finding, oldest first.", resolve: (e) => [...e.conflicts] }),
    escalationRecommended: t.boolean({ description: "Whether any of the conflicts recommends escalation.", resolve: (e) => e.escalationRecommended }),
    findingId: t.id({ description: "Global id of the refused finding, kept with status REJECTED.", resolve: (e) => encodeGlobalID("Finding", e.findingId) }),
    conflictIds: t.idList({ description: "Global ids of the conflicts recorded for the refusal, in `conflicts` order (query them with `node` or `conflicts`; escalate from there).", resolve: (e) => e.conflictIds.map((id) => encodeGlobalID("Conflict", id)) }),
  }),
});

builder.objectType(VersionConflictError, {
  name: "VersionConflictError",
  description: "Compare-and-set failed: another writer changed the entry since the version you expected. Nothing was written; read the entry again, reapply your change and retry with `currentVersion`.",
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof VersionConflictError,
  fields: (t) => ({
    namespace: t.exposeString("namespace", { description: "The entry's namespace." }),
    key: t.exposeString("key", { description: "The entry's key." }),
    expectedVersion: t.exposeInt("expectedVersion", { description: "The version the write expected (0: that the key was free)." }),
    currentVersion: t.exposeInt("currentVersion", { nullable: true, description: "The version stored now; null when the key holds no entry." }),
  }),
});

builder.objectType(AccessDeniedError, {
  name: "AccessDeniedError",
  description: "The entry exists but you may not make this change: its access level keeps you out, or only its owner may change its access. Nothing was written.",
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof AccessDeniedError,
  fields: (t) => ({
    resource: t.exposeString("resource", { description: "What was refused, e.g. memory project-alpha/api_design." }),
  }),
});
