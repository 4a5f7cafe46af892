import { z } from "zod";
import { IdSchema, OriginSchema, UtcDateTimeSchema } from "./common.ts";

/** `hold`: a learner's seat reserved during checkout; `offer`: a waitlist offer. */
export const HOLD_KINDS = ["hold", "offer"] as const;
export const HoldKindSchema = z.enum(HOLD_KINDS);
export type HoldKind = z.infer<typeof HoldKindSchema>;

export const HOLD_STATUSES = [
  "active",
  "confirmed",
  "released",
  "expired",
] as const;
export const HoldStatusSchema = z.enum(HOLD_STATUSES);
export type HoldStatus = z.infer<typeof HoldStatusSchema>;

/** A temporary claim on one seat. */
export const HoldSchema = z.object({
  id: IdSchema,
  sessionId: IdSchema,
  learnerId: IdSchema,
  kind: HoldKindSchema,
  status: HoldStatusSchema,
  createdAt: UtcDateTimeSchema,
  /** Authoritative deadline: KV `expireIn` is only a lower bound. */
  expiresAt: UtcDateTimeSchema,
  idempotencyKey: z.string().min(1).max(200).nullable().default(null),
  origin: OriginSchema,
  /** The full session whose alternatives led to this hold (within 24 h of their offer), if any. */
  alternativeOf: IdSchema.nullable().optional(),
  /** An offer made to a course-wide waitlist entry (its id): accepting it closes the entry. */
  courseEntryId: IdSchema.optional(),
}).superRefine((h, ctx) => {
  if (
    typeof h.createdAt === "string" && typeof h.expiresAt === "string" &&
    Date.parse(h.expiresAt) <= Date.parse(h.createdAt)
  ) {
    ctx.addIssue({
      code: "custom",
      path: ["expiresAt"],
      message: "must be after createdAt",
    });
  }
});
export type Hold = z.infer<typeof HoldSchema>;

/**
 * True when the hold still claims its seat at `now`: status active and not
 * past `expiresAt`. Treat anything else as gone, whatever KV still holds.
 */
export function isHoldLive(
  hold: Pick<Hold, "status" | "expiresAt">,
  now: Date = new Date(),
): boolean {
  return hold.status === "active" && Date.parse(hold.expiresAt) > now.getTime();
}
