/**
 * Builds the HTTP application: `/health`, the API (later issues), then the file-system routes of
 * `routes/` with their islands through the island runtime.
 */
import { Hono } from "hono";
import manifest from "../fresh.gen.ts";
import { createApi } from "./api/mod.ts";
import { MAX_BODY_BYTES } from "./api/operation.ts";
import { CALCOM_WEBHOOK_PATHS, calcomWebhookHandler, calcomWebhookMethodNotAllowed } from "./api/calcom_webhook.ts";
import { MAX_WEBHOOK_BYTES } from "./calcom/webhook_intake.ts";
import { authorizePage, undeclaredPages } from "./access/pages.ts";
import type { Access } from "./access/matrix.ts";
import type { PageState } from "./auth/page_user.ts";
import { signInHref } from "../components/Journey.tsx";
import { registerFresh } from "./fresh/mod.ts";
import { clientAddressOf, rememberClient, type ServeInfoLike } from "./http/client_address.ts";
import { CSP_REPORT_PATH, nonceOf, securityHeaders } from "./http/security_headers.ts";
import { cspReportHandler } from "./http/csp_report.ts";
import { healthHandler } from "./health.ts";
import { bodyLimit, MAX_FORM_BYTES } from "./http/body_limit.ts";
import { EventRelay } from "./relay/relay.ts";
import { type Services, setServices } from "./services.ts";

/** Options for `createApp`. */
export interface AppOptions {
  dev?: boolean;
  /** Serve prebuilt island bundles only (fails to start without a fresh `deno task build`). */
  production?: boolean;
}

/** Creates the app for these services (registered for routes to use). */
export async function createApp(
  given: Omit<Services, "relay"> & { relay?: EventRelay },
  options: AppOptions = {},
): Promise<Hono> {
  const s: Services = { ...given, relay: given.relay ?? new EventRelay(given.kv, null) };
  setServices(s);
  const missing = undeclaredPages(manifest.routes);
  if (missing.length) throw new Error(`Pages without an access declaration: ${missing.join(", ")}`);
  const app = new Hono();
  // Request bodies are capped before any route runs; the first limit that applies to a path wins.
  app.use("/api/webhooks/*", bodyLimit(MAX_WEBHOOK_BYTES, { format: "json" }));
  app.use("/api/*", bodyLimit(MAX_BODY_BYTES, { format: "json" }));
  app.use("*", bodyLimit(MAX_FORM_BYTES, { format: "html" }));
  // After the body limits, which may replace the request: both are remembered per request object.
  app.use("*", async (c, next) => {
    rememberClient(c.req.raw, clientAddressOf(c.req.raw, c.env as ServeInfoLike | undefined, s.config.trustProxy));
    await next();
  });
  // Sign-out posts on to the identity provider's end-session page: forms may lead there.
  app.use("*", securityHeaders({ formOrigins: s.config.oidc ? [new URL(s.config.oidc.issuer).origin] : [] }));
  app.post(CSP_REPORT_PATH, cspReportHandler(s.kv));
  app.get("/health", healthHandler);
  for (const path of CALCOM_WEBHOOK_PATHS) {
    app.post(path, calcomWebhookHandler);
    app.all(path, calcomWebhookMethodNotAllowed);
  }
  app.route("/api", createApi(s.config.version));
  await registerFresh(app, manifest, {
    dev: options.dev,
    production: options.production,
    nonce: nonceOf,
    // The access matrix for pages (lib/access/pages.ts): the route's `access` export, checked here only.
    authorize: (route, ctx) => {
      const state = ctx.state as unknown as PageState;
      return authorizePage(route.module.access as Access, {
        user: state.user ?? null,
        signInHref: state.devLogin || state.sso ? signInHref : null,
        url: ctx.url,
      });
    },
  });
  return app;
}
