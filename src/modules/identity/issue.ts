/**
 * Issuing a token pair: an access token signed with the server's key pair and a rotating refresh
 * token (src/modules/identity/refreshTokens.ts). The OAuth model (src/web/oauth.ts) issues
 * through the library's grants; the device subscription pushes a pair issued here directly.
 */
import { issueAccessToken, type SigningKeys } from "../../auth/signingKeys.ts";
import type { Config } from "../../config.ts";
import type { PrismaClient } from "../../db/client.ts";
import { type RefreshHolder, storeRefreshToken } from "./refreshTokens.ts";

export interface TokenIssuer {
  db: PrismaClient;
  keys: SigningKeys;
  config: Pick<Config, "accessTokenTtlSeconds" | "refreshTokenTtlDays">;
}

export interface TokenPair {
  accessToken: string;
  /** Seconds the access token lives. */
  expiresIn: number;
  refreshToken: string;
  scopes: string[];
}

export async function issueTokenPair(issuer: TokenIssuer, holder: RefreshHolder, scopes: readonly string[], grant: { grantType: string; familyId?: string }): Promise<TokenPair> {
  const ttlSeconds = issuer.config.accessTokenTtlSeconds;
  const access = await issueAccessToken(issuer.keys, { subject: holder.subject, workspaceId: holder.workspaceId, scopes, ttlSeconds });
  const refresh = await storeRefreshToken(issuer.db, holder, {
    ...grant,
    scopes,
    accessTokenId: access.tokenId,
    accessTokenExpiresAt: access.expiresAt,
    ttlSeconds: issuer.config.refreshTokenTtlDays * 86_400,
  });
  return { accessToken: access.token, expiresIn: ttlSeconds, refreshToken: refresh.refreshToken, scopes: [...scopes] };
}

/** Whom a device's tokens are issued to once a person approved it. */
export function deviceHolder(row: { workspaceId: string | null; clientId: string }): RefreshHolder {
  return { workspaceId: row.workspaceId!, subject: `device:${row.clientId}`, clientId: row.clientId, serviceAccountId: null };
}
