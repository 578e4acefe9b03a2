/**
 * The token signing secret: `JWT_SECRET`, or for development a random secret generated on first
 * start and kept (mode 0600) in the data directory, so tokens survive restarts.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Config } from "../config.ts";

export function resolveJwtSecret(config: Pick<Config, "jwtSecret" | "dataDir">): { secret: string; generated: boolean } {
  if (config.jwtSecret) return { secret: config.jwtSecret, generated: false };
  const file = path.join(config.dataDir, "jwt-secret");
  if (fs.existsSync(file)) return { secret: fs.readFileSync(file, "utf8").trim(), generated: false };
  fs.mkdirSync(config.dataDir, { recursive: true });
  const secret = randomBytes(48).toString("base64url");
  fs.writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: "wx" });
  return { secret, generated: true };
}
