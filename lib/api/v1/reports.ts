/** Reports (no-shows, late cancellations, funnel, alternatives, waitlist, completion and fill) and their CSV. */
import { z } from "zod";
import { lastRecount, requestRecount, tryRecountHere } from "../../reports/job.ts";
import { ReportFiltersSchema } from "../../reports/model.ts";
import { buildReport } from "../../reports/query.ts";
import { scopeReportFilters } from "../../reports/scope.ts";
import { reportTables, type Section, SECTIONS, tableCsv } from "../../reports/tables.ts";
import type { Principal } from "../../auth/principal.ts";
import { ApiError } from "../errors.ts";
import { defineOperation } from "../operation.ts";
import { ErrorSchema } from "./schemas.ts";

const err = (description: string) => ({ description, schema: ErrorSchema });
const rate = z.number().nullable().describe("A share between 0 and 1; null when its denominator is 0");
const person = z.object({ learnerId: z.string(), name: z.string(), count: z.number().int() });
const line = z.object({
  id: z.string(),
  label: z.string(),
  sessions: z.number().int(),
  bookings: z.number().int(),
  recorded: z.number().int(),
  attended: z.number().int(),
  completionRate: rate,
  capacity: z.number().int(),
  seats: z.number().int(),
  fillRate: rate,
});
const option = z.object({ id: z.string(), label: z.string() });

/** The report as the API returns it. */
export const ReportSchema = z.object({
  filters: z.record(z.string(), z.string()),
  sessions: z.number().int(),
  totals: z.record(z.string(), z.number()),
  noShows: z.object({
    count: z.number().int(),
    recorded: z.number().int(),
    rate,
    repeatPeople: z.number().int(),
    people: z.array(person),
  }),
  lateCancels: z.object({
    count: z.number().int(),
    bookings: z.number().int(),
    rate,
    repeatPeople: z.number().int(),
    people: z.array(person),
  }),
  funnel: z.object({
    views: z.number().int(),
    holds: z.number().int(),
    bookings: z.number().int(),
    holdsConfirmed: z.number().int(),
    holdsExpired: z.number().int(),
    holdsReleased: z.number().int(),
    completionRate: rate,
  }),
  alternatives: z.object({ offered: z.number().int(), accepted: z.number().int(), rate }),
  waitlist: z.object({
    joins: z.number().int(),
    offers: z.number().int(),
    accepted: z.number().int(),
    lapsed: z.number().int(),
    declined: z.number().int(),
    avgHoursToOffer: z.number().nullable(),
  }),
  byCourse: z.array(line),
  byLocation: z.array(line),
  options: z.object({
    courses: z.array(option.extend({ topic: z.string() })),
    topics: z.array(option),
    locations: z.array(option),
    instructors: z.array(option),
    dealers: z.array(option),
  }),
  version: z.string().nullable(),
  tookMs: z.number(),
  cached: z.boolean(),
});

const REPORT_ACCESS = { admin: "any", dealer_admin: "own_dealer" } as const;

/** The caller's filters after the dealer scope (403 for another dealer). */
function scoped(principal: Principal, filters: z.output<typeof ReportFiltersSchema>) {
  const s = scopeReportFilters({ roles: principal.roles, dealerId: principal.user?.dealerId ?? null }, filters);
  if (!s.ok) throw new ApiError(403, "forbidden", s.message);
  return s.filters;
}

const FILTERS_DOC =
  "Filters: `from` and `to` (session start days, UTC, inclusive), `courseId`, `topic`, `locationId` " +
  "(or `online`), `instructorId`, `dealerId`. A dealer admin always gets their own dealer's slice; naming another " +
  "dealer is 403.";

export const getReportsOp = defineOperation({
  method: "get",
  path: "/v1/reports",
  operationId: "getReports",
  tag: "Reports",
  summary:
    "Every report for the filters: no-shows, late cancellations, funnel, alternatives, waitlist, per course and location",
  description: FILTERS_DOC + " Built from aggregates (under a second over a million bookings).",
  access: REPORT_ACCESS,
  query: ReportFiltersSchema,
  responses: { 200: { description: "The reports", schema: ReportSchema }, 403: err("forbidden: another dealer") },
  async handler(ctx) {
    const filters = scoped(ctx.requirePrincipal(), ctx.query);
    return { status: 200, body: await buildReport(ctx.services.kv, filters) };
  },
});

export const getReportCsvOp = defineOperation({
  method: "get",
  path: "/v1/reports/{section}/csv",
  operationId: "getReportCsv",
  tag: "Reports",
  summary: "One report section as CSV, exactly the table the page shows",
  description: FILTERS_DOC + " Cells a spreadsheet would run as a formula (starting with =, +, -, @) are escaped.",
  access: REPORT_ACCESS,
  params: z.strictObject({ section: z.enum(SECTIONS) }),
  query: ReportFiltersSchema,
  responses: {
    200: { description: "The section's table", schema: z.string(), mediaType: "text/csv" },
    403: err("forbidden: another dealer"),
  },
  async handler(ctx) {
    const filters = scoped(ctx.requirePrincipal(), ctx.query);
    const report = await buildReport(ctx.services.kv, filters);
    return {
      status: 200,
      body: tableCsv(reportTables(report)[ctx.params.section as Section]),
      headers: {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `attachment; filename="report-${ctx.params.section}.csv"`,
      },
    };
  },
});

const RecountSchema = z.object({
  ok: z.boolean(),
  eventsScanned: z.number().int(),
  eventsPending: z.number().int(),
  blobs: z.number().int(),
  rows: z.number().int(),
  differences: z.array(z.object({ key: z.array(z.unknown()), sessions: z.array(z.string()) })),
  repaired: z.number().int(),
  tookMs: z.number(),
  at: z.string(),
  requestId: z.string().optional(),
});

export const getReportsRecountOp = defineOperation({
  method: "get",
  path: "/v1/admin/reports/recount",
  operationId: "getReportsRecount",
  tag: "Reports",
  summary: "The last recount of the report aggregates (null before the first)",
  access: ["admin"],
  responses: { 200: { description: "The last recount", schema: z.object({ recount: RecountSchema.nullable() }) } },
  async handler(ctx) {
    return { status: 200, body: { recount: await lastRecount(ctx.services.kv) } };
  },
});

export const recountReportsOp = defineOperation({
  method: "post",
  path: "/v1/admin/reports/recount",
  operationId: "recountReports",
  tag: "Reports",
  summary: "Recount the report aggregates from the whole history (and repair them with `repair: true`)",
  description: "Without a running worker the recount runs now and answers 200 with its result. With one, the " +
    "worker's aggregator runs it under its lease: 202, then read GET /v1/admin/reports/recount (`requestId`).",
  access: ["admin"],
  body: z.strictObject({ repair: z.boolean().default(false) }),
  bodyOptional: true,
  responses: {
    200: { description: "The recount ran here", schema: z.object({ recount: RecountSchema }) },
    202: { description: "The worker will run it", schema: z.object({ requestId: z.string() }) },
  },
  async handler(ctx) {
    const { kv } = ctx.services;
    const repair = (ctx.body as { repair: boolean }).repair;
    const here = await tryRecountHere(kv, repair);
    if (here) return { status: 200, body: { recount: here } };
    return { status: 202, body: { requestId: await requestRecount(kv, repair) } };
  },
});

/** Every report operation. */
export const reportOperations = [getReportsOp, getReportCsvOp, getReportsRecountOp, recountReportsOp];
