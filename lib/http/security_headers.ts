/**
 * Security headers on every response, and the per-request CSP nonce the page renderer puts on its
 * scripts and inlined styles.
 *
 * Content-Security-Policy: scripts only from this origin, inline ones only with this response's
 * nonce (the island loader, the live reload snippet, the schedule's service-worker snippet); the
 * inlined twind `<style>` also carries the nonce; `style` attributes are allowed
 * (`style-src-attr 'unsafe-inline'`: the offline notice of the service worker uses one, and a
 * style attribute cannot run code). No framing (`frame-ancestors 'none'`, plus `X-Frame-Options:
 * DENY` for old browsers). Violations are reported to `POST /api/csp-report` (`report-uri`).
 */
import type { MiddlewareHandler } from "hono";

/** Where browsers send CSP violation reports. */
export const CSP_REPORT_PATH = "/api/csp-report";

const nonces = new WeakMap<Request, string>();

/** The CSP nonce of a request (set by {@link securityHeaders}). */
export function nonceOf(req: Request): string | undefined {
  return nonces.get(req);
}

/**
 * The Content-Security-Policy for a response whose inline scripts carry `nonce`. `formOrigins`:
 * other origins a form may lead to (Chromium applies `form-action` to the redirects after a post:
 * sign-out goes on to the identity provider's end-session page).
 */
export function contentSecurityPolicy(nonce: string, formOrigins: readonly string[] = []): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}'`,
    `style-src 'self' 'nonce-${nonce}'`,
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    ["form-action 'self'", ...formOrigins].join(" "),
    "frame-ancestors 'none'",
    // report-uri only: with report-to, Chromium switches to the Reporting API, which batches
    // reports for up to a minute and only from secure contexts.
    `report-uri ${CSP_REPORT_PATH}`,
  ].join("; ");
}

const LOOPBACK = /^(localhost|127(\.\d+){3}|\[::1\])$/i;

/** True for hosts that get no HSTS (a browser would remember it for the whole name). */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK.test(hostname) || hostname.endsWith(".localhost");
}

function newNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replace(/=+$/, "");
}

function applyHeaders(h: Headers, nonce: string, url: string, formOrigins: readonly string[]): void {
  const set = (name: string, value: string) => {
    if (!h.has(name)) h.set(name, value);
  };
  set("content-security-policy", contentSecurityPolicy(nonce, formOrigins));
  set("x-content-type-options", "nosniff");
  set("x-frame-options", "DENY");
  set("referrer-policy", "strict-origin-when-cross-origin");
  if (!isLoopbackHost(new URL(url).hostname)) set("strict-transport-security", "max-age=31536000; includeSubDomains");
}

/**
 * Hono middleware: a fresh nonce per request, then the headers on whatever the route answered. A
 * response that brings its own Content-Security-Policy keeps it (the API docs page).
 */
export function securityHeaders(options: { formOrigins?: readonly string[] } = {}): MiddlewareHandler {
  const formOrigins = options.formOrigins ?? [];
  return async (c, next) => {
    const nonce = newNonce();
    nonces.set(c.req.raw, nonce);
    await next();
    try {
      applyHeaders(c.res.headers, nonce, c.req.url, formOrigins);
    } catch {
      // Immutable headers (e.g. from Response.redirect): answer with a copy.
      const copy = new Response(c.res.body, c.res);
      applyHeaders(copy.headers, nonce, c.req.url, formOrigins);
      c.res = undefined as unknown as Response;
      c.res = copy;
    }
  };
}
