/**
 * Webhook signatures in the style of Standard Webhooks (standardwebhooks.com): every delivery
 * carries `webhook-id` (stable per endpoint and event, so receivers deduplicate),
 * `webhook-timestamp` (Unix seconds, so receivers refuse replays) and `webhook-signature`:
 * space-separated `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, one per valid secret
 * (the new and, during a rotation's grace period, the previous one).
 *
 * Secrets are `whsec_` followed by the base64 of 24 to 64 random bytes; the HMAC key is those
 * bytes (not the text), as Standard Webhooks libraries expect.
 */
import { createHmac, randomBytes } from "node:crypto";

export const SECRET_PREFIX = "whsec_";
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;

/** A new random secret (32 bytes). */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString("base64");
}

/** Why `secret` is not a usable webhook secret, or null when it is. */
export function secretProblem(secret: string): string | null {
  if (!secret.startsWith(SECRET_PREFIX)) return `must start with "${SECRET_PREFIX}" followed by base64 (omit it to have one generated)`;
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return `must be "${SECRET_PREFIX}" followed by standard base64`;
  const bytes = Buffer.from(encoded, "base64").length;
  if (bytes < MIN_KEY_BYTES || bytes > MAX_KEY_BYTES) return `must encode ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES} bytes (it encodes ${bytes})`;
  return null;
}

/** The `v1,<base64>` signature of one message with one secret. */
export function sign(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), "base64");
  return `v1,${createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64")}`;
}

/** The three signature headers of one delivery, signed with every given secret. */
export function signatureHeaders(secrets: readonly string[], id: string, timestamp: number, body: string): Record<string, string> {
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": secrets.map((secret) => sign(secret, id, timestamp, body)).join(" "),
  };
}

/** The idempotency id of the delivery of one event to one endpoint: the same for every attempt, redelivery and replay. */
export function messageId(webhookId: string, eventId: bigint): string {
  return `msg_${webhookId}_${eventId}`;
}
