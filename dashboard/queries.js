// The GraphQL documents the dashboard sends. Each panel has its own query, so a token without
// one domain's scope loses that panel only, and each stays under the server's query limits.

export const VIEWER = `query DashboardViewer { viewer { subject workspaceId scopes expiresAt } }`;

export const SWARMS = `query DashboardSwarms {
  swarms(first: 50, filter: { status: [ACTIVE, PAUSED] }) {
    totalCount
    edges { node {
      id name objective status topology maxAgents
      members { role agent { id name status } }
      taskSummary { total progress byStatus { status count } }
    } }
  }
}`;

export const AGENTS = `query DashboardAgents {
  agents(first: 100, filter: { status: [IDLE, BUSY, PAUSED] }, orderBy: { field: NAME, direction: ASC }) {
    totalCount
    edges { node { id name type status capabilities health { status secondsSinceLastSeen } } }
  }
  busy: tasks(first: 100, filter: { status: [CLAIMED, RUNNING] }) {
    edges { node { id description status progress assignee { id } } }
  }
}`;

export const TASK_STATUSES = ["WAITING", "PENDING", "CLAIMED", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"];

export const TASK_COUNTS = `query DashboardTaskCounts {
  ${TASK_STATUSES.map((s) => `${s}: tasks(first: 1, filter: { status: [${s}] }) { totalCount }`).join("\n  ")}
}`;

export const TASKS = `query DashboardTasks($filter: TaskFilter) {
  tasks(first: 50, filter: $filter, orderBy: { field: UPDATED_AT, direction: DESC }) {
    totalCount
    edges { node { id type description status priority progress updatedAt assignee { name } swarm { name } } }
  }
}`;

export const TASK_TIMELINE = `query DashboardTaskTimeline($id: ID!) {
  task(id: $id) {
    id type description status progress partialResult result error attemptCount maxAttempts
    createdAt claimedAt startedAt completedAt failedAt cancelledAt cancelReason
    attempts { fence claimedAt endedAt outcome error agent { name } }
  }
  auditTrail(last: 100, filter: { entity: $id, domain: ["task"] }) {
    edges { node { id action at actor details } }
  }
}`;

export const THROUGHPUT = `query DashboardThroughput {
  completed: tasks(first: 100, filter: { status: [COMPLETED] }, orderBy: { field: UPDATED_AT, direction: DESC }) { edges { node { id completedAt } } }
  failed: tasks(first: 100, filter: { status: [FAILED] }, orderBy: { field: UPDATED_AT, direction: DESC }) { edges { node { id failedAt } } }
}`;

export const CONFLICTS = `query DashboardConflicts {
  conflicts(first: 20, filter: { status: [OPEN] }) {
    totalCount
    edges { node {
      id subject confidenceDelta escalationRecommended createdAt
      findingA { id claim position confidence postedBy }
      findingB { id claim position confidence postedBy }
    } }
  }
}`;

export const RESOLVE_CONFLICT = `mutation DashboardResolveConflict($input: ResolveConflictInput!) {
  resolveConflict(input: $input) {
    __typename
    ... on ResolveConflictPayload { conflict { id status } }
    ... on InvalidInputError { message issues { path message } }
    ... on Error { code message }
  }
}`;

export const QUOTAS = `query DashboardQuotas { quotaUsage { resource kind limit allocated available windowSeconds } }`;

/**
 * Where live events continue (the log's head, read before any panel's state), and the recent
 * history the feed opens with.
 */
export const RECENT_EVENTS = `query DashboardRecentEvents { eventLogHead auditTrail(last: 40) { edges { node { id action at actor entityId details } } } }`;
export const LOG_HEAD = `query DashboardLogHead { eventLogHead }`;

const EVENT = "cursor type at actor";

/** The live streams, each resumed after its own last cursor. `topic` names what to refresh. */
export const STREAMS = [
  { topic: "task", field: "taskEvents", query: `subscription DashboardTaskEvents($after: String) { taskEvents(after: $after) { ${EVENT} taskId status progress task { description } } }` },
  { topic: "agent", field: "agentEvents", query: `subscription DashboardAgentEvents($after: String) { agentEvents(after: $after) { ${EVENT} agentId toStatus health agent { name } } }` },
  { topic: "conflict", field: "conflictEvents", query: `subscription DashboardConflictEvents($after: String) { conflictEvents(after: $after) { ${EVENT} conflictId conflict { subject } } }` },
  { topic: "finding", field: "findingEvents", query: `subscription DashboardFindingEvents($after: String) { findingEvents(after: $after) { ${EVENT} findingId finding { subject } } }` },
  { topic: "quota", field: "quotaEvents", query: `subscription DashboardQuotaEvents($after: String) { quotaEvents(after: $after) { ${EVENT} resource } }` },
];
