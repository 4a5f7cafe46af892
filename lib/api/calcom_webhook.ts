/**
 * The Cal.com webhook's HTTP side: the paths, the handler and the 405 for other methods. Body
 * size is capped before this runs (lib/http/body_limit.ts, see lib/app.ts); everything else is
 * the intake's (lib/calcom/webhook_intake.ts).
 */
import type { Context } from "hono";
import { DEFAULT_TENANT, resolveTenant } from "../calcom/tenants.ts";
import { CALCOM_SIGNATURE_HEADER } from "../calcom/signature.ts";
import { intakeWebhook } from "../calcom/webhook_intake.ts";
import { clientOf } from "../http/client_address.ts";
import { recordAuthFailure, tooManyFailures } from "../http/failure_limit.ts";
import { services } from "../services.ts";

/** Where Cal.com posts webhooks: the default tenant's path and each tenant's own (Hono patterns). */
export const CALCOM_WEBHOOK_PATHS = ["/api/webhooks/calcom/booking", "/api/webhooks/calcom/:tenant/booking"] as const;

/** Any method but POST on a webhook path: 405 with `Allow: POST`. */
export function calcomWebhookMethodNotAllowed(c: Context): Response {
  c.header("allow", "POST");
  return c.json({ error: "method_not_allowed", message: `Use POST on ${c.req.path}.` }, 405);
}

/** Hono handler for `POST /api/webhooks/calcom/booking` and `/api/webhooks/calcom/:tenant/booking`. */
export async function calcomWebhookHandler(c: Context): Promise<Response> {
  const { kv, config, engine } = services();
  const slug = c.req.param("tenant") ?? DEFAULT_TENANT;
  const tenant = await resolveTenant(kv, config, slug);
  if (!tenant) {
    await c.req.raw.body?.cancel();
    return c.json({ error: "tenant_not_found", message: `No Cal.com tenant ${slug}.` }, 404);
  }
  // MAX_WEBHOOK_BYTES is enforced before this runs (lib/http/body_limit.ts, see lib/app.ts).
  const raw = new Uint8Array(await c.req.raw.arrayBuffer());
  const result = await intakeWebhook(kv, tenant, raw, c.req.header(CALCOM_SIGNATURE_HEADER) ?? null, {
    maxAgeSeconds: config.calcomWebhookMaxAge,
    engine,
  });
  if (result.status === 401 && result.body.error !== "webhook_secret_not_configured") {
    const verdict = await recordAuthFailure(kv, "webhook", clientOf(c.req.raw), config.authFailureLimit);
    if (verdict.retryAfterS !== null) return tooManyFailures(verdict.retryAfterS, "json");
  }
  return c.json(result.body, result.status);
}
