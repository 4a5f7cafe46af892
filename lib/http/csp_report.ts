/**
 * `POST /api/csp-report`: browsers report Content-Security-Policy violations here (both the old
 * `report-uri` body, `application/csp-report`, and the Reporting API's `application/reports+json`).
 * Each report adds one to a KV counter; the log line names only the violated directive (a report's
 * URLs may carry personal data).
 */
import type { Context } from "hono";
import { keys } from "../store/keys.ts";

/** Violation reports received so far (all instances). */
export async function cspReportCount(kv: Deno.Kv): Promise<number> {
  const v = (await kv.get<Deno.KvU64>(keys.cspReportCount())).value;
  return v ? Number(v.value) : 0;
}

function directivesOf(body: unknown): string[] {
  const reports = Array.isArray(body) ? body : [body];
  return reports.map((r) => {
    const old = (r as { "csp-report"?: Record<string, unknown> })?.["csp-report"];
    const modern = (r as { body?: Record<string, unknown> })?.body;
    const d = old?.["effective-directive"] ?? old?.["violated-directive"] ?? modern?.effectiveDirective;
    return typeof d === "string" ? d.slice(0, 60).replace(/[^\w\- ']/g, "") : "unknown";
  });
}

/** The Hono handler: counts the reports of one request; 204, or 400 for a body that is not JSON. */
export function cspReportHandler(kv: Deno.Kv) {
  return async (c: Context): Promise<Response> => {
    let body: unknown;
    try {
      body = JSON.parse(await c.req.text());
    } catch {
      return c.json({ error: "malformed_json", message: "A CSP report is a JSON document." }, 400);
    }
    const directives = directivesOf(body);
    await kv.atomic().sum(keys.cspReportCount(), BigInt(directives.length)).commit();
    console.warn(`csp: ${directives.length} violation report(s): ${directives.join(", ")}`);
    return c.body(null, 204);
  };
}
