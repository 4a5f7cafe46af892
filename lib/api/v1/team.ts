/** Team reads: a manager's people, a dealer's people, each with their bookings. */
import { z } from "zod";
import { assertMayReadTeam } from "../../booking/access.ts";
import { listTeamBookings } from "../../booking/team.ts";
import { BookingSchema, IdSchema } from "../../domain/mod.ts";
import { ApiError } from "../errors.ts";
import { defineOperation } from "../operation.ts";
import { ErrorSchema, IdParams } from "./schemas.ts";

const err = (description: string) => ({ description, schema: ErrorSchema });
const TAG = "Teams";

const TeamSchema = z.object({
  people: z.array(z.object({
    learner: z.object({ id: IdSchema, name: z.string(), email: z.string() }),
    bookings: z.array(BookingSchema),
  })),
});

export const listTeamBookingsOp = defineOperation({
  method: "get",
  path: "/v1/team/bookings",
  operationId: "listTeamBookings",
  tag: TAG,
  summary: "The bookings of the people a manager manages (a manager's own team; admins name the manager)",
  access: { manager: "own_team", admin: "any" },
  query: z.strictObject({ managerId: IdSchema.optional().describe("defaults to the caller") }),
  responses: {
    200: { description: "The team, by name", schema: TeamSchema },
    400: err("The admin token must name the manager"),
    403: err("forbidden: another manager's team"),
  },
  async handler(ctx) {
    const p = ctx.requirePrincipal();
    const managerId = ctx.query.managerId ?? p.userId;
    if (!managerId) throw new ApiError(400, "manager_required", "Name the manager with managerId.");
    assertMayReadTeam({ ...p, dealerId: p.user?.dealerId }, { managerId });
    return { status: 200, body: { people: await listTeamBookings(ctx.services.kv, { managerId }) } };
  },
});

export const listDealerBookingsOp = defineOperation({
  method: "get",
  path: "/v1/dealers/{id}/bookings",
  operationId: "listDealerBookings",
  tag: TAG,
  summary: "The bookings of a dealer's people (a dealer admin's own dealer; admins any)",
  access: { dealer_admin: "own_dealer", admin: "any" },
  params: IdParams,
  responses: {
    200: { description: "The dealer's people, by name", schema: TeamSchema },
    403: err("forbidden: another dealer"),
  },
  async handler(ctx) {
    const p = ctx.requirePrincipal();
    assertMayReadTeam({ ...p, dealerId: p.user?.dealerId }, { dealerId: ctx.params.id });
    return { status: 200, body: { people: await listTeamBookings(ctx.services.kv, { dealerId: ctx.params.id }) } };
  },
});

/** Every team operation. */
export const teamOperations = [listTeamBookingsOp, listDealerBookingsOp];
