// The live side: one graphql-ws connection, one subscription per event topic, each resumed after
// the last cursor it delivered, so a reconnect (network blip, server restart) replays exactly
// what was missed: no gap, no duplicate.
import { describeErrors, ApiError } from "./api.js";
import { STREAMS } from "./queries.js";

/**
 * Subscribes to every stream after `head` (the newest event the page already shows; null for
 * "from now on"). Callbacks: onEvent(topic, event), onStatus(status), onAccessLost(ApiError),
 * onStreamError(topic, ApiError) for a stream the server refused (e.g. a missing scope).
 */
export function startLive(session, head, { onEvent, onStatus, onAccessLost, onStreamError }) {
  const client = session.connect({ onStatus, onAccessLost });
  const stops = STREAMS.map((stream) => {
    // graphql-ws re-sends this very object when it resubscribes after a reconnect: moving
    // `after` forward as events arrive makes the resumed stream start right after the last one.
    const variables = { after: head };
    return client.subscribe(
      { query: stream.query, variables },
      {
        next: ({ data, errors }) => {
          if (errors?.length) onStreamError(stream.topic, describeErrors(errors));
          const event = data?.[stream.field];
          if (!event) return;
          variables.after = event.cursor;
          onEvent(stream.topic, event);
        },
        error: (error) => {
          if (Array.isArray(error)) onStreamError(stream.topic, describeErrors(error));
          else if (!(error && typeof error.code === "number")) onStreamError(stream.topic, new ApiError("server", String(error?.message ?? error)));
          // A close event (code) is the connection's business: onStatus/onAccessLost report it.
        },
        complete: () => undefined,
      },
    );
  });
  return {
    stop() {
      for (const stop of stops) stop();
      void client.dispose();
    },
  };
}

/** Orders event cursors (decimal strings of any length) numerically. */
export function compareCursors(a, b) {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
