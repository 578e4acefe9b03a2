/**
 * The agent lifecycle.
 *
 *   register ──► IDLE ◄──────► BUSY          (IDLE ⇄ BUSY follows claimed work: tasks module)
 *                 │  ▲          │
 *           pause │  │ resume   │ pause
 *                 ▼  │          ▼
 *                PAUSED ◄───────┘            resume returns to the status it was paused from
 *
 *   terminate: IDLE | BUSY | PAUSED ──► TERMINATED (final; time and reason kept)
 *   heartbeat, update: allowed in every status but TERMINATED
 */
import type { AgentStatus } from "../../generated/prisma/enums.ts";

export type AgentAction = "pause" | "resume" | "terminate" | "heartbeat" | "update" | "join a swarm" | "claim work";

export const AGENT_ACTIONS_ALLOWED_FROM: Record<AgentAction, readonly AgentStatus[]> = {
  pause: ["IDLE", "BUSY"],
  resume: ["PAUSED"],
  terminate: ["IDLE", "BUSY", "PAUSED"],
  heartbeat: ["IDLE", "BUSY", "PAUSED"],
  update: ["IDLE", "BUSY", "PAUSED"],
  "join a swarm": ["IDLE", "BUSY", "PAUSED"],
  "claim work": ["IDLE", "BUSY"],
};
