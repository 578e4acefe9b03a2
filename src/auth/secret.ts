/**
 * The token signing secret: `JWT_SECRET`, or for development a random secret generated on first
 * start and kept (mode 0600) in the data directory, so tokens survive restarts.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Config } from "../config.ts";

type SecretConfig = Pick<Config, "jwtSecret" | "dataDir">;

/** Where the generated development secret is kept. */
export function secretFile(config: Pick<Config, "dataDir">): string {
  return path.join(config.dataDir, "jwt-secret");
}

/** The secret tokens are signed with, if one exists (`JWT_SECRET`, or the file); never creates one. */
export function existingJwtSecret(config: SecretConfig): string | undefined {
  if (config.jwtSecret) return config.jwtSecret;
  const file = secretFile(config);
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim() : undefined;
}

/** The signing secret, generated into DATA_DIR on first use when there is none. */
export function resolveJwtSecret(config: SecretConfig): { secret: string; generated: boolean } {
  const existing = existingJwtSecret(config);
  if (existing) return { secret: existing, generated: false };
  const file = secretFile(config);
  fs.mkdirSync(config.dataDir, { recursive: true });
  const secret = randomBytes(48).toString("base64url");
  fs.writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: "wx" });
  return { secret, generated: true };
}
