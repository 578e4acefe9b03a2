/**
 * How the example worker gets and keeps its access token without a pre-minted one:
 * - client credentials (a service account's client id and secret, POST /oauth/token);
 * - the device flow: it asks for codes, prints the user code and where to enter it, and waits
 *   for the token on the `deviceAuthorization` subscription (no polling).
 * Either way it holds a refresh token and renews the access token before it expires.
 */
import { print } from "graphql";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { WorkerDeviceAuthorizationDocument } from "./generated/graphql.ts";

export interface Tokens {
  accessToken: string;
  refreshToken: string | null;
  /** Seconds the access token lives, from now. */
  expiresIn: number;
}

export type Login =
  | { kind: "clientCredentials"; clientId: string; clientSecret: string; scope?: string }
  | { kind: "device"; clientId: string; scope?: string; onPrompt: (prompt: { userCode: string; verificationUri: string; verificationUriComplete: string }) => void };

const origin = (graphqlUrl: string) => new URL(graphqlUrl).origin;

async function form(url: string, body: Record<string, string | undefined>): Promise<Record<string, unknown>> {
  const entries = Object.entries(body).filter((e): e is [string, string] => e[1] !== undefined);
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(entries) });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${url}: ${String(json.error)}: ${String(json.error_description ?? "")}`);
  return json;
}

const tokensOf = (json: Record<string, unknown>): Tokens => ({ accessToken: String(json.access_token), refreshToken: typeof json.refresh_token === "string" ? json.refresh_token : null, expiresIn: Number(json.expires_in) });

/** Signs in as `login` says against the server of `graphqlUrl`. */
export async function logIn(graphqlUrl: string, login: Login): Promise<Tokens> {
  if (login.kind === "clientCredentials") {
    return tokensOf(await form(`${origin(graphqlUrl)}/oauth/token`, { grant_type: "client_credentials", client_id: login.clientId, client_secret: login.clientSecret, scope: login.scope }));
  }
  const started = await form(`${origin(graphqlUrl)}/oauth/device_authorization`, { client_id: login.clientId, scope: login.scope });
  login.onPrompt({ userCode: String(started.user_code), verificationUri: String(started.verification_uri), verificationUriComplete: String(started.verification_uri_complete) });
  const ws = createClient({ url: graphqlUrl.replace(/^http/, "ws"), webSocketImpl: WebSocket, retryAttempts: 3 });
  try {
    return await new Promise<Tokens>((resolve, reject) => {
      ws.subscribe<{ deviceAuthorization: { state: string; message: string; accessToken: string | null; refreshToken: string | null; expiresIn: number | null } }>(
        { query: print(WorkerDeviceAuthorizationDocument), variables: { deviceCode: String(started.device_code) } },
        {
          next: ({ data }) => {
            const update = data?.deviceAuthorization;
            if (!update || update.state === "PENDING") return;
            if (update.state === "APPROVED" && update.accessToken) resolve({ accessToken: update.accessToken, refreshToken: update.refreshToken, expiresIn: update.expiresIn ?? 0 });
            else reject(new Error(`device login ${update.state.toLowerCase()}: ${update.message}`));
          },
          error: (error) => reject(error instanceof Error ? error : new Error(JSON.stringify(error))),
          complete: () => reject(new Error("device login ended without a decision")),
        },
      );
    });
  } finally {
    await ws.dispose();
  }
}

/** Trades the refresh token for a new pair (the old refresh token is spent: they rotate). */
export async function renew(graphqlUrl: string, login: Login, refreshToken: string): Promise<Tokens> {
  return tokensOf(
    await form(`${origin(graphqlUrl)}/oauth/token`, {
      grant_type: "refresh_token",
      refresh_token: refreshToken,
      client_id: login.clientId,
      client_secret: login.kind === "clientCredentials" ? login.clientSecret : undefined,
    }),
  );
}
