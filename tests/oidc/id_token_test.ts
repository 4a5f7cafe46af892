/**
 * ID tokens the app must refuse. A tiny stand-in provider (discovery, JWKS and token endpoint on
 * loopback, keys made with jose) hands out crafted ID tokens; the real provider cannot be made to
 * sign for another issuer or audience, which is the point of these checks.
 */
import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { appGet, countKeys, Jar } from "./driver.ts";
import { startTestApp } from "../app_fixture.ts";

const WATCHED = ["users", "users_by_email", "auth_sessions", "auth_sessions_by_user"];

interface Fake {
  issuer: string;
  /** Claims and key of the next token; `nonce: true` copies the sign-in's nonce. */
  next: { claims: Record<string, unknown>; signWith: "good" | "stranger"; expiresIn: number };
  close(): Promise<void>;
}

async function startFakeProvider(): Promise<Fake> {
  const good = await generateKeyPair("RS256");
  const stranger = await generateKeyPair("RS256");
  const jwk = { ...(await exportJWK(good.publicKey)), kid: "k1", alg: "RS256", use: "sig" };
  const nonces = new Map<string, string>();
  // deno-lint-ignore prefer-const
  let fake: Fake;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/.well-known/openid-configuration") {
      return Response.json({
        issuer: fake.issuer,
        authorization_endpoint: `${fake.issuer}/authorize`,
        token_endpoint: `${fake.issuer}/token`,
        jwks_uri: `${fake.issuer}/jwks`,
      });
    }
    if (url.pathname === "/jwks") return Response.json({ keys: [jwk] });
    if (url.pathname === "/authorize") {
      const code = crypto.randomUUID();
      nonces.set(code, url.searchParams.get("nonce")!);
      const back = new URL(url.searchParams.get("redirect_uri")!);
      back.searchParams.set("code", code);
      back.searchParams.set("state", url.searchParams.get("state")!);
      return new Response(null, { status: 303, headers: { location: back.toString() } });
    }
    if (url.pathname === "/token") {
      const code = new URLSearchParams(await req.text()).get("code")!;
      const { claims, signWith, expiresIn } = fake.next;
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({ nonce: nonces.get(code), ...claims })
        .setProtectedHeader({ alg: "RS256", kid: "k1" })
        .setIssuedAt(now - 10)
        .setExpirationTime(now + expiresIn)
        .sign(signWith === "good" ? good.privateKey : stranger.privateKey);
      return Response.json({ access_token: "at", token_type: "Bearer", id_token: token });
    }
    return new Response("not found", { status: 404 });
  });
  fake = {
    issuer: `http://127.0.0.1:${server.addr.port}`,
    next: { claims: {}, signWith: "good", expiresIn: 300 },
    close: () => server.shutdown(),
  };
  return fake;
}

Deno.test({
  name:
    "[oidc] ID tokens from another issuer or audience, with a wrong nonce, expired, badly signed or without a usable email: 401/403 page, nothing written",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const fake = await startFakeProvider();
    const t = await startTestApp({
      env: { OIDC_ISSUER: fake.issuer, OIDC_CLIENT_ID: "training-app", OIDC_CLIENT_SECRET: "secret" },
    });
    try {
      const kv = t.services.kv;
      const signIn = async () => {
        const jar = new Jar();
        const start = await appGet(t, jar, "/auth/sign-in");
        const at = await fetch(start.headers.get("location")!, { redirect: "manual" });
        await at.body?.cancel();
        return await appGet(t, jar, at.headers.get("location")!);
      };
      const base = { iss: fake.issuer, aud: "training-app", sub: "u1", email: "eve@corp.example", name: "Eve" };
      const before = await countKeys(kv, WATCHED);
      const good = (claims: Record<string, unknown>, expiresIn = 300): Fake["next"] => ({
        claims,
        signWith: "good",
        expiresIn,
      });
      const cases: Array<[string, Fake["next"], number, RegExp]> = [
        ["another issuer", good({ ...base, iss: "https://other.example" }), 401, /refused/],
        ["another audience", good({ ...base, aud: "someone-else" }), 401, /refused/],
        ["a wrong nonce", good({ ...base, nonce: "not-this-one" }), 401, /does not belong/],
        ["expired", good(base, -600), 401, /refused/],
        ["signed by a key not in the JWKS", { claims: base, signWith: "stranger", expiresIn: 300 }, 401, /refused/],
        ["no email", good({ ...base, email: undefined }), 403, /no verified email/],
        ["a malformed email", good({ ...base, email: "not an email" }), 403, /no verified email/],
        ["an unverified email", good({ ...base, email_verified: false }), 403, /no verified email/],
      ];
      for (const [what, next, status, sentence] of cases) {
        fake.next = next;
        const res = await signIn();
        assert.equal(res.status, status, what);
        const html = await res.text();
        assert.match(html, /Sign-in did not work/, what);
        assert.match(html, sentence, what);
      }
      assert.deepEqual(await countKeys(kv, WATCHED), before, "no user and no session written");
      // The same stand-in with a correct token signs in: the refusals above were the claims' doing.
      fake.next = { claims: base, signWith: "good", expiresIn: 300 };
      const ok = await signIn();
      assert.equal(ok.status, 303);
      assert.equal((await countKeys(kv, WATCHED)).users, before.users + 1);
    } finally {
      await t.close();
      await fake.close();
    }
  },
});
