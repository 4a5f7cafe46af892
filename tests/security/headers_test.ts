/**
 * Security headers on every page (lib/http/security_headers.ts): a nonce-based CSP whose nonce is
 * on every inline script and the inlined styles (and no inline script without it), HSTS outside
 * localhost, nosniff, Referrer-Policy, no framing; and the CSP report endpoint's counter.
 */
import { contentSecurityPolicy } from "../../lib/http/security_headers.ts";
import assert from "node:assert/strict";
import { cspReportCount } from "../../lib/http/csp_report.ts";
import { startTestApp } from "../app_fixture.ts";
import { signInCookie } from "../access/sign_in.ts";

function nonceOf(csp: string): string {
  const m = /script-src 'self' 'nonce-([A-Za-z0-9+/_-]+)'/.exec(csp);
  assert.ok(m, `no script nonce in ${csp}`);
  return m[1];
}

Deno.test("[security] pages carry CSP with a per-response nonce on every inline script and style, and the other headers", async () => {
  const t = await startTestApp();
  try {
    const session = (await t.services.kv.list<{ id: string }>({ prefix: ["sessions"] }, { limit: 1 }).next()).value!
      .value;
    const learner = (await t.services.kv.get<string>(["users_by_email", "learner@example.com"])).value!;
    const cookie = await signInCookie(t.services, learner);
    const nonces = new Set<string>();
    for (
      const [path, withCookie] of [["/", false], [`/sessions/${session.id}`, false], ["/me/schedule", true]] as const
    ) {
      const res = await t.app.request(`http://localhost${path}`, { headers: withCookie ? { cookie } : {} });
      assert.equal(res.status, 200, path);
      const csp = res.headers.get("content-security-policy") ?? "";
      const nonce = nonceOf(csp);
      nonces.add(nonce);
      for (
        const part of [
          "default-src 'self'",
          "object-src 'none'",
          "frame-ancestors 'none'",
          "base-uri 'self'",
          `style-src 'self' 'nonce-${nonce}'`,
          "report-uri /api/csp-report",
        ]
      ) assert.ok(csp.includes(part), `${path}: ${part}`);
      assert.ok(!/script-src[^;]*unsafe-inline/.test(csp), "no unsafe-inline for scripts");
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
      assert.equal(res.headers.get("x-frame-options"), "DENY");
      assert.equal(res.headers.get("referrer-policy"), "strict-origin-when-cross-origin");
      assert.equal(res.headers.get("strict-transport-security"), null, "no HSTS on localhost");
      const html = await res.text();
      const scripts = [...html.matchAll(/<script\b([^>]*)>/g)].map((m) => m[1]);
      assert.ok(scripts.length > 0 || path === "/", `${path}: has scripts to check`);
      for (const attrs of scripts) {
        if (/\bsrc=/.test(attrs) || /type="application\/json"/.test(attrs)) continue;
        assert.ok(attrs.includes(`nonce="${nonce}"`), `${path}: inline script without the nonce: <script${attrs}>`);
      }
      assert.ok(html.includes(`<style id="__FRSH_TWIND" nonce="${nonce}">`), `${path}: styles carry the nonce`);
    }
    assert.equal(nonces.size, 3, "a fresh nonce per response");

    const remote = await t.app.request("https://training.example.com/");
    assert.equal(remote.headers.get("strict-transport-security"), "max-age=31536000; includeSubDomains");
    await remote.body?.cancel();
    const api = await t.app.request("http://localhost/api/v1/sessions");
    assert.equal(api.headers.get("x-content-type-options"), "nosniff");
    await api.body?.cancel();
    const docs = await t.app.request("http://localhost/api/docs");
    assert.match(
      docs.headers.get("content-security-policy") ?? "",
      /default-src 'none'/,
      "the docs page keeps its own",
    );
    await docs.body?.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("[security] CSP reports are counted, in both report formats; a body that is not JSON is a 400", async () => {
  const t = await startTestApp({ seed: false });
  try {
    assert.equal(await cspReportCount(t.services.kv), 0);
    const old = await t.app.request("http://localhost/api/csp-report", {
      method: "POST",
      headers: { "content-type": "application/csp-report" },
      body: JSON.stringify({ "csp-report": { "effective-directive": "script-src-elem", "blocked-uri": "inline" } }),
    });
    assert.equal(old.status, 204);
    const modern = await t.app.request("http://localhost/api/csp-report", {
      method: "POST",
      headers: { "content-type": "application/reports+json" },
      body: JSON.stringify([
        { type: "csp-violation", body: { effectiveDirective: "style-src-elem" } },
        { type: "csp-violation", body: { effectiveDirective: "img-src" } },
      ]),
    });
    assert.equal(modern.status, 204);
    assert.equal(await cspReportCount(t.services.kv), 3);
    const bad = await t.app.request("http://localhost/api/csp-report", { method: "POST", body: "nope" });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error, "malformed_json");
    assert.equal(await cspReportCount(t.services.kv), 3);
  } finally {
    await t.close();
  }
});

Deno.test("[security] forms may lead to the identity provider (sign-out's end-session redirect), nowhere else", () => {
  assert.match(contentSecurityPolicy("n"), /form-action 'self';/);
  assert.match(
    contentSecurityPolicy("n", ["https://id.example.com"]),
    /form-action 'self' https:\/\/id\.example\.com;/,
  );
});
