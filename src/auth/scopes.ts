/**
 * The scopes an access token can carry. `admin` implies every other scope.
 */
export const SCOPES = {
  "agents:read": "Read agents, their health and metrics.",
  "agents:write": "Register, update, heartbeat, pause, resume and terminate agents.",
  "swarms:read": "Read swarms, their members and status.",
  "swarms:write": "Create, update, pause, resume and archive swarms; add and remove members.",
  "tasks:read": "Read tasks, attempts and progress.",
  "tasks:write": "Create, update, assign and cancel tasks.",
  "tasks:claim": "Claim tasks and report their progress and outcome (what an agent needs).",
  "findings:read": "Read findings and conflicts.",
  "findings:write": "Post, validate and retract findings; resolve conflicts.",
  "artifacts:read": "Read artifacts.",
  "artifacts:write": "Publish artifacts.",
  "quotas:read": "Read quotas, usage and allocations.",
  "quotas:write": "Set quotas; allocate and release resources.",
  admin: "Everything above, in the token's workspace.",
} as const;

export type Scope = keyof typeof SCOPES;

export const ALL_SCOPES = Object.keys(SCOPES) as Scope[];

export function isScope(value: string): value is Scope {
  return Object.hasOwn(SCOPES, value);
}
