/** Training centers for admins: list (closed ones too), add, change. */
import { ADMIN_ONLY } from "../../access/matrix.ts";
import { z } from "zod";
import { addLocation, changeLocation, locationVersion } from "../../admin/locations.ts";
import { LocationSchema, TimeZoneSchema, US_STATE_CODES } from "../../domain/mod.ts";
import { listLocations } from "../../store/locations.ts";
import { defineOperation } from "../operation.ts";
import { ErrorSchema, IdParams } from "./schemas.ts";

const err = (description: string) => ({ description, schema: ErrorSchema });
const TAG = "Catalog";

const LocationWithVersion = z.object({
  location: LocationSchema,
  version: z.string().describe("send it back as ifVersion to refuse a stale change"),
}).meta({ id: "LocationWithVersion" });

const LocationBody = z.strictObject({
  name: z.string().max(120),
  slug: z.string().max(80).describe("short URL-safe name, e.g. atlanta-midtown"),
  address: z.strictObject({
    line1: z.string().max(200),
    city: z.string().max(100),
    region: z.enum(US_STATE_CODES),
    postalCode: z.string().max(10),
    country: z.literal("US"),
  }),
  timeZone: TimeZoneSchema,
  lat: z.number().min(-90).max(90),
  lng: z.number().min(-180).max(180),
  active: z.boolean().optional().describe("false: closed (not offered for new sessions)"),
});

export const listLocationsAdminOp = defineOperation({
  method: "get",
  path: "/v1/admin/locations",
  operationId: "listLocationsAdmin",
  tag: TAG,
  summary: "Every training center, closed ones too, by name, with its version",
  access: ADMIN_ONLY,
  responses: { 200: { description: "The centers", schema: z.object({ locations: z.array(LocationWithVersion) }) } },
  async handler(ctx) {
    const all = await listLocations(ctx.services.kv, { includeInactive: true });
    return {
      status: 200,
      body: { locations: all.map((location) => ({ location, version: locationVersion(location) })) },
    };
  },
});

export const createLocationOp = defineOperation({
  method: "post",
  path: "/v1/locations",
  operationId: "createLocation",
  tag: TAG,
  summary: "Add a training center",
  access: ADMIN_ONLY,
  idempotency: "stored",
  body: LocationBody,
  responses: {
    201: { description: "The center", schema: LocationWithVersion },
    400: err("Invalid fields"),
    409: err("slug_taken"),
  },
  async handler(ctx) {
    const location = await addLocation(ctx.services.kv, ctx.body);
    return { status: 201, body: { location, version: locationVersion(location) } };
  },
});

export const updateLocationOp = defineOperation({
  method: "put",
  path: "/v1/locations/{id}",
  operationId: "updateLocation",
  tag: TAG,
  summary: "Change a training center (its sessions keep their time zone; new ones get the new one)",
  description: "Send every field. With `ifVersion`, the change is refused (409 stale_edit, details.current) when " +
    "the center changed since that version.",
  access: ADMIN_ONLY,
  params: IdParams,
  body: LocationBody.extend({ ifVersion: z.string().max(20).optional() }),
  responses: {
    200: { description: "The center", schema: LocationWithVersion },
    400: err("Invalid fields"),
    404: err("No such training center"),
    409: err("slug_taken, stale_edit"),
  },
  async handler(ctx) {
    const { ifVersion, ...fields } = ctx.body;
    const location = await changeLocation(ctx.services.kv, ctx.params.id, fields, ifVersion);
    return { status: 200, body: { location, version: locationVersion(location) } };
  },
});

/** Every location operation. */
export const locationOperations = [listLocationsAdminOp, createLocationOp, updateLocationOp];
