/**
 * The scopes an access token can carry. `admin` implies every other scope; a domain's write
 * scope (and `tasks:claim`) implies its read scope, so a writer can read what it wrote.
 */
export const SCOPES = {
  "agents:read": "Read agents, their health and metrics.",
  "agents:write": "Register, update, heartbeat, pause, resume and terminate agents.",
  "swarms:read": "Read swarms, their members and status.",
  "swarms:write": "Create, update, pause, resume and archive swarms; add and remove members.",
  "tasks:read": "Read tasks, attempts and progress.",
  "tasks:write": "Create, update, assign and cancel tasks.",
  "tasks:claim": "Claim tasks and report their progress and outcome (what an agent needs).",
  "findings:read": "Read findings, conflicts and their audit entries.",
  "findings:write": "Post, validate and retract findings; resolve conflicts.",
  "artifacts:read": "Read the artifacts you may see, their summary, correlations and agents' history.",
  "artifacts:write": "Publish artifacts (also as outputs of completed tasks) and run agents directly.",
  "memory:read": "Read memory entries and shared context you may see (access levels and scopes apply).",
  "memory:write": "Write and delete memory entries; publish and share context.",
  "sessions:read": "Read chat sessions and their messages.",
  "sessions:write": "Create, append to and close chat sessions.",
  "quotas:read": "Read quotas, usage and allocations.",
  "quotas:write": "Set quotas; allocate and release resources.",
  "webhooks:read": "Read webhook endpoints, their delivery log and delivery events (never their secrets).",
  "webhooks:write": "Create, change, rotate secrets of, disable, enable and delete webhook endpoints; redeliver and replay. An endpoint receives every event it matches with its full payload.",
  admin: "Everything above, in the token's workspace.",
} as const;

export type Scope = keyof typeof SCOPES;

export const ALL_SCOPES = Object.keys(SCOPES) as Scope[];

export function isScope(value: string): value is Scope {
  return Object.hasOwn(SCOPES, value);
}

/** Whether a token's scopes grant `scope`, with the implications described above. */
export function grants(held: ReadonlySet<Scope>, scope: Scope): boolean {
  if (held.has(scope) || held.has("admin")) return true;
  if (!scope.endsWith(":read")) return false;
  const domain = scope.slice(0, -":read".length);
  return held.has(`${domain}:write` as Scope) || (domain === "tasks" && held.has("tasks:claim"));
}
