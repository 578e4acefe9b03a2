/**
 * The resources quotas can limit, and their defaults per workspace.
 *
 *   agents                  CAPACITY  registered, not terminated agents            default 1000
 *   tasks.running           CAPACITY  tasks held by agents (CLAIMED or RUNNING)    default 1000
 *   tasks.created_per_hour  RATE      tasks created in the last hour               default 100000 / 3600 s
 *   subscriptions           CAPACITY  open subscriptions                           default 500
 *   memory.bytes            CAPACITY  bytes of the values of live memory entries   default 100 MiB
 *   workers:depth:<n>       CAPACITY  workers for jobs at depth n (seed 003)       defaults 10, 8, 5, 3, 2, 1 for n = 0..5
 *   <custom>                CAPACITY or RATE, only once set with setQuota
 */
import type { QuotaKind } from "../../generated/prisma/enums.ts";

export interface QuotaDefault {
  kind: QuotaKind;
  limit: number;
  windowSeconds: number | null;
}

export const RESOURCE_PATTERN = /^[a-z][a-z0-9_.]*(:[a-z0-9_]+)*$/;

const DEPTH_DEFAULTS = [10, 8, 5, 3, 2, 1];

const BUILT_IN: Record<string, QuotaDefault> = {
  agents: { kind: "CAPACITY", limit: 1000, windowSeconds: null },
  "tasks.running": { kind: "CAPACITY", limit: 1000, windowSeconds: null },
  "tasks.created_per_hour": { kind: "RATE", limit: 100_000, windowSeconds: 3600 },
  subscriptions: { kind: "CAPACITY", limit: 500, windowSeconds: null },
  "memory.bytes": { kind: "CAPACITY", limit: 100 * 1024 * 1024, windowSeconds: null },
};

/** The default quota of a resource, or undefined when it has none (it must be set first). */
export function defaultQuota(resource: string): QuotaDefault | undefined {
  const builtIn = BUILT_IN[resource];
  if (builtIn) return builtIn;
  const depth = /^workers:depth:(\d+)$/.exec(resource);
  if (depth) {
    const limit = DEPTH_DEFAULTS[Number(depth[1])];
    return limit === undefined ? undefined : { kind: "CAPACITY", limit, windowSeconds: null };
  }
  return undefined;
}

/** Every resource that has a default, for usage listings. */
export function defaultResources(): string[] {
  return [...Object.keys(BUILT_IN), ...DEPTH_DEFAULTS.map((_, depth) => `workers:depth:${depth}`)];
}
