/**
 * Structured logging (pino). Request headers and tokens are never logged: nothing in the code
 * base passes them to the logger, and the redaction list below catches the usual field names.
 */
import { type DestinationStream, pino, type Logger } from "pino";
import { currentRequestId } from "./ops/requestId.ts";

export type { Logger };

/** A logger at `level`, writing JSON lines to stdout or to `destination` (tests read the lines). */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({
    level,
    base: { service: "swarmgraph" },
    // Every line written while a request is handled names it (see src/ops/requestId.ts).
    mixin: () => {
      const requestId = currentRequestId();
      return requestId ? { requestId } : {};
    },
    redact: { paths: ["authorization", "*.authorization", "token", "*.token", "secret", "*.secret", "headers"], censor: "[redacted]" },
  }, destination as DestinationStream);
}
