/**
 * Expected failures of the domain. Services throw these; the GraphQL layer exposes each as a
 * typed member of a mutation's result union (see src/schema/errors.ts), with a machine `code`,
 * a message a person can act on, and the ids involved. Anything else is unexpected and masked.
 */

/** Names of the GraphQL object types a raw id can belong to (used to build global ids). */
export type EntityType = "Agent" | "Swarm" | "SwarmMember" | "Task" | "Quota" | "Allocation" | "Finding" | "Conflict" | "Artifact" | "Correlation" | "MemoryEntry" | "ContextItem" | "Session" | "ApiKey" | "ServiceAccount" | "DeviceAuthorization" | "Webhook" | "WebhookDelivery";

export abstract class DomainError extends Error {
  abstract readonly code: string;
}

/** The id does not exist in the caller's workspace (ids of other workspaces included). */
export class NotFoundError extends DomainError {
  readonly code = "NOT_FOUND";
  constructor(
    readonly entityType: EntityType,
    readonly entityId: string,
  ) {
    super(`${entityType} ${entityId} was not found in this workspace`);
    this.name = "NotFoundError";
  }
}

/** The action is not allowed from the entity's current state. */
export class IllegalTransitionError extends DomainError {
  readonly code = "ILLEGAL_TRANSITION";
  constructor(
    readonly entityType: EntityType,
    readonly entityId: string,
    readonly fromStatus: string,
    readonly action: string,
    readonly allowedFrom: readonly string[],
  ) {
    super(`cannot ${action} ${entityType} ${entityId}: it is ${fromStatus}; ${action} is allowed only from ${allowedFrom.join(", ") || "no state"}`);
    this.name = "IllegalTransitionError";
  }
}

/** Joining would exceed the swarm's `maxAgents`. */
export class SwarmFullError extends DomainError {
  readonly code = "SWARM_FULL";
  constructor(
    readonly swarmId: string,
    readonly maxAgents: number,
  ) {
    super(`swarm ${swarmId} already has its maximum of ${maxAgents} agents`);
    this.name = "SwarmFullError";
  }
}

/** The agent is already a member of the swarm. */
export class AlreadyMemberError extends DomainError {
  readonly code = "ALREADY_MEMBER";
  constructor(
    readonly swarmId: string,
    readonly agentId: string,
  ) {
    super(`agent ${agentId} is already a member of swarm ${swarmId}`);
    this.name = "AlreadyMemberError";
  }
}

/** The agent is not a member of the swarm. */
export class NotMemberError extends DomainError {
  readonly code = "NOT_MEMBER";
  constructor(
    readonly swarmId: string,
    readonly agentId: string,
  ) {
    super(`agent ${agentId} is not a member of swarm ${swarmId}`);
    this.name = "NotMemberError";
  }
}

/** One rule an input broke. */
export interface InputIssue {
  /** Dotted path of the offending field inside the mutation's input, e.g. "input.maxAgents". */
  path: string;
  message: string;
}

/** The input breaks a rule the GraphQL types cannot express (ranges, lengths, formats). */
export class InvalidInputError extends DomainError {
  readonly code = "INVALID_INPUT";
  constructor(readonly issues: readonly InputIssue[]) {
    super(`invalid input: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`);
    this.name = "InvalidInputError";
  }
}

/** Why a lease is no longer valid. */
export type LeaseLostReason = "EXPIRED" | "RECLAIMED" | "CANCELLED" | "FINISHED" | "WRONG_TOKEN";

/**
 * The caller no longer holds the task: its lease expired (and the task may have been given to
 * another agent), the task was cancelled or finished, or the token is not the current one.
 * Nothing was changed.
 */
export class LeaseLostError extends DomainError {
  readonly code = "LEASE_LOST";
  constructor(
    readonly taskId: string,
    readonly reason: LeaseLostReason,
  ) {
    super(`the lease on task ${taskId} is no longer valid (${reason.toLowerCase().replace("_", " ")}); drop the work and claim again`);
    this.name = "LeaseLostError";
  }
}

/** The agent lacks capabilities the task requires. */
export class CapabilityMismatchError extends DomainError {
  readonly code = "CAPABILITY_MISMATCH";
  constructor(
    readonly taskId: string,
    readonly agentId: string,
    readonly missing: readonly string[],
  ) {
    super(`agent ${agentId} lacks the capabilities task ${taskId} requires: ${missing.join(", ")}`);
    this.name = "CapabilityMismatchError";
  }
}

/** The task graph has a cycle, so no task on it could ever start. */
export class DependencyCycleError extends DomainError {
  readonly code = "DEPENDENCY_CYCLE";
  constructor(readonly cycle: readonly string[]) {
    super(`the task graph has a dependency cycle: ${cycle.join(" → ")}; nothing was created`);
    this.name = "DependencyCycleError";
  }
}

/** The idempotency key was already used for a different request. */
export class IdempotencyKeyReusedError extends DomainError {
  readonly code = "IDEMPOTENCY_KEY_REUSED";
  constructor(
    readonly key: string,
    readonly operation: string,
  ) {
    super(`idempotency key "${key}" was already used for a different ${operation} request; use a new key for a new request`);
    this.name = "IdempotencyKeyReusedError";
  }
}

/** The quota does not have room for the request; nothing was allocated. */
export class QuotaExceededError extends DomainError {
  readonly code = "QUOTA_EXCEEDED";
  constructor(
    readonly resource: string,
    readonly limit: number,
    readonly inUse: number,
    readonly requested: number,
    /** RATE quotas: when enough capacity returns for the request. */
    readonly retryAt: Date | null,
  ) {
    super(
      `quota exceeded for ${resource}: ${inUse} of ${limit} in use, ${requested} requested` +
        (retryAt ? `; capacity returns at ${retryAt.toISOString()}` : "; release some or raise the quota"),
    );
    this.name = "QuotaExceededError";
  }
}

/** The holder has no open allocation to release. */
export class NotHeldError extends DomainError {
  readonly code = "NOT_HELD";
  constructor(
    readonly holderType: string,
    readonly holderId: string,
    readonly resource: string | null,
  ) {
    super(`${holderType.toLowerCase()} ${holderId} holds no ${resource ?? "resources"}; nothing was released`);
    this.name = "NotHeldError";
  }
}

/**
 * What a conflicting finding would have been recorded with: the active finding it contradicts and
 * the assessment (the same figures a stored Conflict gets).
 */
export interface ConflictCandidate {
  /** Raw id of the active finding on the same subject. */
  findingId: string;
  claim: string;
  position: string;
  confidence: number;
  /** |its confidence − the new finding's|, rounded to 2 decimals. */
  confidenceDelta: number;
  escalationRecommended: boolean;
  notes: string;
}

/**
 * A finding posted with `rejectOnConflict: true` contradicts active findings on its subject:
 * nothing was stored. Carries what seed 000's 409 body carries (ids, positions, confidences,
 * delta, escalation flag, notes), one entry per contradicted finding.
 */
export class ConflictDetectedError extends DomainError {
  readonly code = "CONFLICT_DETECTED";
  constructor(
    readonly subject: string,
    readonly position: string,
    readonly confidence: number,
    readonly conflicts: readonly ConflictCandidate[],
    /** The refused finding, kept as REJECTED for the record. */
    readonly findingId: string,
    /** The conflicts recorded for the refusal (one per contradicted finding, in `conflicts` order). */
    readonly conflictIds: readonly string[],
  ) {
    super(
      `the finding conflicts with ${conflicts.length} active finding${conflicts.length === 1 ? "" : "s"} on subject "${subject}" ` +
        `(${conflicts.map((c) => `'${c.position}' (${c.confidence})`).join(", ")} vs '${position}' (${confidence})); it was refused: ` +
        `kept as REJECTED with its conflict${conflicts.length === 1 ? "" : "s"} recorded for escalation, and no other finding changed`,
    );
    this.name = "ConflictDetectedError";
  }

  /** Whether any of the conflicts recommends escalation. */
  get escalationRecommended(): boolean {
    return this.conflicts.some((c) => c.escalationRecommended);
  }
}

/**
 * Compare-and-set failed: the write named the version it expected to replace (0: that the key
 * is free), and another writer got there first. Nothing was written.
 */
export class VersionConflictError extends DomainError {
  readonly code = "VERSION_CONFLICT";
  constructor(
    readonly namespace: string,
    readonly key: string,
    readonly expectedVersion: number,
    /** The version now stored; null when the key holds no entry. */
    readonly currentVersion: number | null,
  ) {
    super(
      `memory ${namespace}/${key} is ${currentVersion === null ? "absent" : `at version ${currentVersion}`}, not at the expected version ${expectedVersion}; ` +
        "read it again, reapply your change and retry with the current version",
    );
    this.name = "VersionConflictError";
  }
}

/**
 * The key is held by an entry the caller may not change (a PRIVATE entry of another principal,
 * a SWARM entry of a swarm none of its agents is in), or only its owner may make the change.
 * Nothing was written.
 */
export class AccessDeniedError extends DomainError {
  readonly code = "ACCESS_DENIED";
  constructor(
    readonly resource: string,
    reason: string,
  ) {
    super(`${resource}: ${reason}`);
    this.name = "AccessDeniedError";
  }
}
