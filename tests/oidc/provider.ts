/**
 * A real, certified OpenID provider (npm `oidc-provider`, a Koa app, run in this Deno process) on
 * loopback for the sign-in tests. Its development login form accepts any password; the login
 * name picks one of `TEST_ACCOUNTS`. One client, `training-app`, with PKCE required.
 */
import { createServer, type Server } from "node:http";
import Provider from "oidc-provider";

/** A person at the provider; `groups` is the roles claim the app maps. */
export interface TestAccount {
  login: string;
  email: string;
  name: string;
  groups: string[];
  dealer?: string;
  manager?: string;
}

/** The provider's people: one per role, as the customer's identity system would hold them. */
export const TEST_ACCOUNTS: Record<string, TestAccount> = {
  learner: { login: "lena", email: "lena@corp.example", name: "Lena Learner", groups: ["staff"] },
  instructor: {
    login: "ivan",
    email: "ivan@corp.example",
    name: "Ivan Instructor",
    groups: ["staff", "training-instructors"],
  },
  manager: { login: "mona", email: "mona@corp.example", name: "Mona Manager", groups: ["training-managers"] },
  dealer_admin: {
    login: "dora",
    email: "dora@corp.example",
    name: "Dora Dealer",
    groups: ["dealer-admins"],
    dealer: "peachtree-motors",
  },
  admin: { login: "ada", email: "ada@corp.example", name: "Ada Admin", groups: ["training-admins"] },
};

/** OIDC_ROLE_MAP matching `TEST_ACCOUNTS`. */
export const TEST_ROLE_MAP =
  "training-admins:admin,training-instructors:instructor,training-managers:manager,dealer-admins:dealer_admin";

/** The client the app is registered as. */
export const TEST_CLIENT = { id: "training-app", secret: "test-client-secret-0123456789" };

/** A running provider. */
export interface TestProvider {
  issuer: string;
  /** Registers the app's origin (redirect and post-logout URLs) and starts answering. */
  register(appOrigins: string[]): void;
  close(): Promise<void>;
}

/** Opens the provider's port (the issuer URL is known before the app starts); call `register` next. */
export async function startTestProvider(): Promise<TestProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const issuer = `http://127.0.0.1:${port}`;
  const byLogin = new Map(Object.values(TEST_ACCOUNTS).map((a) => [a.login, a]));
  return {
    issuer,
    register(appOrigins) {
      const provider = new Provider(issuer, {
        clients: [{
          client_id: TEST_CLIENT.id,
          client_secret: TEST_CLIENT.secret,
          redirect_uris: appOrigins.map((o) => `${o}/auth/callback`),
          post_logout_redirect_uris: appOrigins.map((o) => `${o}/`),
          grant_types: ["authorization_code"],
          response_types: ["code"],
        }],
        pkce: { required: () => true },
        ttl: { AuthorizationCode: 60, Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600 },
        cookies: { keys: ["test-only-cookie-key-0123456789"] },
        // Scope claims go into the ID token too (the app reads only the ID token).
        conformIdTokenClaims: false,
        claims: {
          openid: ["sub"],
          email: ["email", "email_verified"],
          profile: ["name", "groups", "dealer", "manager"],
        },
        features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
        findAccount(_ctx: unknown, id: string) {
          const a = byLogin.get(id);
          if (!a) return undefined;
          return {
            accountId: id,
            claims: () => ({
              sub: id,
              email: a.email,
              email_verified: true,
              name: a.name,
              groups: a.groups,
              ...(a.dealer ? { dealer: a.dealer } : {}),
              ...(a.manager ? { manager: a.manager } : {}),
            }),
          };
        },
      });
      server.on("request", provider.callback());
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
