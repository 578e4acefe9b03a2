/** Changes to shared memory. Each mutation maps its input to one service call. */
import { AccessDeniedError, NotFoundError, QuotaExceededError, VersionConflictError } from "../../errors.ts";
import { builder } from "../../schema/builder.ts";
import { rawId } from "../../schema/globalIds.ts";
import * as memory from "./service.ts";
import { MemoryAccessLevelEnum, MemoryEntryRef, readerFor } from "./types.ts";

const PutMemoryInput = builder.inputType("PutMemoryInput", {
  description: "A write of the entry at (namespace, key): creates it, or writes its next version.",
  fields: (t) => ({
    namespace: t.string({ required: true, description: "The namespace (1–100 characters: letters, digits, _ . : / -), e.g. project-alpha." }),
    key: t.string({ required: true, description: "The key (1–200 characters, no whitespace), e.g. api/design. `/` makes prefixes that deleteMemory's cascade and memoryEvents' keyPrefix use." }),
    value: t.field({ type: "JSON", required: true, description: "The value: any JSON, at most MEMORY_MAX_VALUE_BYTES as JSON text (with merge: the result)." }),
    merge: t.boolean({
      required: false,
      defaultValue: false,
      description: "Apply `value` as a JSON Merge Patch (RFC 7396) to the current value, atomically: objects merge key by key, recursively; a null member deletes its key; arrays and other values replace. Default false: replace the value.",
    }),
    ttlSeconds: t.int({ required: false, description: "Expire this many seconds from now (at most ten years); 0 removes the expiry; omitted keeps the entry's current expiry (none for a new entry)." }),
    tags: t.stringList({ required: false, description: "Labels (letters, digits, _ . : / -); replace the current ones. Omitted: keep them." }),
    accessLevel: t.field({ type: MemoryAccessLevelEnum, required: false, description: "Who may read it. Omitted: keep the current level (WORKSPACE for a new entry). Only the owner may change it." }),
    swarmId: t.globalID({ required: false, description: "With accessLevel SWARM: the swarm whose members may read it." }),
    agentId: t.globalID({ required: false, description: "Write as this agent (one your token registered; an admin may name any): it is recorded with the version, and whoever acts as it may read the entry." }),
    expectedVersion: t.int({
      required: false,
      description: "Compare-and-set: write only if the entry is at this version now (0: only if the key holds no entry); otherwise VersionConflictError and nothing is written. Omitted: write whatever the version.",
    }),
  }),
});

const PutMemoryPayload = builder.objectRef<memory.WrittenMemory>("PutMemoryPayload").implement({
  description: "The entry after the write.",
  fields: (t) => ({
    entry: t.field({ type: MemoryEntryRef, description: "The entry as written (its new version).", resolve: (p) => ({ entry: p.entry, at: null }) }),
    created: t.exposeBoolean("created", { description: "Whether this write created the entry (version 1)." }),
  }),
});

const DeleteMemoryInput = builder.inputType("DeleteMemoryInput", {
  description: "Which entries to delete.",
  fields: (t) => ({
    namespace: t.string({ required: true, description: "The namespace." }),
    key: t.string({ required: true, description: "The key; with cascade, a key prefix." }),
    cascade: t.boolean({
      required: false,
      defaultValue: false,
      description: `Delete every entry of the namespace whose key starts with \`key\` (at most ${memory.MAX_CASCADE} per call; repeat while hasMore).`,
    }),
  }),
});

const DeletedMemoryKey = builder.objectRef<memory.DeletedMemory["deleted"][number]>("DeletedMemoryKey").implement({
  description: "An entry that was deleted.",
  fields: (t) => ({
    namespace: t.exposeString("namespace", { description: "Its namespace." }),
    key: t.exposeString("key", { description: "Its key." }),
    version: t.exposeInt("version", { description: "The version it was at." }),
  }),
});

const DeleteMemoryPayload = builder.objectRef<memory.DeletedMemory>("DeleteMemoryPayload").implement({
  description: "What was deleted (nothing, when no entry you may see matched).",
  fields: (t) => ({
    deleted: t.field({ type: [DeletedMemoryKey], description: "The deleted entries, by key.", resolve: (p) => p.deleted }),
    deletedCount: t.int({ description: "How many were deleted.", resolve: (p) => p.deleted.length }),
    hasMore: t.exposeBoolean("hasMore", { description: `A cascade stopped at ${memory.MAX_CASCADE} entries and more match: call again.` }),
  }),
});

builder.mutationFields((t) => ({
  putMemory: t.field({
    type: PutMemoryPayload,
    description:
      "Writes the entry at (namespace, key): creates it or writes its next version (kept in its history), atomically with the merge and the compare-and-set check. Counts against the memory.bytes quota.",
    authScopes: { scope: "memory:write" },
    errors: { types: [VersionConflictError, AccessDeniedError, QuotaExceededError, NotFoundError] },
    args: { input: t.arg({ type: PutMemoryInput, required: true, description: "What to write." }) },
    resolve: async (_root, { input }, ctx) =>
      memory.putMemory(
        ctx.db,
        await readerFor(ctx),
        {
          namespace: input.namespace,
          key: input.key,
          value: input.value,
          merge: input.merge ?? false,
          ttlSeconds: input.ttlSeconds,
          tags: input.tags,
          accessLevel: input.accessLevel,
          swarmId: input.swarmId ? rawId(input.swarmId, "Swarm") : null,
          agentId: input.agentId ? rawId(input.agentId, "Agent") : null,
          expectedVersion: input.expectedVersion,
        },
        { maxValueBytes: ctx.config.memoryMaxValueBytes, versionsKept: ctx.config.memoryVersionsKept },
      ),
  }),
  deleteMemory: t.field({
    type: DeleteMemoryPayload,
    description: "Deletes the entry at (namespace, key), or with cascade every entry under a key prefix, among those you may see; gives their bytes back to the quota.",
    authScopes: { scope: "memory:write" },
    errors: {},
    args: { input: t.arg({ type: DeleteMemoryInput, required: true, description: "Which entries." }) },
    resolve: async (_root, { input }, ctx) => memory.deleteMemory(ctx.db, await readerFor(ctx), { namespace: input.namespace, key: input.key, cascade: input.cascade ?? false }),
  }),
}));
