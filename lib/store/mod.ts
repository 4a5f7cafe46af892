/**
 * Deno KV persistence: verb-named functions, one atomic op per change with
 * its secondary indexes. Key layout: see `keys.ts`.
 * @module
 */
export * from "./kv.ts";
export * from "./keys.ts";
export * from "./errors.ts";
export * from "./batch.ts";
export * from "./catalog_cache.ts";
export * from "./locations.ts";
export * from "./courses.ts";
export * from "./dealers.ts";
export * from "./sessions.ts";
export * from "./session_cursor.ts";
export * from "./session_listing.ts";
export * from "./users.ts";
export * from "./bookings.ts";
export * from "./holds.ts";
export * from "./waitlist.ts";
export * from "./attendance.ts";
export * from "./reset.ts";
