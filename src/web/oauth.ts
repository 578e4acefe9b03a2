/**
 * The OAuth 2.0 token endpoint (`POST /oauth/token`) and its metadata
 * (`GET /.well-known/oauth-authorization-server`, RFC 8414), served by @node-oauth/oauth2-server:
 * the library parses the request, authenticates the client (HTTP Basic or form), dispatches the
 * grant and writes standard success and error bodies; the model below only connects it to the
 * service accounts and signing keys.
 *
 * Grants:
 * - `client_credentials`: a service account gets a short-lived access token (signed with the
 *   server's key pair) and a refresh token. The library's own client credentials grant issues no
 *   refresh token (RFC 6749 §4.4.3 leaves it out), so this one is a small extension grant built
 *   on the library's AbstractGrantType, as its documentation describes for extensions.
 * - `refresh_token`: the library's grant with rotation (`alwaysIssueNewRefreshToken`); reuse
 *   detection is the service's (src/modules/identity/serviceAccounts.ts).
 */
import OAuth2Server, { AbstractGrantType, InvalidClientError, InvalidGrantError, InvalidRequestError, OAuthError, Request as OAuthRequest, Response as OAuthResponse, UnauthorizedClientError, type Client, type Token, type User } from "@node-oauth/oauth2-server";
import { decodeJwt } from "jose";
import type { RevocationList } from "../auth/revocations.ts";
import { issueAccessToken, type SigningKeys } from "../auth/signingKeys.ts";
import type { Config } from "../config.ts";
import type { PrismaClient } from "../db/client.ts";
import type { Logger } from "../logger.ts";
import type { ServiceAccount } from "../generated/prisma/client.ts";
import { deviceOutcome, DeviceRequestError, POLL_INTERVAL_SECONDS, startDeviceAuthorization } from "../modules/identity/device.ts";
import { deviceHolder } from "../modules/identity/issue.ts";
import { findRefreshToken, markRefreshTokenUsed, type RefreshHolder, RefreshRefusal, storeRefreshToken } from "../modules/identity/refreshTokens.ts";
import { authenticateClient, ClientRefusal, grantedScopes, subjectOf } from "../modules/identity/serviceAccounts.ts";
import { JWKS_PATH } from "./identityRoutes.ts";

export const TOKEN_PATH = "/oauth/token";
export const METADATA_PATH = "/.well-known/oauth-authorization-server";

export interface OAuthDeps {
  db: PrismaClient;
  keys: SigningKeys;
  revocations: RevocationList;
  config: Pick<Config, "accessTokenTtlSeconds" | "refreshTokenTtlDays" | "deviceCodeTtlSeconds">;
  log: Logger;
}

export const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
export const DEVICE_AUTHORIZATION_PATH = "/oauth/device_authorization";
export const VERIFICATION_PATH = "/device";

/** What the library carries between model calls as the "user": whom tokens are for, and the refresh family being continued. */
interface GrantUser extends User {
  holder: RefreshHolder;
  /** A service account's, for scope checks; absent for a device. */
  account?: ServiceAccount;
  /** The scopes a device was granted. */
  deviceScopes?: string[];
  familyId?: string;
}

type Model = ReturnType<typeof createModel>;
const modelOf = (grant: AbstractGrantType) => (grant as unknown as { model: Model }).model;

/** client_credentials with a refresh token (see the file header). */
class ClientCredentialsWithRefresh extends AbstractGrantType {
  async handle(request: OAuthRequest, client: Client): Promise<Token> {
    const model = modelOf(this);
    if (!client.account) throw new UnauthorizedClientError("Unauthorized client: client_credentials needs a service account's client id and secret");
    const user = await model.getUserFromClient(client);
    // validateScope throws invalid_scope rather than return nothing.
    const scope = (await this.validateScope(user, client, this.getScope(request))) as string[];
    return model.saveToken({ accessToken: await this.generateAccessToken(client, user, scope), accessTokenExpiresAt: this.getAccessTokenExpiresAt(), scope } as Token, client, user, "client_credentials");
  }
}

/** An RFC 8628 §3.5 error of the device grant. */
class DeviceGrantError extends OAuthError {
  constructor(name: string, message: string) {
    super(message, { code: 400, name });
  }
}

/** The device grant (RFC 8628 §3.4): a polling device gets its pair once a person approved. */
class DeviceCodeGrant extends AbstractGrantType {
  async handle(request: OAuthRequest, client: Client): Promise<Token> {
    const model = modelOf(this);
    const deviceCode = request.body.device_code;
    if (typeof deviceCode !== "string" || !deviceCode) throw new InvalidRequestError("Missing parameter: `device_code`");
    const outcome = await model.deviceOutcome(deviceCode);
    switch (outcome?.kind) {
      case undefined:
        throw new InvalidGrantError("Invalid grant: unknown device code");
      case "pending":
        if (outcome.slowDown) throw new DeviceGrantError("slow_down", `polling too fast: wait ${POLL_INTERVAL_SECONDS} s more between requests`);
        throw new DeviceGrantError("authorization_pending", "waiting for a person to approve the user code");
      case "denied":
        throw new DeviceGrantError("access_denied", `the request was denied by ${outcome.by}`);
      case "expired":
        throw new DeviceGrantError("expired_token", `the device code expired at ${outcome.at.toISOString()}; start again`);
      case "redeemed":
        throw new InvalidGrantError("Invalid grant: the device code was already used (its token was delivered)");
      case "approved": {
        if (outcome.row.clientId !== client.id) throw new InvalidGrantError("Invalid grant: the device code was issued to another client");
        const user: GrantUser = { holder: deviceHolder(outcome.row), deviceScopes: outcome.row.grantedScopes };
        const scope = outcome.row.grantedScopes;
        return model.saveToken({ accessToken: await this.generateAccessToken(client, user, scope), accessTokenExpiresAt: this.getAccessTokenExpiresAt(), scope } as Token, client, user, "device_code");
      }
    }
  }
}

function createModel(deps: OAuthDeps) {
  const ttlSeconds = deps.config.accessTokenTtlSeconds;
  return {
    async getClient(clientId: string, clientSecret: string | null): Promise<Client | false> {
      // A device is a public client: it names itself and holds no secret (RFC 8628 §3.1).
      if (!clientSecret) return clientId.startsWith("sa_") ? false : { id: clientId, grants: [DEVICE_GRANT, "refresh_token"] };
      try {
        const account = await authenticateClient(deps.db, clientId, clientSecret);
        return { id: clientId, grants: ["client_credentials", "refresh_token"], accessTokenLifetime: ttlSeconds, refreshTokenLifetime: deps.config.refreshTokenTtlDays * 86_400, account };
      } catch (error) {
        if (error instanceof ClientRefusal) throw new InvalidClientError(`Invalid client: ${error.message}`);
        throw error;
      }
    },
    async getUserFromClient(client: Client): Promise<GrantUser> {
      const account = client.account as ServiceAccount;
      return { account, holder: { workspaceId: account.workspaceId, subject: subjectOf(account), clientId: client.id, serviceAccountId: account.id } };
    },
    async validateScope(user: User, _client: Client, scope?: string[]): Promise<string[] | false> {
      const { account } = user as GrantUser;
      return account ? (grantedScopes(account, scope) ?? false) : false;
    },
    async generateAccessToken(_client: Client, user: User, scope: string[]): Promise<string> {
      const { holder } = user as GrantUser;
      return (await issueAccessToken(deps.keys, { subject: holder.subject, workspaceId: holder.workspaceId, scopes: scope, ttlSeconds })).token;
    },
    async saveToken(token: Token, client: Client, user: User, grantType = "refresh_token"): Promise<Token> {
      const { holder, familyId } = user as GrantUser;
      const claims = decodeJwt(token.accessToken);
      const stored = await refusingGrant(() =>
        storeRefreshToken(deps.db, holder, {
          familyId,
          grantType,
          scopes: token.scope ?? [],
          accessTokenId: claims.jti!,
          accessTokenExpiresAt: new Date(claims.exp! * 1000),
          ttlSeconds: deps.config.refreshTokenTtlDays * 86_400,
        }),
      );
      return { ...token, refreshToken: stored.refreshToken, refreshTokenExpiresAt: stored.expiresAt, client, user };
    },
    async getRefreshToken(refreshToken: string) {
      const token = await refusingGrant(() => findRefreshToken(deps.db, deps.revocations, refreshToken));
      return {
        refreshToken,
        refreshTokenExpiresAt: token.expiresAt,
        scope: token.scopes,
        client: { id: token.clientId, grants: [] },
        user: {
          holder: { workspaceId: token.workspaceId, subject: token.subject, clientId: token.clientId, serviceAccountId: token.serviceAccountId },
          account: token.serviceAccount ?? undefined,
          familyId: token.familyId,
        } satisfies GrantUser,
        stored: token,
      };
    },
    // Called by the library's refresh grant after it checked the token belongs to the client: rotation.
    async revokeToken(token: Token): Promise<boolean> {
      await refusingGrant(() => markRefreshTokenUsed(deps.db, deps.revocations, token.stored as Parameters<typeof markRefreshTokenUsed>[2]));
      return true;
    },
    deviceOutcome: (deviceCode: string) => deviceOutcome(deps.db, deviceCode, { poll: true }),
    async getAccessToken(): Promise<false> {
      return false;
    },
    async verifyScope(): Promise<boolean> {
      return false;
    },
  };
}

/** Runs `action`, turning a refused refresh token into the library's `invalid_grant`. */
async function refusingGrant<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof RefreshRefusal) throw new InvalidGrantError(`Invalid grant: ${error.message}`);
    throw error;
  }
}

/** Answers the OAuth routes; undefined for any other request. */
export function createOAuthHandler(deps: OAuthDeps): (request: Request, url: URL) => Promise<Response | undefined> {
  const server = new OAuth2Server({
    model: createModel(deps) as unknown as OAuth2Server.ServerOptions["model"],
    accessTokenLifetime: deps.config.accessTokenTtlSeconds,
    refreshTokenLifetime: deps.config.refreshTokenTtlDays * 86_400,
    alwaysIssueNewRefreshToken: true,
    // Devices are public clients; a service account's refresh still needs its secret (getClient refuses sa_ ids without one).
    requireClientAuthentication: { refresh_token: false, [DEVICE_GRANT]: false },
    extendedGrantTypes: {
      client_credentials: ClientCredentialsWithRefresh as unknown as typeof AbstractGrantType,
      [DEVICE_GRANT]: DeviceCodeGrant as unknown as typeof AbstractGrantType,
    },
  });
  return async (request, url) => {
    if (url.pathname === METADATA_PATH && request.method === "GET") {
      const origin = url.origin;
      return Response.json({
        issuer: origin,
        token_endpoint: `${origin}${TOKEN_PATH}`,
        jwks_uri: `${origin}${JWKS_PATH}`,
        device_authorization_endpoint: `${origin}${DEVICE_AUTHORIZATION_PATH}`,
        grant_types_supported: ["client_credentials", "refresh_token", DEVICE_GRANT],
        token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
      });
    }
    if (url.pathname === DEVICE_AUTHORIZATION_PATH && request.method === "POST") {
      const form = new URLSearchParams(await request.text());
      try {
        const started = await startDeviceAuthorization(deps.db, { clientId: form.get("client_id") ?? undefined, scope: form.get("scope") ?? undefined, ttlSeconds: deps.config.deviceCodeTtlSeconds });
        const verification = `${url.origin}${VERIFICATION_PATH}`;
        return Response.json(
          {
            device_code: started.deviceCode,
            user_code: started.userCode,
            verification_uri: verification,
            verification_uri_complete: `${verification}?user_code=${started.userCode}`,
            expires_in: started.expiresIn,
            interval: started.interval,
          },
          { headers: { "cache-control": "no-store" } },
        );
      } catch (error) {
        if (error instanceof DeviceRequestError) return Response.json({ error: error.oauthError, error_description: error.message }, { status: 400, headers: { "cache-control": "no-store" } });
        throw error;
      }
    }
    if (url.pathname !== TOKEN_PATH) return undefined;
    const body = request.method === "POST" ? Object.fromEntries(new URLSearchParams(await request.text())) : {};
    const oauthRequest = new OAuthRequest({ method: request.method, headers: Object.fromEntries(request.headers), query: Object.fromEntries(url.searchParams), body });
    const oauthResponse = new OAuthResponse();
    try {
      await server.token(oauthRequest, oauthResponse);
    } catch (error) {
      if (!(error instanceof OAuthError) || error.code >= 500) {
        deps.log.error({ err: error instanceof OAuthError ? ((error as OAuthError & { inner?: unknown }).inner ?? error) : error }, "token endpoint failed");
        return Response.json({ error: "server_error", error_description: "Unexpected error." }, { status: 500, headers: { "cache-control": "no-store" } });
      }
    }
    return new Response(JSON.stringify(oauthResponse.body), { status: oauthResponse.status, headers: { ...(oauthResponse.headers as Record<string, string>), "content-type": "application/json;charset=UTF-8" } });
  };
}
