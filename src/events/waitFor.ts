/**
 * Waiting on the event bus instead of polling the database: a condition is checked once at the
 * start and again only after an event that may have changed it.
 */
import type { EventBus, EventRecord } from "./bus.ts";

/**
 * Resolves true as soon as `done()` holds, false once `timeoutMs` passed. `done()` runs at once
 * and again after every event of the workspace that `wakes` accepts; the listener is registered
 * before the first check, so a change committed meanwhile is never missed.
 */
export async function waitForEvents(
  bus: EventBus,
  workspaceId: string,
  wakes: (event: EventRecord) => boolean,
  done: () => Promise<boolean>,
  timeoutMs: number,
): Promise<boolean> {
  let dirty = true;
  let wake: (() => void) | undefined;
  const unlisten = bus.listen(workspaceId, (event) => {
    if (!wakes(event)) return;
    dirty = true;
    wake?.();
  });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (dirty) {
        dirty = false;
        if (await done()) return true;
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
      wake = undefined;
    }
  } finally {
    unlisten();
  }
}
