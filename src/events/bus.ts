/**
 * The typed in-process event bus: the tailer publishes every committed event-log row to it, in
 * id order, and each subscription listens to its workspace. Listeners are called synchronously,
 * so "register a listener, then read the tailer's position" gives an exact split between what
 * a subscription must replay from the log and what it will receive live.
 *
 * A listener may name the entities it follows (`taskProgress` follows one task). Those listeners
 * are indexed by entity id, so an event costs one call per listener that wants it, not one per
 * listener of the workspace: 5,000 streams each on its own task cost one call per progress
 * report, not 5,000. Events of the `token` topic (revocations) still reach every listener of the
 * workspace, because each stream must re-check its viewer's access when one arrives.
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

/** The topic whose events reach every listener of their workspace, whatever entities it follows. */
export const BROADCAST_TOPIC = "token";

export interface ListenOptions {
  /** Only events about these entities (plus every `token` event); omit for all of the workspace. */
  entityIds?: readonly string[];
}

export interface EventBus {
  /** Delivers one event to this process's listeners of its workspace. */
  publish(event: EventRecord): void;
  /** Listens to the events of a workspace (those of some entities only, see ListenOptions); returns the function that stops listening. */
  listen(workspaceId: string, listener: EventListener, options?: ListenOptions): () => void;
  /** Listens to every event of every workspace, ahead of the workspaces' listeners (server-wide state such as revocations). */
  listenAll(listener: EventListener): () => void;
  /** How many listeners are registered (tests check that closed subscriptions let go). */
  readonly listenerCount: number;
}

/** A workspace's listeners: those of every event, and those of some entities, by entity. */
interface WorkspaceListeners {
  all: Set<EventListener>;
  byEntity: Map<string, Set<EventListener>>;
  /** Listeners in byEntity (each once, however many entities it follows): the `token` events' audience. */
  entityFollowers: Set<EventListener>;
}

export function createEventBus(): EventBus {
  const workspaces = new Map<string, WorkspaceListeners>();
  const everywhere = new Set<EventListener>();
  let count = 0;
  // Sets are iterated in place: a listener removed during a publish is not called, and one added
  // during it reads the tailer's position after this event, so it drops the event if called.
  return {
    publish(event) {
      for (const listener of everywhere) listener(event);
      const listeners = workspaces.get(event.workspaceId);
      if (!listeners) return;
      for (const listener of listeners.all) listener(event);
      if (event.topic === BROADCAST_TOPIC) {
        for (const listener of listeners.entityFollowers) listener(event);
      } else {
        const followers = listeners.byEntity.get(event.entityId);
        if (followers) for (const listener of followers) listener(event);
      }
    },
    listen(workspaceId, listener, options) {
      let listeners = workspaces.get(workspaceId);
      if (!listeners) workspaces.set(workspaceId, (listeners = { all: new Set(), byEntity: new Map(), entityFollowers: new Set() }));
      const entityIds = options?.entityIds ? [...new Set(options.entityIds)] : undefined;
      // A function of its own per registration: the same listener may be registered twice.
      const registered: EventListener = (event) => listener(event);
      if (entityIds) {
        listeners.entityFollowers.add(registered);
        for (const id of entityIds) {
          let followers = listeners.byEntity.get(id);
          if (!followers) listeners.byEntity.set(id, (followers = new Set()));
          followers.add(registered);
        }
      } else {
        listeners.all.add(registered);
      }
      count++;
      const own = listeners;
      let listening = true;
      return () => {
        if (!listening) return;
        listening = false;
        count--;
        own.all.delete(registered);
        own.entityFollowers.delete(registered);
        for (const id of entityIds ?? []) {
          const followers = own.byEntity.get(id);
          followers?.delete(registered);
          if (followers?.size === 0) own.byEntity.delete(id);
        }
        if (own.all.size === 0 && own.entityFollowers.size === 0 && workspaces.get(workspaceId) === own) workspaces.delete(workspaceId);
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
