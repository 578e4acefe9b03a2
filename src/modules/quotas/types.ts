/** GraphQL types of the quotas domain. */
import { encodeGlobalID } from "@pothos/plugin-relay";
import { builder, inViewerWorkspace } from "../../schema/builder.ts";
import type { Usage } from "./service.ts";

export const QuotaKindEnum = builder.enumType("QuotaKind", {
  description: "How a quota counts.",
  values: {
    CAPACITY: { description: "Units held until released (agents, running tasks, workers at a depth)." },
    RATE: { description: "Units used per sliding time window (tasks created per hour)." },
  } as const,
});

export const HolderTypeEnum = builder.enumType("HolderType", {
  description: "What holds an allocation.",
  values: {
    TASK: { description: "A task (released automatically when the task ends)." },
    SWARM: { description: "A swarm." },
    AGENT: { description: "An agent (released automatically when it is terminated)." },
    EXTERNAL: { description: "Anything else, named by your own id (e.g. seed 003's job id)." },
  } as const,
});

export const AllocationModeEnum = builder.enumType("AllocationMode", {
  description: "What to do when fewer units are available than requested.",
  values: {
    PARTIAL: { description: "Grant what is available (asked 3, granted 2); refuse only when none is." },
    ALL_OR_NOTHING: { description: "Grant everything or nothing." },
  } as const,
});

const GLOBAL_ID_HOLDERS = { TASK: "Task", SWARM: "Swarm", AGENT: "Agent" } as const;

export const QuotaRef = builder.prismaNode("Quota", {
  description: "A workspace's limit on one resource.",
  id: { field: "id", description: "Global id of the quota." },
  authScopes: { scope: "quotas:read" },
  nullable: true,
  findUnique: inViewerWorkspace,
  fields: (t) => ({
    resource: t.exposeString("resource", { description: "The limited resource." }),
    kind: t.expose("kind", { type: QuotaKindEnum, description: "How the quota counts." }),
    limit: t.exposeInt("limit", { description: "Most units in use at once (CAPACITY) or per window (RATE)." }),
    windowSeconds: t.exposeInt("windowSeconds", { nullable: true, description: "RATE quotas: the window." }),
    custom: t.exposeBoolean("custom", { description: "Set explicitly (true) or a default (false)." }),
    updatedAt: t.expose("updatedAt", { type: "DateTime", description: "When the quota last changed." }),
  }),
});

export const AllocationRef = builder.prismaNode("Allocation", {
  description: "Units of a resource granted to a holder.",
  id: { field: "id", description: "Global id of the allocation." },
  authScopes: { scope: "quotas:read" },
  nullable: true,
  findUnique: inViewerWorkspace,
  fields: (t) => ({
    resource: t.exposeString("resource", { description: "The resource." }),
    holderType: t.expose("holderType", { type: HolderTypeEnum, description: "What holds it." }),
    holderId: t.string({
      description: "The holder: a global id for TASK, SWARM and AGENT; your own id for EXTERNAL.",
      resolve: (a) => (a.holderType === "EXTERNAL" ? a.holderId : encodeGlobalID(GLOBAL_ID_HOLDERS[a.holderType], a.holderId)),
    }),
    requested: t.exposeInt("requested", { description: "Units asked for." }),
    granted: t.exposeInt("granted", { description: "Units granted (less than requested for a partial grant)." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the units were granted." }),
    releasedAt: t.expose("releasedAt", { type: "DateTime", nullable: true, description: "When they were given back; null while held (RATE allocations never are)." }),
  }),
});

export const QuotaUsageRef = builder.objectRef<Usage>("QuotaUsage").implement({
  description: "Where one resource stands: limit, allocated, available (seed 003's usage per depth).",
  fields: (t) => ({
    resource: t.exposeString("resource", { description: "The resource." }),
    kind: t.field({ type: QuotaKindEnum, description: "How it counts.", resolve: (u) => u.kind }),
    limit: t.exposeInt("limit", { description: "The limit in force (explicit or default)." }),
    allocated: t.exposeInt("allocated", { description: "Units in use (held, or used inside the window)." }),
    available: t.exposeInt("available", { description: "limit − allocated, never below 0." }),
    windowSeconds: t.exposeInt("windowSeconds", { nullable: true, description: "RATE quotas: the window." }),
    custom: t.exposeBoolean("custom", { description: "Whether the limit was set explicitly." }),
  }),
});
