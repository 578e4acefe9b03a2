/**
 * Ends every open subscription at shutdown: SSE responses and graphql-ws operations then finish
 * with a `complete` at once, instead of holding the HTTP server open until SHUTDOWN_TIMEOUT_MS
 * cuts their sockets. Clients resume with their last cursor on another replica.
 */
import type { Plugin } from "graphql-yoga";

export interface SubscriptionCloser {
  plugin: Plugin;
  /** Ends every open subscription stream; returns how many there were. */
  endAll(): Promise<number>;
}

/** Longest wait for open streams to acknowledge their end at shutdown. */
const END_WAIT_MS = 1_000;

export function createSubscriptionCloser(): SubscriptionCloser {
  const open = new Set<AsyncIterator<unknown>>();
  return {
    plugin: {
      onSubscribe: () => ({
        onSubscribeResult: ({ result }) => {
          if (!(Symbol.asyncIterator in Object(result))) return;
          const iterator = result as AsyncIterableIterator<unknown>;
          open.add(iterator);
          return { onEnd: () => void open.delete(iterator) };
        },
      }),
    },
    async endAll() {
      const streams = [...open];
      open.clear();
      // An async generator suspended in an await answers return() only after that await settles
      // (possibly never: a stream waiting for its next event), so wait a moment at most; the
      // server closes the remaining connections right after.
      const ended = Promise.all(streams.map((s) => s.return?.().catch(() => undefined)));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([ended, new Promise((resolve) => (timer = setTimeout(resolve, END_WAIT_MS)))]);
      clearTimeout(timer);
      return streams.length;
    },
  };
}
