/**
 * The typed in-process event bus: the tailer publishes every committed event-log row to it, in
 * id order, and each subscription listens to its workspace. Listeners are called synchronously,
 * so "register a listener, then read the tailer's position" gives an exact split between what
 * a subscription must replay from the log and what it will receive live.
 *
 * There is no second bus for other replicas: each replica tails the shared log itself (see
 * tailer.ts); Redis only carries a wake-up nudge.
 */

/** One committed row of the event log, as subscriptions see it. */
export interface EventRecord {
  /** The log id: the subscription cursor. */
  id: bigint;
  workspaceId: string;
  topic: string;
  type: string;
  entityId: string;
  payload: Record<string, unknown>;
  actor: string | null;
  createdAt: Date;
}

export type EventListener = (event: EventRecord) => void;

export interface EventBus {
  /** Delivers one event to this process's listeners of its workspace. */
  publish(event: EventRecord): void;
  /** Listens to every event of a workspace; returns the function that stops listening. */
  listen(workspaceId: string, listener: EventListener): () => void;
  /** Listens to every event of every workspace, ahead of the workspaces' listeners (server-wide state such as revocations). */
  listenAll(listener: EventListener): () => void;
  /** How many listeners are registered (tests check that closed subscriptions let go). */
  readonly listenerCount: number;
}

export function createEventBus(): EventBus {
  const byWorkspace = new Map<string, Set<EventListener>>();
  const everywhere = new Set<EventListener>();
  let count = 0;
  return {
    publish(event) {
      for (const listener of [...everywhere]) listener(event);
      const listeners = byWorkspace.get(event.workspaceId);
      if (!listeners) return;
      for (const listener of [...listeners]) listener(event);
    },
    listen(workspaceId, listener) {
      let listeners = byWorkspace.get(workspaceId);
      if (!listeners) byWorkspace.set(workspaceId, (listeners = new Set()));
      listeners.add(listener);
      count++;
      let listening = true;
      return () => {
        if (!listening) return;
        listening = false;
        count--;
        listeners.delete(listener);
        if (listeners.size === 0) byWorkspace.delete(workspaceId);
      };
    },
    listenAll(listener) {
      everywhere.add(listener);
      return () => everywhere.delete(listener);
    },
    get listenerCount() {
      return count;
    },
  };
}
