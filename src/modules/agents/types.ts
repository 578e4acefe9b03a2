/** GraphQL types of the agents domain. */
import { builder, inViewerWorkspace } from "../../schema/builder.ts";
import { agentHealth, type HealthCounts, type HealthStatus, healthThresholds } from "./service.ts";

export const AgentStatusEnum = builder.enumType("AgentStatus", {
  description: "Where an agent is in its lifecycle. See the README's agent state machine.",
  values: {
    IDLE: { description: "Running and holding no claimed work." },
    BUSY: { description: "Running and holding claimed work." },
    PAUSED: { description: "Paused by an operator: receives no new work until resumed." },
    TERMINATED: { description: "Terminated for good; kept for history with its termination time and reason." },
  } as const,
});

export const AgentHealthStatusEnum = builder.enumType("AgentHealthStatus", {
  description: "Health derived from the age of the agent's last heartbeat (thresholds are server settings).",
  values: {
    HEALTHY: { description: "Heard from within HEARTBEAT_DEGRADED_AFTER_SECONDS." },
    DEGRADED: { description: "Silent longer than HEARTBEAT_DEGRADED_AFTER_SECONDS." },
    UNRESPONSIVE: { description: "Silent longer than HEARTBEAT_UNRESPONSIVE_AFTER_SECONDS." },
    OFFLINE: { description: "Terminated: no heartbeat is expected." },
  } as const,
});

export const OrderDirectionEnum = builder.enumType("OrderDirection", {
  description: "Sort direction.",
  values: { ASC: { description: "Smallest first." }, DESC: { description: "Largest first." } } as const,
});

interface AgentHealthShape {
  status: "HEALTHY" | "DEGRADED" | "UNRESPONSIVE" | "OFFLINE";
  silenceSeconds: number;
  lastHeartbeatAt: Date | null;
  metrics: unknown;
}

const AgentHealth = builder.objectRef<AgentHealthShape>("AgentHealth").implement({
  description: "An agent's health: derived status, last heartbeat and the resource metrics it reported.",
  fields: (t) => ({
    status: t.field({ type: AgentHealthStatusEnum, description: "Health derived from the heartbeat age.", resolve: (h) => h.status }),
    lastHeartbeatAt: t.field({ type: "DateTime", nullable: true, description: "When the last heartbeat arrived; null if none yet.", resolve: (h) => h.lastHeartbeatAt }),
    secondsSinceLastSeen: t.float({ description: "Seconds since the last heartbeat (or since registration, if none yet).", resolve: (h) => Math.round(h.silenceSeconds * 1000) / 1000 }),
    metrics: t.field({ type: "JSON", nullable: true, description: "Resource metrics sent with the last heartbeat that carried any (cpu, memory, queue size, …).", resolve: (h) => h.metrics }),
  }),
});

export const AgentRef = builder.prismaNode("Agent", {
  description: "A worker process (an AI agent, a CLI, a service) that registers, heartbeats and does work.",
  id: { field: "id", description: "Global id of the agent." },
  authScopes: { scope: "agents:read" },
  nullable: true,
  findUnique: inViewerWorkspace,
  fields: (t) => ({
    name: t.exposeString("name", { description: "Human-readable name, e.g. Coder-Alpha." }),
    type: t.exposeString("type", { description: "Kind of agent, e.g. coder, researcher, tester. Free-form." }),
    status: t.expose("status", { type: AgentStatusEnum, description: "Lifecycle status." }),
    capabilities: t.exposeStringList("capabilities", { description: "What the agent can do, as a sorted set of names; work is matched against it." }),
    config: t.expose("config", { type: "JSON", description: "Agent configuration as registered (model, temperature, …)." }),
    metadata: t.expose("metadata", { type: "JSON", description: "Free-form labels for operators (project, team, …)." }),
    health: t.field({
      type: AgentHealth,
      description: "Health derived from heartbeats, with the last reported metrics.",
      select: { lastHeartbeatAt: true, createdAt: true, status: true, metrics: true },
      resolve: (agent, _args, ctx) => ({
        ...agentHealth(agent, new Date(), healthThresholds(ctx.config)),
        lastHeartbeatAt: agent.lastHeartbeatAt,
        metrics: agent.metrics,
      }),
    }),
    lastHeartbeatAt: t.expose("lastHeartbeatAt", { type: "DateTime", nullable: true, description: "When the last heartbeat arrived; null if none yet." }),
    terminatedAt: t.expose("terminatedAt", { type: "DateTime", nullable: true, description: "When the agent was terminated; null while it is not." }),
    terminationReason: t.exposeString("terminationReason", { nullable: true, description: "Why the agent was terminated, as given by the operator." }),
    registeredBy: t.exposeString("registeredBy", {
      nullable: true,
      description: "Subject of the token that registered the agent. That token acts as this agent when artifact visibility is checked (PRIVATE readers, LABELLED labels, producer).",
    }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the agent registered." }),
    updatedAt: t.expose("updatedAt", { type: "DateTime", description: "When the agent last changed." }),
  }),
});

export const AgentStatusCount = builder.objectRef<{ status: "IDLE" | "BUSY" | "PAUSED" | "TERMINATED"; count: number }>("AgentStatusCount").implement({
  description: "How many agents have one status.",
  fields: (t) => ({
    status: t.field({ type: AgentStatusEnum, description: "The status counted.", resolve: (c) => c.status }),
    count: t.exposeInt("count", { description: "Number of agents with that status." }),
  }),
});

export const AgentHealthCount = builder.objectRef<{ status: HealthStatus; count: number }>("AgentHealthCount").implement({
  description: "How many agents have one health status.",
  fields: (t) => ({
    status: t.field({ type: AgentHealthStatusEnum, description: "The health status counted.", resolve: (c) => c.status }),
    count: t.exposeInt("count", { description: "Number of agents with that health status." }),
  }),
});

/** Every health status with its count, zeros included, in enum order. */
export function healthCountList(counts: HealthCounts): { status: HealthStatus; count: number }[] {
  return (["HEALTHY", "DEGRADED", "UNRESPONSIVE", "OFFLINE"] as const).map((status) => ({ status, count: counts[status] }));
}
