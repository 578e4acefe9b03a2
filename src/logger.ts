/**
 * Structured logging (pino). Request headers and tokens are never logged: nothing in the code
 * base passes them to the logger, and the redaction list below catches the usual field names.
 */
import { pino, type Logger } from "pino";

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: "swarmgraph" },
    redact: { paths: ["authorization", "*.authorization", "token", "*.token", "secret", "*.secret", "headers"], censor: "[redacted]" },
  });
}
