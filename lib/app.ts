/**
 * Builds the HTTP application: `/health`, the API (later issues), then the file-system routes of
 * `routes/` with their islands through the island runtime.
 */
import { Hono } from "hono";
import manifest from "../fresh.gen.ts";
import { createApi } from "./api/mod.ts";
import { MAX_BODY_BYTES } from "./api/operation.ts";
import {
  CALCOM_WEBHOOK_PATHS,
  calcomWebhookHandler,
  calcomWebhookMethodNotAllowed,
  MAX_WEBHOOK_BYTES,
} from "./calcom/webhook_intake.ts";
import { registerFresh } from "./fresh/mod.ts";
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
  const app = new Hono();
  // Request bodies are capped before any route runs; the first limit that applies to a path wins.
  app.use("/api/webhooks/*", bodyLimit(MAX_WEBHOOK_BYTES, { format: "json" }));
  app.use("/api/*", bodyLimit(MAX_BODY_BYTES, { format: "json" }));
  app.use("*", bodyLimit(MAX_FORM_BYTES, { format: "html" }));
  app.get("/health", healthHandler);
  for (const path of CALCOM_WEBHOOK_PATHS) {
    app.post(path, calcomWebhookHandler);
    app.all(path, calcomWebhookMethodNotAllowed);
  }
  app.route("/api", createApi(s.config.version));
  await registerFresh(app, manifest, { dev: options.dev, production: options.production });
  return app;
}
