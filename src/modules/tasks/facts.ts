/**
 * What never changes about a task — its workspace, swarm and type — loaded once per process for
 * every subscription that filters events by them (`swarmEvents`, `taskEvents(filter: { swarmId,
 * taskTypes })`). Task events do not carry the swarm, so each stream used to look up the tasks of
 * every new batch itself: a thousand subscribers of one swarm ran a thousand identical queries per
 * new task. Here concurrent lookups of one tick are batched into one query (DataLoader) and the
 * answers kept in an LRU. Facts are immutable, so the cache is never stale; it is keyed by task
 * id alone, and a fact of another workspace reads as unknown, so no tenant sees another's tasks.
 * An id not found is not cached: a lookup may race the task's own commit on another path.
 */
import DataLoader from "dataloader";
import { LRUCache } from "lru-cache";
import type { PrismaClient } from "../../db/client.ts";

export interface TaskFact {
  swarmId: string | null;
  type: string;
}

interface StoredFact extends TaskFact {
  workspaceId: string;
}

export interface TaskFacts {
  /** The facts of these tasks of the workspace; an id of no task of the workspace maps to null. */
  get(workspaceId: string, taskIds: readonly string[]): Promise<Map<string, TaskFact | null>>;
}

/** Facts kept per process: about 100 bytes each. */
const CACHED_FACTS = 100_000;

export function createTaskFacts(db: Pick<PrismaClient, "task">): TaskFacts {
  const loader: DataLoader<string, StoredFact | null> = new DataLoader(
    async (ids) => {
      const rows = await db.task.findMany({ where: { id: { in: [...ids] } }, select: { id: true, workspaceId: true, swarmId: true, type: true } });
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => {
        const row = byId.get(id);
        if (!row) loader.clear(id);
        return row ?? null;
      });
    },
    { cacheMap: new LRUCache<string, Promise<StoredFact | null>>({ max: CACHED_FACTS }), maxBatchSize: 1_000 },
  );
  return {
    async get(workspaceId, taskIds) {
      const ids = [...new Set(taskIds)];
      const facts = await loader.loadMany(ids);
      const out = new Map<string, TaskFact | null>();
      ids.forEach((id, i) => {
        const fact = facts[i];
        if (fact instanceof Error) throw fact;
        out.set(id, fact && fact.workspaceId === workspaceId ? { swarmId: fact.swarmId, type: fact.type } : null);
      });
      return out;
    },
  };
}
