/** Alternatives to a full session, ranked for the caller (offers are recorded for the acceptance-rate report). */
import { PLACE_OWNER } from "../../access/matrix.ts";
import { z } from "zod";
import { assertMayActOnPlace } from "../../booking/access.ts";
import { offerAlternatives } from "../../booking/alternatives.ts";
import { IdSchema, SessionModeSchema } from "../../domain/mod.ts";
import { getSession } from "../../store/sessions.ts";
import { ApiError } from "../errors.ts";
import { defineOperation } from "../operation.ts";
import { learnerFor } from "./access.ts";
import { ErrorSchema, IdParams } from "./schemas.ts";

const err = (description: string) => ({ description, schema: ErrorSchema });

/** One alternative as the API shows it (lib/booking/alternatives.ts). */
export const AlternativeSchema = z.object({
  sessionId: IdSchema,
  courseId: IdSchema,
  courseTitle: z.string(),
  startsAt: z.string(),
  endsAt: z.string(),
  timeZone: z.string(),
  mode: SessionModeSchema,
  locationId: IdSchema.nullable(),
  locationName: z.string().nullable(),
  distanceKm: z.number().nullable().describe("from the learner's preferred location; null when online or unknown"),
  seatsLeft: z.number().int(),
  score: z.number().describe("the combined score (relevance + proximity + availability + preferred times)"),
  reasons: z.array(z.string()).describe('why, in words: ["same course", "12 km away", "in 3 days"]'),
  reason: z.string().describe("the reasons joined with ' · '"),
}).meta({ id: "Alternative" });

export const listAlternatives = defineOperation({
  method: "get",
  path: "/v1/sessions/{id}/alternatives",
  operationId: "listAlternatives",
  tag: "Holds and bookings",
  summary: "Up to 3 open sessions to take instead of this one, ranked for the learner",
  description: "Same course first, then the same certification track, then the same topic; nearer to the " +
    "learner's preferred location (online counts as near) and sooner score higher (weights: " +
    "lib/booking/ranking.ts; 10 km weigh as much as 1 day). Full, started and cancelled sessions, sessions the " +
    "learner already has a place in and courses whose prerequisites they lack are never suggested. The offer is " +
    "recorded: hold one of them within 24 h with `alternativeOf` set to this session to count as an acceptance.",
  access: PLACE_OWNER,
  params: IdParams,
  query: z.strictObject({
    learnerId: IdSchema.optional().describe("admins, or the session's instructor: for another learner"),
  }),
  responses: {
    200: {
      description: "The alternatives, best first",
      schema: z.object({ alternatives: z.array(AlternativeSchema) }),
    },
    400: err("The admin token must name the learner"),
    403: err("forbidden: another learner, and you are neither an admin nor this session's instructor"),
    404: err("No such session"),
  },
  async handler(ctx) {
    const p = ctx.requirePrincipal();
    const { kv, engine } = ctx.services;
    const session = await getSession(kv, ctx.params.id);
    if (!session) throw new ApiError(404, "session_not_found", `No session with id ${ctx.params.id}.`);
    const learnerId = learnerFor(p, ctx.query.learnerId);
    assertMayActOnPlace(p, learnerId, session);
    const alternatives = await offerAlternatives(kv, session, learnerId, engine.now(), ctx.actor(), "api");
    return { status: 200, body: { alternatives } };
  },
});

/** Every alternatives operation. */
export const alternativesOperations = [listAlternatives];
