// Preact hooks the panels share.
import { useEffect, useRef, useState } from "/vendor/preact-htm.js";

/**
 * Runs `query` now and again whenever `refreshKey` or `variables` change. Requests never
 * overlap: changes during a request collapse into one more request after it, so a burst of
 * events costs two round trips, not one per event. Keeps the last data while refreshing and on
 * error; an "auth" error is also reported to `onAuthLost` (the token is no longer good).
 */
export function useQuery(session, query, variables, refreshKey, onAuthLost) {
  const [state, setState] = useState({ data: null, error: null });
  const self = useRef(null);
  if (!self.current) self.current = { busy: false, again: false, mounted: true, latest: null };
  const run = self.current;
  run.latest = { query, variables };
  useEffect(() => () => void (run.mounted = false), []);
  useEffect(() => {
    const go = () => {
      if (run.busy) {
        run.again = true;
        return;
      }
      run.busy = true;
      session
        .request(run.latest.query, run.latest.variables)
        .then(
          (data) => run.mounted && setState({ data, error: null }),
          (error) => {
            if (!run.mounted) return;
            if (error.kind === "auth") onAuthLost?.(error);
            setState((previous) => ({ data: previous.data, error }));
          },
        )
        .finally(() => {
          run.busy = false;
          if (run.again && run.mounted) {
            run.again = false;
            go();
          }
        });
    };
    go();
  }, [query, JSON.stringify(variables ?? {}), refreshKey]);
  return state;
}

/** The current time, updated every `ms` (heartbeat ages tick without asking the server). */
export function useNow(ms = 1000) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}
