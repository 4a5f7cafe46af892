/**
 * Domain schemas and types: the single source of truth for the shapes the
 * store persists and the API exchanges.
 * @module
 */
export * from "./ids.ts";
export * from "./validation.ts";
export * from "./common.ts";
export * from "./time_zone.ts";
export * from "./zoned_time.ts";
export * from "./location.ts";
export * from "./course.ts";
export * from "./session.ts";
export * from "./dealer.ts";
export * from "./user.ts";
export * from "./booking.ts";
export * from "./hold.ts";
export * from "./waitlist.ts";
export * from "./attendance.ts";
