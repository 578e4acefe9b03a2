/**
 * The audit trail. It is the event log itself: every state change of every domain writes one
 * Event row (actor, type, entity id, payload, time) in the transaction that makes the change, so
 * an entry exists if and only if its change committed, and nothing is written twice. This module
 * only decides who may read which part of it and how it is filtered.
 *
 * Vocabulary
 * - domain: an event topic (agent, swarm, task, quota, finding, conflict, token, artifact, correlation, memory, context, session, webhook).
 * - action: an event type, e.g. "conflict.resolved".
 *
 * Access rule: reading a domain's entries needs that domain's read scope (admin reads all). A
 * request naming domains needs the read scope of every one of them; a request naming none gets
 * the entries of the domains the token can read.
 */
import type { Scope } from "../../auth/scopes.ts";
import { grants } from "../../auth/scopes.ts";
import type { EventTopic } from "../../events/eventLog.ts";
import type { Prisma } from "../../generated/prisma/client.ts";

/** The read scope each domain's entries need. A new topic fails to compile until it is listed here. */
export const DOMAIN_READ_SCOPE = {
  agent: "agents:read",
  swarm: "swarms:read",
  task: "tasks:read",
  quota: "quotas:read",
  finding: "findings:read",
  conflict: "findings:read",
  token: "admin",
  // Artifact entries would bypass artifact visibility (a PRIVATE artifact's type and tags), so
  // only admins, who see every artifact anyway, read them here.
  artifact: "admin",
  correlation: "admin",
  // The trail knows nothing of memory access levels or context scopes: only admins (who see every
  // entry and item anyway) read those domains there; memoryEvents/contextEvents apply the rule.
  memory: "admin",
  context: "admin",
  session: "sessions:read",
  identity: "admin",
  webhook: "webhooks:read",
} as const satisfies Record<EventTopic, Scope>;

export const AUDIT_DOMAINS = Object.keys(DOMAIN_READ_SCOPE) as EventTopic[];

/** The GraphQL type whose global id names an entity of each domain (correlations are named by their own id). */
export const DOMAIN_ENTITY_TYPE = { agent: "Agent", swarm: "Swarm", task: "Task", quota: "Quota", finding: "Finding", conflict: "Conflict", token: "TokenRevocation", artifact: "Artifact", correlation: null, memory: "MemoryEntry", context: "ContextItem", session: "Session", webhook: "Webhook", identity: null } as const satisfies Record<EventTopic, string | null>;

export function isAuditDomain(value: string): value is EventTopic {
  return Object.hasOwn(DOMAIN_READ_SCOPE, value);
}

/** The distinct read scopes the given domains need (unknown domains need none: they are refused as input). */
export function readScopesOf(domains: readonly string[]): Scope[] {
  return [...new Set(domains.filter(isAuditDomain).map((d) => DOMAIN_READ_SCOPE[d]))];
}

/** The domains whose entries a token with these scopes can read. */
export function readableDomains(held: ReadonlySet<Scope>): EventTopic[] {
  return AUDIT_DOMAINS.filter((d) => grants(held, DOMAIN_READ_SCOPE[d]));
}

export interface AuditFilter {
  /** The domains to list (already authorized). */
  domains: readonly EventTopic[];
  /** Raw id of the entity the entries are about. */
  entityId?: string | null;
  /** Token subject that made the changes ("system" for housekeeping such as the lease sweeper). */
  actor?: string | null;
  /** Entries at or after this instant. */
  from?: Date | null;
  /** Entries before this instant. */
  to?: Date | null;
}

export function auditWhere(workspaceId: string, filter: AuditFilter): Prisma.EventWhereInput {
  return {
    workspaceId,
    topic: { in: [...filter.domains] },
    entityId: filter.entityId ?? undefined,
    actor: filter.actor ?? undefined,
    createdAt: filter.from || filter.to ? { gte: filter.from ?? undefined, lt: filter.to ?? undefined } : undefined,
  };
}
