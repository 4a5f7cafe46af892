/**
 * A person's own preferences (/me/profile, PUT /v1/me/profile): the preferred training location
 * (proximity in the ranking of alternatives) and preferred weekdays and times of day (a mild
 * ranking factor; weights in lib/booking/ranking.ts).
 */
import { z } from "zod";
import { IdSchema } from "../domain/common.ts";
import { type PreferredTimes, PreferredTimesSchema, type User } from "../domain/user.ts";
import { formatZodIssues, readableErrors, ValidationError, type ValidationIssue } from "../domain/validation.ts";
import { getLocation } from "./locations.ts";
import { updateUser } from "./users.ts";

/** What a person may set about themself. */
export const ProfileInputSchema = z.strictObject({
  preferredLocationId: IdSchema.nullable().describe("a training location id, or null for no preference"),
  preferredTimes: PreferredTimesSchema,
}).meta({ id: "ProfileInput" });
export type ProfileInput = z.input<typeof ProfileInputSchema>;

/** The preferences as stored (no preference: null location, empty lists). */
export interface Profile {
  preferredLocationId: string | null;
  preferredTimes: PreferredTimes;
}

/** The person's preferences. */
export function profileOf(user: User): Profile {
  return {
    preferredLocationId: user.preferredLocationId,
    preferredTimes: user.preferredTimes ?? { weekdays: [], dayParts: [] },
  };
}

/**
 * Sets a person's preferences in one write. ValidationError (paths `preferredLocationId`,
 * `preferredTimes.weekdays`, `preferredTimes.dayParts`) for bad input or a location that does not
 * exist or is closed; NotFoundError for an unknown user.
 */
export async function updateProfile(kv: Deno.Kv, userId: string, input: unknown): Promise<Profile> {
  const result = ProfileInputSchema.safeParse(input, { error: readableErrors });
  const issues: ValidationIssue[] = result.success ? [] : formatZodIssues(result.error.issues);
  // The location is checked even when another field is wrong, so every problem is told at once.
  const locationId = (input as { preferredLocationId?: unknown } | null)?.preferredLocationId;
  if (typeof locationId === "string" && !issues.some((i) => i.path === "preferredLocationId")) {
    const location = await getLocation(kv, locationId);
    if (!location || !location.active) {
      issues.push({ path: "preferredLocationId", message: "is not one of our training locations" });
    }
  }
  if (!result.success || issues.length) throw new ValidationError(issues, "profile");
  const parsed = result.data;
  const times = {
    weekdays: [...parsed.preferredTimes.weekdays].sort((a, b) => a - b),
    dayParts: parsed.preferredTimes.dayParts,
  };
  const user = await updateUser(kv, userId, { preferredLocationId: parsed.preferredLocationId, preferredTimes: times });
  return profileOf(user);
}
