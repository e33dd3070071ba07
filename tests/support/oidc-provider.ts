/**
 * A real OpenID Connect provider (the `oidc-provider` package) for tests, on a free loopback port:
 * one confidential client, PKCE required, and people the test adds by email. Its development login
 * form signs in whoever's email is typed as the login (any password); consent is pre-granted.
 */
import http from "node:http";
import Provider from "oidc-provider";
import { freePort } from "./server";

/** What loadExistingGrant reads of oidc-provider's Koa context (the module ships no types). */
type Grant = { addOIDCScope(scope: string): void; save(): Promise<string> };
type GrantContext = {
  oidc: {
    result?: { consent?: { grantId?: string } };
    session: { accountId: string; grantIdFor(clientId: string): string | undefined };
    client: { clientId: string };
    provider: { Grant: { new (init: { clientId: string; accountId: string }): Grant; find(id: string): Promise<Grant | undefined> } };
  };
};

export type IdpPerson = { email: string; email_verified: boolean; name?: string; groups?: string[] };

export type TestIdp = {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** People the provider knows, by the login typed into its form (their email). */
  people: Map<string, IdpPerson>;
  /** Starts answering; the redirect URI is known only once the app under test has a port. */
  listen: (redirectUri: string) => Promise<void>;
  close: () => Promise<void>;
};

const SCOPES = "openid email profile groups";

/** Reserves the provider's address (so the app can be configured with it) before it starts. */
export async function prepareOidcProvider(): Promise<TestIdp> {
  const port = await freePort();
  // 127.0.0.1, not localhost: the app (Node) and the browser must both reach it without guessing IPv4 or IPv6.
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = "lastmile-test";
  const clientSecret = "lastmile-test-secret-0123456789abcdef";
  const people = new Map<string, IdpPerson>();
  let server: http.Server | undefined;
  return {
    issuer,
    clientId,
    clientSecret,
    people,
    async listen(redirectUri) {
      const provider = new Provider(issuer, {
        clients: [
          {
            client_id: clientId,
            client_secret: clientSecret,
            redirect_uris: [redirectUri],
            grant_types: ["authorization_code"],
            response_types: ["code"],
            token_endpoint_auth_method: "client_secret_post",
          },
        ],
        pkce: { required: () => true },
        claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"], groups: ["groups"] },
        cookies: { keys: ["test-only-cookie-key"] },
        features: { devInteractions: { enabled: true } },
        async findAccount(_ctx: unknown, id: string) {
          const person = people.get(id);
          if (!person) return undefined;
          return {
            accountId: id,
            async claims() {
              return { sub: id, ...person };
            },
          };
        },
        // First-party client: skip the consent screen by granting the scopes it asks for.
        async loadExistingGrant(ctx: GrantContext) {
          const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
          if (grantId) return ctx.oidc.provider.Grant.find(grantId);
          const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
          grant.addOIDCScope(SCOPES);
          await grant.save();
          return grant;
        },
      });
      server = http.createServer(provider.callback());
      await new Promise<void>((resolve, reject) => {
        server!.once("error", reject);
        server!.listen(port, "127.0.0.1", () => resolve());
      });
    },
    async close() {
      if (!server) return;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
    },
  };
}
