// Talking to swarmgraph: GraphQL over HTTP for queries and mutations, graphql-ws for live events,
// one token for both (kept in sessionStorage: it lives as long as this browser tab).
import { createClient } from "/vendor/graphql-ws/client.js";

const TOKEN_KEY = "swarmgraph.token";
export const MINT_HINT = "npm run -s token -- --scopes admin";

export const savedToken = () => sessionStorage.getItem(TOKEN_KEY);
export const saveToken = (token) => sessionStorage.setItem(TOKEN_KEY, token);
export const forgetToken = () => sessionStorage.removeItem(TOKEN_KEY);

/**
 * A failure worded for the operator. `kind`: "auth" (the token is missing, malformed, expired
 * or revoked: sign in again), "forbidden" (the token lacks a scope), "network" (the server
 * cannot be reached), "server" (anything else the server said).
 */
export class ApiError extends Error {
  constructor(kind, message, details = {}) {
    super(message);
    this.kind = kind;
    this.details = details;
  }
}

/** Turns GraphQL errors into one ApiError a person can act on. */
export function describeErrors(errors) {
  const first = errors[0] ?? {};
  const code = first.extensions?.code;
  const message = first.message ?? "unknown error";
  if (code === "UNAUTHENTICATED") {
    if (/expired/i.test(message)) return new ApiError("auth", `Your token has expired (${message}). Paste a new one — mint it with: ${MINT_HINT}`);
    if (/revoked/i.test(message)) return new ApiError("auth", `This token was revoked (${message}). Ask an admin for a new one, or mint one with: ${MINT_HINT}`);
    return new ApiError("auth", `The server did not accept this token: ${message}. Paste the token \`npm start\` printed, or mint one with: ${MINT_HINT}`);
  }
  if (code === "FORBIDDEN") {
    const scopes = first.extensions?.requiredScopes;
    return new ApiError("forbidden", scopes?.length ? `Your token lacks the scope ${scopes.join(" or ")}; ask for a token that grants it.` : message, { scopes });
  }
  return new ApiError("server", message, { code });
}

/** A signed-in session: HTTP requests and a graphql-ws client, both with the token. */
export function createSession(token) {
  const endpoint = new URL("/graphql", location.href);
  const wsUrl = endpoint.href.replace(/^http/, "ws");

  /** Runs a query or mutation; resolves with `data`, rejects with an ApiError. */
  async function request(query, variables = {}) {
    let response;
    try {
      response = await fetch(endpoint, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/graphql-response+json, application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
    } catch {
      throw new ApiError("network", `Cannot reach the server at ${endpoint.origin}. Is swarmgraph running? (npm start)`);
    }
    let body;
    try {
      body = await response.json();
    } catch {
      throw new ApiError("server", `The server answered ${response.status} ${response.statusText} without a GraphQL response.`);
    }
    if (body.errors?.length) throw describeErrors(body.errors);
    return body.data;
  }

  /**
   * The live connection. `onStatus("connecting" | "live" | "reconnecting")`; `onAccessLost(ApiError)`
   * when the server closes it because the token expired (4401) or was revoked (4403): then it
   * stops retrying, since only a new token helps.
   */
  function connect({ onStatus, onAccessLost }) {
    let accessLost = false;
    const client = createClient({
      url: wsUrl,
      connectionParams: { authorization: `Bearer ${token}` },
      lazy: false,
      retryAttempts: Infinity,
      // 1 s, 2 s, 4 s … at most 10 s between attempts: a restarted server is found quickly.
      retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(1000 * 2 ** retries, 10_000))),
      shouldRetry: (event) => !accessLost && !(event?.code === 4401 || event?.code === 4403),
      onNonLazyError: () => undefined,
      on: {
        connecting: () => onStatus("connecting"),
        connected: () => onStatus("live"),
        closed: (event) => {
          if (event?.code === 4401 || event?.code === 4403) {
            accessLost = true;
            const expired = event.code === 4401;
            onAccessLost(new ApiError("auth", expired ? `Your token expired, so the server closed the live connection. Paste a new one — mint it with: ${MINT_HINT}` : `This token was revoked, so the server closed the live connection. Ask for a new token.`));
          } else {
            onStatus("reconnecting");
          }
        },
      },
    });
    return client;
  }

  return { token, request, connect };
}
