// The monolith API for TypeScript: paths and schemas are generated from
// docs/openapi.json (src/schema.ts, by `make clients`); calls go through
// openapi-fetch, so every path, parameter, body and response is typed.
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema.js";

export type { components, paths } from "./schema.js";
export type Schemas = components["schemas"];
/** RFC 9457 problem JSON; switch on `code`, never on `title` or `detail`. */
export type Problem = Schemas["Problem"];
/** An RFC 6749 §5.2 error of the token endpoint. */
export type OAuthError = Schemas["AuthError"];
export type Token = Schemas["AuthToken"];
export type ApiClient = Client<paths>;

/** A client for the API at baseUrl (e.g. "https://api.example.com"). */
export function newClient(baseUrl: string, init: { fetch?: typeof fetch } = {}): ApiClient {
  return createClient<paths>({ baseUrl, fetch: init.fetch });
}

/** Sends `Authorization: Bearer <token>` with every request of the client. */
export function bearer(token: () => string | undefined): Middleware {
  return {
    onRequest({ request }) {
      const t = token();
      if (t) request.headers.set("Authorization", `Bearer ${t}`);
      return request;
    },
  };
}

// The token endpoint takes form-encoded bodies (RFC 6749 §4.3.2, §6).
const form = (body: Record<string, string | undefined>): URLSearchParams => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(body)) if (v !== undefined) p.set(k, v);
  return p;
};

const formType = { "Content-Type": "application/x-www-form-urlencoded" };

/** The password grant: signs in and returns the tokens or the OAuth error. */
export async function passwordGrant(client: ApiClient, username: string, password: string, clientId?: string) {
  return client.POST("/api/auth/login", {
    body: { grant_type: "password", username, password, client_id: clientId },
    bodySerializer: form,
    headers: formType,
  });
}

/** The refresh grant: each refresh token works once and returns a new one. */
export async function refreshGrant(client: ApiClient, refreshToken: string, clientId?: string) {
  return client.POST("/api/auth/login", {
    body: { grant_type: "refresh_token", refresh_token: refreshToken, client_id: clientId },
    bodySerializer: form,
    headers: formType,
  });
}
