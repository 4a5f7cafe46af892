/**
 * Every Deno KV key the application uses is built here, and only here.
 *
 * Style: plural snake_case prefixes, ULID ids, secondary indexes written in
 * the same `kv.atomic()` as their primary record. Timestamps inside keys are
 * `Date#toISOString()` strings (they sort chronologically) unless the column
 * says `Ms` (epoch milliseconds, a number).
 *
 * | Key | Value | Written by |
 * | --- | --- | --- |
 * | `["locations", id]` | `Location` | createLocation |
 * | `["locations_by_slug", slug]` | location id (unique) | createLocation |
 * | `["courses", id]` | `Course` | createCourse |
 * | `["courses_by_code", code]` | course id (unique) | createCourse |
 * | `["dealers", id]` | `Dealer` | createDealer |
 * | `["dealers_by_slug", slug]` | dealer id (unique) | createDealer |
 * | `["sessions", id]` | `Session` | createSession, updateSession |
 * | `["sessions_by_start", startsAt, id]` | `SessionIndexEntry` | createSession, updateSession |
 * | `["sessions_by_location", locationId \| "online", startsAt, id]` | `SessionIndexEntry` | 〃 |
 * | `["sessions_by_course", courseId, startsAt, id]` | `SessionIndexEntry` | 〃 |
 * | `["sessions_by_instructor", instructorId, startsAt, id]` | `SessionIndexEntry` | 〃 |
 * | `["seats", sessionId]` | `SeatCounts` `{confirmed, holds, waiting}`; every seat-affecting write touches it | createSession (zeros), booking engine |
 * | `["users", id]` | `User` | createUser, updateUser |
 * | `["users_by_email", email]` | user id (unique) | createUser, updateUser |
 * | `["users_by_manager", managerId, userId]` | user id | createUser, updateUser |
 * | `["users_by_dealer", dealerId, userId]` | user id | createUser, updateUser |
 * | `["bookings", id]` | `Booking` | booking engine, importConfirmedBookings |
 * | `["bookings_by_session", sessionId, bookingId]` | booking id | 〃 |
 * | `["bookings_by_learner", learnerId, bookingId]` | booking id | 〃 |
 * | `["places", sessionId, learnerId]` | `Place` `{kind, id}`: the learner's one live hold, offer or booking in the session | 〃 |
 * | `["holds", id]` | `Hold` | booking engine |
 * | `["holds_by_session", sessionId, expiresAtMs, holdId]` | hold id | booking engine |
 * | `["holds_by_expiry", expiresAtMs, holdId]` | `{holdId, sessionId}`: the cron sweep's work list | booking engine |
 * | `["learner_holds", learnerId]` | `LearnerHolds` `{items}`: live holds and offers (3-hold limit) | booking engine |
 * | `["waitlist", sessionId, joinedAt, learnerId]` | `WaitlistEntry` | booking engine |
 * | `["waitlist_by_learner", learnerId, sessionId]` | `WaitlistEntry` (status waiting or offered) | booking engine |
 * | `["attendance", sessionId, learnerId]` | `AttendanceRecord` | booking engine |
 * | `["session_cancels_pending", sessionId]` | `PendingSessionCancel` `{sessionId, startedAt, actor}`: a session cancel not finished yet (the resumer's work list) | cancelSession (set with the status change, deleted with session.cancelled) |
 * | `["events", key]` | `DomainEvent`: permanent history (key: ULID from the writer's clock, approximate order; entry versionstamp = commit order) | booking engine |
 * | `["events_by_learner", learnerId, key]` | null (the event key is the key's last part): the learner's events (privacy export, erasure) | booking engine (addEvent, with the event) |
 * | `["privacy_erasures", userId]` | `ErasureRecord` `{userId, erasedAt, by, reason}`: who erased whom, when, why (no personal data of the person) | eraseUser |
 * | `["privacy_meta", name]` | `retention`: the retention job's progress `{eventKey, session, lastRunAt, cutoff}`; `last_erasure`: `{userId, at}`, changed by every erasure (caches of people drop what they hold) | retention job; eraseUser |
 * | `["outbox", consumer, sessionId, key]` | `DomainEvent` not yet delivered to `consumer` (`kafka`, `calcom`); written with the event, deleted after delivery | booking engine; relay and Cal.com sync delete |
 * | `["worker_leases", name]` | `LeaseRecord` `{owner, token, until}`: the fenced lease of a background job or cron | lib/worker/lease.ts |
 * | `["idempotency", scope, key]` | `{bodyHash, result, createdAt}`, expires after 24 h | booking engine |
 * | `["meta", "seed"]` | `SeedMarker` | seedDemoData |
 * | `["meta", "catalog_version"]` | ULID, changed by every course/location write | createCourse, createLocation |
 * | `["auth_sessions", idHash]` | `PageSession` `{userId, via, createdAtMs, seenAtMs}`: a signed-in page session (key: SHA-256 hex of the cookie's random id, never the id); expires at its absolute timeout | lib/auth/sessions.ts (createPageSession, touch, revoke) |
 * | `["auth_sessions_by_user", userId, idHash]` | null: the user's sessions (sign out everywhere, deactivation) | 〃 |
 * | `["oidc_logins", stateHash]` | `PendingLogin` `{nonce, verifier, next, redirectUri, createdAtMs}`: an OpenID sign-in under way (one use), expires after 10 min | lib/auth/oidc.ts (beginOidcSignIn; deleted by completeOidcSignIn) |
 * | `["calcom_tenants", slug]` | `Tenant` `{slug, baseUrl, apiKey, webhookSecret, eventTypeIds}`; apiKey and webhookSecret sealed (AES-256-GCM, `enc:v1:<keyId>:…`, lib/secrets/keyring.ts) | saveTenant, reencryptTenantSecrets |
 * | `["calcom_deliveries", tenant, receivedAtUlid]` | `StoredDelivery` `{trigger, createdAt, payload, receivedAt, bodyHash}` | webhook intake |
 * | `["calcom_delivery_hashes", bodyHash]` | `{tenant, deliveryId}`, expires after 7 days (de-duplication) | webhook intake |
 * | `["calcom_event_types", sessionId]` | `EventTypeLink`: the session's Cal.com event type | Cal.com sync |
 * | `["calcom_event_type_sessions", tenant, eventTypeId]` | session id | Cal.com sync |
 * | `["calcom_event_type_tenants", eventTypeId]` | tenant slug (ownership checks) | Cal.com sync |
 * | `["calcom_seats", bookingId]` | `SeatLink`: the booking's Cal.com booking uid and seat uid | Cal.com sync |
 * | `["calcom_seats_by_uid", tenant, calBookingUid, email]` | booking id | Cal.com sync |
 * | `["calcom_sync", bookingId]` | `SyncState` | Cal.com sync |
 * | `["calcom_sync_due", dueAtMs, bookingId]` | null: the outbound runner's work list | Cal.com sync |
 * | `["calcom_review", itemId]` | `ReviewItem`: the manual-review queue | Cal.com sync |
 * | `["calcom_meta", name]` | cursors and last-seen times of the sync | Cal.com sync |
 * | `["auth_failures", kind, client]` | `{times}`: epoch ms of the client's recent failed authentications of this kind (bearer, dev_sign_in, webhook); expires after the window | lib/http/failure_limit.ts |
 * | `["csp_reports", "count"]` | KvU64: Content-Security-Policy violation reports received | POST /api/csp-report |
 * | `["rules", "global"]` | `RulesDoc` `{rules, version, updatedAt, updatedBy}`: the business rules admins set (hold minutes, max live holds, offer windows, default cut-off, check-in window, reminder schedule) | saveRules (with its audit entry) |
 * | `["rules", "course", courseId]` | `CourseRulesDoc` `{overrides, version, updatedAt, updatedBy}`: one course's overrides (hold minutes, offer windows) | saveCourseRules (with its audit entry) |
 * | `["rules_audit", key]` | `RulesAuditEntry` `{at, actorId, origin, scope, changes, reason}`: who changed which rule, when, why (key: ULID of the change) | saveRules, saveCourseRules |
 * | `["events_by_session", sessionId, key]` | null (the event key is the key's last part): a session's events (audit trail by session and course) | booking engine (addEvent, with the event) |
 *
 * Why session index values are a small `SessionIndexEntry` rather than the id
 * alone or a full copy: `listSessions` filters on course, location, mode,
 * instructor and status while it walks an index, so it reads the primary
 * record only for sessions that end up on the page. The summary holds just
 * those fields (~150 bytes), `updateSession` rewrites it in the same atomic
 * op as the session, and the page itself always comes from `["sessions", id]`.
 *
 * Other index values are the primary id only: users, bookings and holds
 * change often, and a copy would have to be rewritten on every change.
 *
 * @module
 */

import type { SessionMode, SessionStatus } from "../domain/session.ts";

/** Bucket used in `sessions_by_location` for sessions without a location. */
export const ONLINE_BUCKET = "online";

/** Value of every `sessions_by_*` index entry. */
export interface SessionIndexEntry {
  id: string;
  courseId: string;
  locationId: string | null;
  instructorId: string;
  mode: SessionMode;
  status: SessionStatus;
}

/** Value of `["places", sessionId, learnerId]`. */
export interface Place {
  kind: "hold" | "booking" | "offer" | "waitlist";
  /** Hold, booking id; for a waitlist place the entry's joinedAt. */
  id: string;
  /** Holds and offers: when they stop counting. */
  expiresAtMs?: number;
}

/** The first element of every key family, for listings and resets. */
export const PREFIXES = [
  "locations",
  "locations_by_slug",
  "courses",
  "courses_by_code",
  "dealers",
  "dealers_by_slug",
  "sessions",
  "sessions_by_start",
  "sessions_by_location",
  "sessions_by_course",
  "sessions_by_instructor",
  "seats",
  "users",
  "users_by_email",
  "users_by_manager",
  "users_by_dealer",
  "bookings",
  "bookings_by_session",
  "bookings_by_learner",
  "places",
  "holds",
  "holds_by_session",
  "holds_by_expiry",
  "learner_holds",
  "waitlist",
  "waitlist_by_learner",
  "attendance",
  "session_cancels_pending",
  "events",
  "events_by_learner",
  "privacy_erasures",
  "privacy_meta",
  "outbox",
  "worker_leases",
  "idempotency",
  "api_tokens",
  "api_tokens_by_user",
  "auth_sessions",
  "auth_sessions_by_user",
  "oidc_logins",
  "relay",
  "relay_counts",
  "relay_errors",
  "dead_letters",
  "meta",
  "calcom_tenants",
  "calcom_deliveries",
  "calcom_delivery_hashes",
  "calcom_event_types",
  "calcom_event_type_sessions",
  "calcom_event_type_tenants",
  "calcom_seats",
  "calcom_seats_by_uid",
  "calcom_sync",
  "calcom_sync_due",
  "calcom_review",
  "calcom_meta",
  "auth_failures",
  "csp_reports",
  "events_by_session",
  "rules",
  "rules_audit",
] as const;

/** Key builders. Functions ending in `Prefix` return list prefixes. */
export const keys = {
  // ── catalog ──────────────────────────────────────────────────────────
  location: (id: string) => ["locations", id] as const,
  locationsPrefix: () => ["locations"] as const,
  locationBySlug: (slug: string) => ["locations_by_slug", slug] as const,
  course: (id: string) => ["courses", id] as const,
  coursesPrefix: () => ["courses"] as const,
  courseByCode: (code: string) => ["courses_by_code", code] as const,
  dealer: (id: string) => ["dealers", id] as const,
  dealersPrefix: () => ["dealers"] as const,
  dealerBySlug: (slug: string) => ["dealers_by_slug", slug] as const,
  catalogVersion: () => ["meta", "catalog_version"] as const,

  // ── sessions ─────────────────────────────────────────────────────────
  session: (id: string) => ["sessions", id] as const,
  sessionsByStartPrefix: () => ["sessions_by_start"] as const,
  sessionsByStart: (startsAt: string, id: string) => ["sessions_by_start", startsAt, id] as const,
  sessionsByLocationPrefix: (locationId: string | null) =>
    ["sessions_by_location", locationId ?? ONLINE_BUCKET] as const,
  sessionsByLocation: (
    locationId: string | null,
    startsAt: string,
    id: string,
  ) => ["sessions_by_location", locationId ?? ONLINE_BUCKET, startsAt, id] as const,
  sessionsByCoursePrefix: (courseId: string) => ["sessions_by_course", courseId] as const,
  sessionsByCourse: (courseId: string, startsAt: string, id: string) =>
    ["sessions_by_course", courseId, startsAt, id] as const,
  sessionsByInstructorPrefix: (instructorId: string) => ["sessions_by_instructor", instructorId] as const,
  sessionsByInstructor: (instructorId: string, startsAt: string, id: string) =>
    ["sessions_by_instructor", instructorId, startsAt, id] as const,
  seats: (sessionId: string) => ["seats", sessionId] as const,

  // ── people ───────────────────────────────────────────────────────────
  user: (id: string) => ["users", id] as const,
  usersPrefix: () => ["users"] as const,
  userByEmail: (email: string) => ["users_by_email", email] as const,
  usersByManagerPrefix: (managerId: string) => ["users_by_manager", managerId] as const,
  userByManager: (managerId: string, userId: string) => ["users_by_manager", managerId, userId] as const,
  usersByDealerPrefix: (dealerId: string) => ["users_by_dealer", dealerId] as const,
  userByDealer: (dealerId: string, userId: string) => ["users_by_dealer", dealerId, userId] as const,

  // ── bookings, holds, waitlist, attendance ────────────────────────────
  booking: (id: string) => ["bookings", id] as const,
  bookingsBySessionPrefix: (sessionId: string) => ["bookings_by_session", sessionId] as const,
  bookingBySession: (sessionId: string, bookingId: string) => ["bookings_by_session", sessionId, bookingId] as const,
  bookingsByLearnerPrefix: (learnerId: string) => ["bookings_by_learner", learnerId] as const,
  bookingByLearner: (learnerId: string, bookingId: string) => ["bookings_by_learner", learnerId, bookingId] as const,
  placesPrefix: (sessionId: string) => ["places", sessionId] as const,
  place: (sessionId: string, learnerId: string) => ["places", sessionId, learnerId] as const,
  hold: (id: string) => ["holds", id] as const,
  holdsBySessionPrefix: (sessionId: string) => ["holds_by_session", sessionId] as const,
  holdBySession: (sessionId: string, expiresAtMs: number, holdId: string) =>
    ["holds_by_session", sessionId, expiresAtMs, holdId] as const,
  holdsByExpiryPrefix: () => ["holds_by_expiry"] as const,
  holdByExpiry: (expiresAtMs: number, holdId: string) => ["holds_by_expiry", expiresAtMs, holdId] as const,
  learnerHolds: (learnerId: string) => ["learner_holds", learnerId] as const,
  waitlistPrefix: (sessionId: string) => ["waitlist", sessionId] as const,
  waitlistEntry: (sessionId: string, joinedAt: string, learnerId: string) =>
    ["waitlist", sessionId, joinedAt, learnerId] as const,
  waitlistByLearnerPrefix: (learnerId: string) => ["waitlist_by_learner", learnerId] as const,
  waitlistByLearner: (learnerId: string, sessionId: string) => ["waitlist_by_learner", learnerId, sessionId] as const,
  attendancePrefix: (sessionId: string) => ["attendance", sessionId] as const,
  attendance: (sessionId: string, learnerId: string) => ["attendance", sessionId, learnerId] as const,
  /** A session cancel under way; resumed after a crash (`resumeSessionCancels`). */
  sessionCancelPending: (sessionId: string) => ["session_cancels_pending", sessionId] as const,
  sessionCancelsPendingPrefix: () => ["session_cancels_pending"] as const,

  // ── meta ─────────────────────────────────────────────────────────────
  seedMarker: () => ["meta", "seed"] as const,
  // ── outbox and idempotency ───────────────────────────────────────────
  eventsPrefix: () => ["events"] as const,
  event: (key: string) => ["events", key] as const,
  /** Index of a learner's events (value null: the event key is the last part). */
  eventByLearner: (learnerId: string, eventKey: string) => ["events_by_learner", learnerId, eventKey] as const,
  eventsByLearnerPrefix: (learnerId: string) => ["events_by_learner", learnerId] as const,
  /** Index of a session's events (value null: the event key is the last part). */
  eventBySession: (sessionId: string, eventKey: string) => ["events_by_session", sessionId, eventKey] as const,
  eventsBySessionPrefix: (sessionId: string) => ["events_by_session", sessionId] as const,

  // ── business rules ───────────────────────────────────────────────────
  rulesGlobal: () => ["rules", "global"] as const,
  rulesCourse: (courseId: string) => ["rules", "course", courseId] as const,
  rulesCoursesPrefix: () => ["rules", "course"] as const,
  rulesAudit: (key: string) => ["rules_audit", key] as const,
  rulesAuditPrefix: () => ["rules_audit"] as const,

  // ── privacy ──────────────────────────────────────────────────────────
  erasure: (userId: string) => ["privacy_erasures", userId] as const,
  erasuresPrefix: () => ["privacy_erasures"] as const,
  privacyMeta: (name: string) => ["privacy_meta", name] as const,
  /** Every pending entry of one consumer (`kafka`, `calcom`). */
  outboxPrefix: (consumer: string) => ["outbox", consumer] as const,
  /** One session's pending entries for one consumer. */
  outboxSessionPrefix: (consumer: string, sessionId: string) => ["outbox", consumer, sessionId] as const,
  outboxEntry: (consumer: string, sessionId: string, eventKey: string) =>
    ["outbox", consumer, sessionId, eventKey] as const,

  // ── background work ──────────────────────────────────────────────────
  /** The fenced lease of one background job or cron (`relay`, `calcom-outbound`, `hold-sweep`, …). */
  workerLease: (name: string) => ["worker_leases", name] as const,
  idempotency: (scope: string, key: string) => ["idempotency", scope, key] as const,

  // ── event relay (Kafka) ──────────────────────────────────────────────
  /** Per topic: delivered count (KvU64). */
  relayDelivered: (topic: string) => ["relay_counts", topic, "delivered"] as const,
  /** Per topic: last delivery `{at, eventOccurredAt}`. */
  relayLastDelivered: (topic: string) => ["relay_counts", topic, "last"] as const,
  /** Per topic: last error `{message, at}`. */
  relayError: (topic: string) => ["relay_errors", topic] as const,
  deadLettersPrefix: () => ["dead_letters"] as const,
  deadLetter: (eventKey: string) => ["dead_letters", eventKey] as const,

  // ── abuse limits and CSP reports ─────────────────────────────────────
  authFailures: (kind: string, client: string) => ["auth_failures", kind, client] as const,
  cspReportCount: () => ["csp_reports", "count"] as const,

  // ── API credentials (only SHA-256 hashes of tokens are stored) ───────
  apiToken: (tokenHash: string) => ["api_tokens", tokenHash] as const,
  apiTokensByUserPrefix: (userId: string) => ["api_tokens_by_user", userId] as const,
  apiTokenByUser: (userId: string, tokenId: string) => ["api_tokens_by_user", userId, tokenId] as const,

  // ── Page sessions and OpenID sign-in (only SHA-256 hashes of ids and states are stored) ──
  authSession: (idHash: string) => ["auth_sessions", idHash] as const,
  authSessionsByUserPrefix: (userId: string) => ["auth_sessions_by_user", userId] as const,
  authSessionByUser: (userId: string, idHash: string) => ["auth_sessions_by_user", userId, idHash] as const,
  oidcLogin: (stateHash: string) => ["oidc_logins", stateHash] as const,

  // ── Cal.com ──────────────────────────────────────────────────────────
  calcomTenant: (slug: string) => ["calcom_tenants", slug] as const,
  calcomTenantsPrefix: () => ["calcom_tenants"] as const,
  calcomDelivery: (tenant: string, receivedAtUlid: string) => ["calcom_deliveries", tenant, receivedAtUlid] as const,
  calcomDeliveriesPrefix: (tenant: string) => ["calcom_deliveries", tenant] as const,
  calcomDeliveryHash: (bodyHash: string) => ["calcom_delivery_hashes", bodyHash] as const,
  calcomEventType: (sessionId: string) => ["calcom_event_types", sessionId] as const,
  calcomEventTypesPrefix: () => ["calcom_event_types"] as const,
  calcomEventTypeSession: (tenant: string, eventTypeId: number) =>
    ["calcom_event_type_sessions", tenant, eventTypeId] as const,
  calcomEventTypeTenant: (eventTypeId: number) => ["calcom_event_type_tenants", eventTypeId] as const,
  calcomSeat: (bookingId: string) => ["calcom_seats", bookingId] as const,
  calcomSeatByUid: (tenant: string, calBookingUid: string, email: string) =>
    ["calcom_seats_by_uid", tenant, calBookingUid, email.toLowerCase()] as const,
  calcomSync: (bookingId: string) => ["calcom_sync", bookingId] as const,
  calcomSyncPrefix: () => ["calcom_sync"] as const,
  calcomSyncDue: (dueAtMs: number, bookingId: string) => ["calcom_sync_due", dueAtMs, bookingId] as const,
  calcomSyncDuePrefix: () => ["calcom_sync_due"] as const,
  calcomReview: (itemId: string) => ["calcom_review", itemId] as const,
  calcomReviewPrefix: () => ["calcom_review"] as const,
  calcomMeta: (name: string) => ["calcom_meta", name] as const,
};
