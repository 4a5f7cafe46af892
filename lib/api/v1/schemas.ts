/**
 * Request and response shapes of /api/v1 that are not domain records themselves. Requests are
 * strict (unknown fields are refused); responses reuse the domain schemas.
 */
import { z } from "zod";
import type { Availability } from "../../booking/availability.ts";
import {
  BookingSchema,
  CalendarDateSchema,
  type Course,
  HoldSchema,
  IdSchema,
  type Location,
  PROGRAM_TYPES,
  type Session,
  SESSION_MODES,
  SessionFieldsSchema,
  TOPICS,
  WaitlistEntrySchema,
} from "../../domain/mod.ts";

/** `{id}` path parameter. */
export const IdParams = z.strictObject({ id: IdSchema });

/** A calendar date like 2026-12-01. */
export const DateSchema = CalendarDateSchema;

/** The error body of every 4xx and 5xx. */
export const ErrorSchema = z.object({
  error: z.string().describe("snake_case code, stable for programs"),
  message: z.string().describe("a sentence for people"),
  details: z.unknown().optional(),
}).meta({ id: "Error" });

/** 503 from the booking engine when a session's writes keep colliding (the caller may retry). */
export const BUSY_RESPONSE = {
  description: "busy: too many concurrent changes on this session; retry in a moment",
  schema: ErrorSchema,
};

export const SeatStateSchema = z.enum(["open", "few_seats", "full", "waitlist", "cancelled", "started"]);

/** A session as the API lists it: the record plus course, location and live seats. */
export const SessionViewSchema = z.object({
  session: SessionFieldsSchema.extend({
    joinUrl: SessionFieldsSchema.shape.joinUrl.describe(
      "the online join link: only for the session's instructor, admins and learners booked in it (GET /v1/sessions/{id}); null otherwise and always in lists",
    ),
  }),
  course: z.object({
    id: IdSchema,
    code: z.string(),
    title: z.string(),
    topic: z.enum(TOPICS),
    programType: z.enum(PROGRAM_TYPES),
    durationMinutes: z.number(),
  }),
  location: z.object({ id: IdSchema, name: z.string(), city: z.string(), region: z.string(), timeZone: z.string() })
    .nullable(),
  seats: z.object({
    capacity: z.number().int(),
    taken: z.number().int(),
    left: z.number().int(),
    waiting: z.number().int(),
    state: SeatStateSchema,
  }),
}).meta({ id: "SessionView" });
export type SessionView = z.infer<typeof SessionViewSchema>;

/** Builds a {@link SessionView}. */
export function presentSession(
  session: Session,
  course: Course,
  location: Location | null,
  availability: Availability,
  joinUrl: string | null = null,
): SessionView {
  return {
    session: { ...session, joinUrl },
    course: {
      id: course.id,
      code: course.code,
      title: course.title,
      topic: course.topic,
      programType: course.programType,
      durationMinutes: course.durationMinutes,
    },
    location: location
      ? {
        id: location.id,
        name: location.name,
        city: location.address.city,
        region: location.address.region,
        timeZone: location.timeZone,
      }
      : null,
    seats: {
      capacity: availability.capacity,
      taken: availability.taken,
      left: availability.seatsLeft,
      waiting: availability.waiting,
      state: availability.state,
    },
  };
}

export const HoldViewSchema = z.object({
  hold: HoldSchema,
  live: z.boolean().describe("active and not past expiresAt"),
  secondsLeft: z.number().int().min(0),
  serverTime: z.string().describe("the server clock, the authority for countdowns"),
}).meta({ id: "HoldView" });

export const BookingViewSchema = z.object({ booking: BookingSchema }).meta({ id: "BookingView" });

export const WaitlistViewSchema = z.object({
  entry: WaitlistEntrySchema,
  position: z.number().int().min(1),
}).meta({ id: "WaitlistView" });

export const ModeSchema = z.enum(SESSION_MODES);
