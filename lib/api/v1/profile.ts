/** The caller's own preferences: preferred training location and times (the API twin of /me/profile). */
import { SELF } from "../../access/matrix.ts";
import { z } from "zod";
import { IdSchema, PreferredTimesSchema } from "../../domain/mod.ts";
import { ProfileInputSchema, profileOf, updateProfile } from "../../store/profile.ts";
import { getUser } from "../../store/users.ts";
import { ApiError } from "../errors.ts";
import { defineOperation } from "../operation.ts";
import { callerUserId } from "./access.ts";
import { ErrorSchema } from "./schemas.ts";

const err = (description: string) => ({ description, schema: ErrorSchema });
const TAG = "People";

const ProfileSchema = z.object({
  preferredLocationId: IdSchema.nullable(),
  preferredTimes: PreferredTimesSchema,
}).meta({ id: "Profile" });

export const getMyProfile = defineOperation({
  method: "get",
  path: "/v1/me/profile",
  operationId: "getMyProfile",
  tag: TAG,
  summary: "The caller's preferred training location and times",
  access: SELF,
  responses: {
    200: { description: "The preferences (no preference: null location, empty lists)", schema: ProfileSchema },
    400: err("The admin token has no profile of its own"),
  },
  async handler(ctx) {
    const userId = callerUserId(ctx.requirePrincipal(), "profile");
    // Read fresh: the principal's copy may be cached from before a change.
    const user = await getUser(ctx.services.kv, userId);
    if (!user) throw new ApiError(404, "user_not_found", `No user with id ${userId}.`);
    return { status: 200, body: profileOf(user) };
  },
});

export const updateMyProfile = defineOperation({
  method: "put",
  path: "/v1/me/profile",
  operationId: "updateMyProfile",
  tag: TAG,
  summary: "Set the caller's preferred training location and times",
  description: "The location ranks suggested sessions by distance (online counts as near); the weekdays (1 = " +
    "Monday … 7 = Sunday) and times of day (in each session's own time zone) are a mild factor worth at most 3 " +
    "points, about 6 days' difference (lib/booking/ranking.ts).",
  access: SELF,
  body: ProfileInputSchema,
  responses: {
    200: { description: "The saved preferences", schema: ProfileSchema },
    400: err("invalid_request: details.issues name the field (an unknown or closed location is preferredLocationId)"),
  },
  async handler(ctx) {
    const userId = callerUserId(ctx.requirePrincipal(), "profile");
    return { status: 200, body: await updateProfile(ctx.services.kv, userId, ctx.body) };
  },
});

/** Every profile operation. */
export const profileOperations = [getMyProfile, updateMyProfile];
