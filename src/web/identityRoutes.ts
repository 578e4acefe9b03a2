/**
 * The identity endpoints beside `/graphql`, answered by a Yoga plugin before GraphQL handling:
 * - `GET /.well-known/jwks.json`: the public keys of the server's signing keys (RFC 7517), so
 *   other services can verify the access tokens it issues.
 * - `POST /oauth/token` and `GET /.well-known/oauth-authorization-server`: see src/web/oauth.ts.
 * Every other request goes on to Yoga untouched.
 */
import type { Plugin } from "graphql-yoga";
import type { SigningKeys } from "../auth/signingKeys.ts";

export const JWKS_PATH = "/.well-known/jwks.json";

export interface IdentityRoutes {
  keys: SigningKeys;
  /** The OAuth endpoints: a response for their paths, undefined for any other. */
  oauth: (request: Request, url: URL) => Promise<Response | undefined>;
}

export function useIdentityRoutes(routes: IdentityRoutes): Plugin {
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname === JWKS_PATH && (request.method === "GET" || request.method === "HEAD")) {
        endResponse(
          new fetchAPI.Response(JSON.stringify(routes.keys.jwks()), {
            headers: { "content-type": "application/jwk-set+json", "cache-control": "public, max-age=300", "access-control-allow-origin": "*" },
          }),
        );
        return;
      }
      const answer = await routes.oauth(request, url);
      // Re-made with the server's own Response class, which its other plugins (compression) expect.
      if (answer) endResponse(new fetchAPI.Response(await answer.text(), { status: answer.status, headers: Object.fromEntries(answer.headers) }));
    },
  };
}
