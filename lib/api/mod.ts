/**
 * The JSON API under `/api`: every operation of /api/v1, the OpenAPI document and its docs page.
 */
import { Hono } from "hono";
import { apiErrorHandler } from "./errors.ts";
import { renderApiDocs } from "./docs.ts";
import { honoPath, mountOperations, type Operation } from "./operation.ts";
import { buildOpenApi } from "./openapi.ts";
import { adminOperations } from "./v1/admin.ts";
import { bookingOperations } from "./v1/bookings.ts";
import { calcomOperations } from "./v1/calcom.ts";
import { holdOperations } from "./v1/holds.ts";
import { privacyOperations } from "./v1/privacy.ts";
import { relayOperations } from "./v1/relay.ts";
import { deadLetterOperations } from "./v1/dead_letters.ts";
import { sessionOperations } from "./v1/sessions.ts";
import { userOperations } from "./v1/users.ts";
import { teamOperations } from "./v1/team.ts";
import { waitlistOperations } from "./v1/waitlist.ts";
import { alternativesOperations } from "./v1/alternatives.ts";
import { profileOperations } from "./v1/profile.ts";
import { complianceOperations } from "./v1/compliance.ts";
import { attendanceOperations } from "./v1/attendance.ts";
import { reportOperations } from "./v1/reports.ts";
import { notificationOperations } from "./v1/notifications.ts";
import { auditOperations } from "./v1/audit.ts";
import { courseOperations } from "./v1/courses.ts";
import { locationOperations } from "./v1/locations.ts";
import { rulesOperations } from "./v1/rules.ts";

/** Every /api/v1 operation, in documentation order. */
export const API_OPERATIONS: readonly Operation[] = [
  ...sessionOperations,
  ...holdOperations,
  ...bookingOperations,
  ...waitlistOperations,
  ...userOperations,
  ...privacyOperations,
  ...teamOperations,
  ...adminOperations,
  ...relayOperations,
  ...deadLetterOperations,
  ...calcomOperations,
  ...alternativesOperations,
  ...profileOperations,
  ...complianceOperations,
  ...attendanceOperations,
  ...reportOperations,
  ...notificationOperations,
  ...auditOperations,
  ...courseOperations,
  ...locationOperations,
  ...rulesOperations,
];

/** Builds the `/api` sub-app. */
export function createApi(version: string): Hono {
  const api = new Hono();
  api.onError(apiErrorHandler);
  const doc = buildOpenApi(API_OPERATIONS, version);
  api.get("/openapi.json", (c) => c.json(doc));
  const docsHtml = renderApiDocs(doc);
  // No scripts on the docs page; its one inline <style> is allowed by its own policy.
  api.get("/docs", (c) =>
    c.html(docsHtml, 200, {
      "content-security-policy":
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    }));
  mountOperations(api, API_OPERATIONS);
  api.all("*", (c) => {
    const path = c.req.path.replace(/^\/api/, "");
    const matches = API_OPERATIONS.filter((op) =>
      new RegExp(`^${honoPath(op.path).replace(/:[^/]+/g, "[^/]+")}$`).test(path)
    );
    // The resource is the most literal pattern that matches: `/attendance/close` is not `/attendance/{learnerId}`.
    const literal = (p: string) => p.split("/").filter((s) => s && !s.startsWith("{")).length;
    const best = Math.max(...matches.map((op) => literal(op.path)));
    const allowed = matches.filter((op) => literal(op.path) === best).map((op) => op.method.toUpperCase());
    if (allowed.length) {
      c.header("allow", allowed.join(", "));
      return c.json({ error: "method_not_allowed", message: `Use ${allowed.join(" or ")} on ${c.req.path}.` }, 405);
    }
    return c.json({ error: "not_found", message: `No API endpoint ${c.req.method} ${c.req.path}.` }, 404);
  });
  return api;
}
