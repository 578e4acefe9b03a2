/**
 * Guards the process against a broken embedded database.
 *
 * Why: PGlite runs PostgreSQL's main loop inside JavaScript. PostgreSQL reports an ERROR by
 * longjmp, which PGlite 0.4 turns into a JS exception with a known status and recovers from. Any
 * other exception thrown out of the loop — above all V8's "Maximum call stack size exceeded",
 * thrown when a deeply recursive parse (jsonb nested ~8,000 deep, a websearch query of ~30,000
 * words) exhausts the native stack, which PostgreSQL's own `max_stack_depth` check cannot see
 * under WebAssembly — is swallowed by PGlite's `execProtocolRawSync`: the statement silently
 * returns no rows, the backend is left mid-statement (resource owners half released, error
 * stack not unwound), later statements fail with "ResourceOwnerEnlarge called after release
 * started" or return nonsense, and eventually PostgreSQL PANICs ("ERRORDATA_STACK_SIZE
 * exceeded"). Nothing about such a backend can be trusted again.
 *
 * What this does: it wraps the loop step, so such an exception (or an abort after a PANIC) marks
 * the database failed; from then on every statement — the one that hit it included — rejects with
 * {@link DatabaseFailedError} instead of answering, and `onFailure` is called once so the server
 * can log it, turn /ready to 503 and exit. Input limits (MAX_INPUT_DEPTH, MAX_SEARCH_TEXT_LENGTH)
 * keep requests from getting here; this makes sure that whatever does is never silent.
 */
import type { PGlite } from "@electric-sql/pglite";

/** The embedded database's engine failed; it refuses every statement until the process restarts. */
export class DatabaseFailedError extends Error {
  override name = "DatabaseFailedError";
  constructor(override readonly cause: unknown) {
    super(
      `the embedded database (PGlite) failed and cannot be trusted any more: ${cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)}. ` +
        "Restart the server; the data directory holds what was committed before the failure.",
    );
  }
}

/** The PGlite internals the guard relies on (PGlite 0.4.x). */
interface PGliteInternals {
  POSTGRES_MAIN_LONGJMP: number;
  mod: { _PostgresMainLoopOnce: (...args: unknown[]) => unknown };
  execProtocolRawSync: (message: Uint8Array) => Uint8Array;
}

/**
 * Installs the guard on an open PGlite instance. Throws at start (rather than run unguarded) when
 * this PGlite version no longer has the internals it wraps.
 * @returns the failure, once there is one
 */
export function guardPglite(pglite: PGlite, onFailure: (error: DatabaseFailedError) => void): () => DatabaseFailedError | null {
  const internals = pglite as unknown as PGliteInternals;
  const step = internals.mod?._PostgresMainLoopOnce;
  const exec = internals.execProtocolRawSync;
  const longjmp = internals.POSTGRES_MAIN_LONGJMP;
  if (typeof step !== "function" || typeof exec !== "function" || typeof longjmp !== "number") {
    throw new Error("this PGlite version lacks the internals src/db/pgliteGuard.ts wraps (PostgresMainLoopOnce, execProtocolRawSync); update the guard for it");
  }
  let failure: DatabaseFailedError | null = null;
  internals.mod._PostgresMainLoopOnce = (...args: unknown[]) => {
    try {
      return step(...args);
    } catch (error) {
      if ((error as { status?: unknown } | null)?.status !== longjmp && !failure) {
        failure = new DatabaseFailedError(error);
        const failed = failure;
        // Not from inside PostgreSQL's loop: the callback may log, close sockets and exit.
        setImmediate(() => onFailure(failed));
      }
      throw error;
    }
  };
  internals.execProtocolRawSync = (message: Uint8Array) => {
    if (failure) throw failure;
    const result = exec.call(pglite, message);
    if (failure) throw failure;
    return result;
  };
  return () => failure;
}
