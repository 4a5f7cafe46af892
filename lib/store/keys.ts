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
 * | `["outbox", consumer, sessionId, key]` | `DomainEvent` not yet delivered to `consumer` (`OUTBOX_CONSUMERS`, each only the types of `CONSUMER_EVENT_TYPES` in lib/booking/events.ts: `kafka` every event, `calcom` bookings and session changes, `reports`, `notify`); written with the event, deleted after delivery | booking engine (addEvent); the relay, Cal.com sync, reports aggregator and notifier delete |
 * | `["worker_leases", name]` | `LeaseRecord` `{owner, token, until}`: the fenced lease of a background job or cron | lib/worker/lease.ts |
 * | `["idempotency", scope, key]` | `{bodyHash, result, createdAt}`, expires after 24 h | booking engine |
 * | `["meta", "seed"]` | `SeedMarker` | seedDemoData |
 * | `["meta", "catalog_version"]` | ULID, changed by every course/location write | createCourse, createLocation |
 * | `["auth_sessions", idHash]` | `PageSession` `{userId, via, createdAtMs, seenAtMs}`: a signed-in page session (key: SHA-256 hex of the cookie's random id, never the id); expires at its absolute timeout | lib/auth/sessions.ts (createPageSession, touch, revoke) |
 * | `["auth_sessions_by_user", userId, idHash]` | null: the user's sessions (sign out everywhere, deactivation) | 〃 |
 * | `["oidc_logins", stateHash]` | `PendingLogin` `{nonce, verifier, next, redirectUri, createdAtMs}`: an OpenID sign-in under way (one use), expires after 10 min | lib/auth/oidc.ts (beginOidcSignIn; deleted by completeOidcSignIn) |
 * | `["dead_letters", eventKey]` | `DeadLetter` `{eventKey, eventId, eventType, sessionId, topic, reason, attempts, failedAt, event}`: an event the Kafka relay gave up on | the relay (with the outbox acknowledgement); deleted by requeueDeadLetter (the requeue and retry operations, the /admin/dead-letters page; it writes the event back to `["outbox", "kafka", …]` in the same commit) |
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
 * | `["alternatives_offered", learnerId, sessionId]` | `AlternativesOffer` `{offeredAt, sessionIds}`: the alternatives last shown to the learner for a full session (a hold taken from them within 24 h is an acceptance); expires after 24 h | recordAlternativesOffer (lib/booking/alternatives.ts: offerAlternatives, and the engine on a 409/410 refusal); eraseUser deletes |
 * | `["requirements", id]` | `Requirement`: a course required for roles, job functions or dealers | lib/store/compliance.ts (saveRequirement, deleteRequirement) |
 * | `["assignments", learnerId, courseId]` | `Assignment` `{dueOn, note, assignedBy}`: one per person and course | saveAssignment |
 * | `["recommendations", learnerId]` | `LearnerRecommendations` `{learnerId, computedAt, gaps}`: the person's compliance gaps with up to 3 recommended sessions each (rewritten only when they change) | the compliance scan (lib/compliance/scan.ts) |
 * | `["compliance_alerts", learnerId, alertId]` | `{at, eventKey}`: an alert identity already emitted (expiring threshold, due-soon threshold, overdue, escalation) and the event that carried it, so each goes out once | the compliance scan |
 * | `["compliance_outbox", key]` | `ComplianceEvent` (`assignment.created`, `assignment.due_soon`, `assignment.overdue`, `assignment.escalated`, `certification.expiring`, `certification.expired`, `recommendations.updated`) pending for the notifications work, which deletes it | saveAssignment, the compliance scan |
 * | `["compliance_meta", "last_scan"]` | `ScanSummary` of the last full scan; `"rescan_all"`: `{at}`, a full rescan is wanted (a requirement changed) | the compliance scan; requestRescan |
 * | `["compliance_rescan", learnerId]` | `{at}`: this person's recommendations are to be recomputed (assignment, booking for them, seats freed in a course they need) | requestRescan; deleted by the rescan loop |
 * | `["attendance_audit", sessionId, learnerId, ulid]` | `AttendanceAuditEntry`: every mark, check-in, correction and refused stale mark | lib/attendance (markAttendance, selfCheckIn, closeAttendance) |
 * | `["attendance_closes", sessionId]` | `AttendanceClose` `{closedAt, closedBy, counts}`: attendance is final | closeAttendance |
 * | `["checkin_codes", sessionId]` | `{code, createdAt}`: the session's self check-in code | ensureCheckInCode |
 * | `["meta", "seed_teaching"]` | `TeachingSeedMarker`: the instructor demo's past sessions and its current live ones | seedTeachingDemo |
 * | `["online_presence", sessionId, learnerId]` | `OnlinePresence` `{joinCount, seconds, openSince, lastSeenAt, joins}`: online joins and leaves | lib/attendance/online.ts (recordJoin, recordHeartbeat, recordLeave) |
 * | `["rsvps", sessionId, learnerId]` | `Rsvp` `{status: confirmed\|tentative\|declined, at, by}`: a booked learner's answer (online sessions) | answerRsvp |
 * | `["recordings", sessionId]` | `Recording` `{url, durationSeconds, addedAt, addedBy, source}` | addRecording (staff, Cal.com RECORDING_READY) |
 * | `["recording_views", sessionId, learnerId]` | `RecordingView` `{watchedSeconds, lastAt, completedAt}`: played time credited, capped by the wall clock | openRecording, reportProgress |
 * | `["roster_ticks", sessionId]` | `{at}`: changed by every attendance write, watched by the live roster | lib/attendance, recordAttendance |
 * | `["report_days", day, bucket]` | `PackedBlob` `{v: 2, s, r, p}`: per-session report rows (ids, capacity, counters; people with no-shows and late cancellations) of sessions starting that UTC day, packed (lib/reports/model.ts; bucket 0–3 by session id) | reports aggregator (lib/reports/aggregator.ts), recount repair |
 * | `["report_dealer_days", dealerId, day]` | `PackedBlob`: the same rows counting only that dealer's learners | 〃 |
 * | `["report_applied", eventKey]` | null, expires after 7 days: the event was folded into the report rows (a redelivery is skipped) | reports aggregator |
 * | `["report_inbox", ulid]` | `ReportInboxItem` (a session page view) not folded yet | recordSessionView; aggregator deletes |
 * | `["report_view_counts", sessionId, dealerId \| "-"]` | KvU64: every view of the session page ever recorded, by the viewer's dealer (the recount's source for views) | recordSessionView |
 * | `["report_alt_offers", id]` | `AltOffer` `{sessionId, learnerId, alternatives, atMs, decided, accepted}`: a full-session answer that offered alternatives | addAlternativesOffered (in recordAlternativesOffer's commit); aggregator decides after 24 h |
 * | `["report_alt_due", dueAtMs, id]` | null: offers whose 24 h are not yet decided (the aggregator's work list) | addAlternativesOffered; aggregator deletes |
 * | `["report_meta", name]` | `version`: ULID changed by every aggregate write (report caches); `recount`: the last recount's result | reports aggregator, recount |
 * | `["meta", "report_history"]` | `{at}`: the demo report history was written (once per store) | seedReportHistory |
 * | `["notify_messages", id]` | `Notification`: one email by identity (id: SHA-256 of the identity), its status (pending, sent, dead, skipped), content and attempts | notifier (lib/notify/) |
 * | `["notify_due", dueAtMs, id]` | null: pending messages by when they may go (the sender's work list; reminders' due-time index) | notifier |
 * | `["notify_by_user", userId, createdAtMs, id]` | null: the recipient's messages (the inbox of /me/notifications) | notifier |
 * | `["notify_dead", id]` | null: messages that failed for good (admin list, retry) | notifier; admin retry deletes |
 * | `["notify_calendar", bookingId]` | `CalendarState` `{uid, sequence}`: the invitation last sent for the booking (a moved booking keeps the UID, a higher SEQUENCE) | notifier |
 * | `["notify_rate", userId]` | `RateState` `{windowStartMs, count}`: the recipient's sends in the current window (pacing) | notifier; eraseUser deletes |
 * | `["notify_prefs", userId]` | `NotificationPrefs` `{off, timeZone}`: kinds the user turned off, zone for times | /me/notifications, unsubscribe link (lib/notify/manage.ts); eraseUser deletes |
 * | `["notify_settings"]` | `NotifySettings` `{paused}`: the admins' pause-all switch | admin notifications |
 * | `["notify_settings", "signing_key"]` | random hex: HMAC key of one-click unsubscribe tokens (made on first use) | lib/notify/manage.ts |
 * | `["rules", "global"]` | `RulesDoc` `{rules, version, updatedAt, updatedBy}`: the business rules admins set (hold minutes, max live holds, offer windows, default cut-off, check-in window, reminder schedule) | saveRules (with its audit entry) |
 * | `["rules", "course", courseId]` | `CourseRulesDoc` `{overrides, version, updatedAt, updatedBy}`: one course's overrides (hold minutes, offer windows, reminder schedule) | saveCourseRules (with its audit entry) |
 * | `["rules_audit", key]` | `RulesAuditEntry` `{at, actorId, origin, scope, changes, reason}`: who changed which rule, when, why (key: ULID of the change) | saveRules, saveCourseRules |
 * | `["events_by_session", sessionId, key]` | null (the event key is the key's last part): a session's events (audit trail by session and course) | booking engine (addEvent, with the event) |
 * | `["course_waitlist", learnerId, courseId]` | `CourseWaitlistEntry` `{id, window, maxKm, deadline, sessionIds, offer}`: a course-wide waitlist entry; its `offer` (one live at a time) is set by the session that offers, in a checked write; deleted when the learner leaves or accepts an offer | lib/booking/course_waitlist.ts, SessionTx.fillOffers / confirmHold; eraseUser deletes |
 * | `["course_waitlist_by_course", courseId, joinedAt, learnerId]` | entry id: the course's course-wide entries in join order (who to add to a session scheduled or moved later); written and deleted in the same atomic op as the entry | lib/booking/course_waitlist.ts, SessionTx.closeCourseEntry, eraseUser |
 * | `["course_waitlist_cover", sessionId]` | `CourseWaitlistCover` `{id, sessionId, startedAt, after}`: the session's course-wide entries are still to be added (work list; `after` = the last `[joinedAt, learnerId]` done); set with the session's scheduling or a change of course, date, place, mode or waitlist switch, deleted when every entry was considered | scheduleSession, updateSession (lib/booking/session_lifecycle.ts); addCourseWaitlistLearners moves `after` and deletes it |
 * | `["meta", "course_waitlist_index"]` | `{at}`: entries made before `course_waitlist_by_course` existed were indexed (once per store) | indexCourseWaitlists (worker start) |
 * | `["meta", "course_waitlist_demo"]` | `{seededAt, courseId}`: the demo learner's course-wide entry was seeded | seedCourseWaitlistDemo |
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
  "alternatives_offered",
  "requirements",
  "assignments",
  "recommendations",
  "compliance_alerts",
  "compliance_outbox",
  "compliance_meta",
  "compliance_rescan",
  "attendance_audit",
  "attendance_closes",
  "checkin_codes",
  "roster_ticks",
  "online_presence",
  "report_days",
  "report_dealer_days",
  "report_applied",
  "report_inbox",
  "report_view_counts",
  "report_alt_offers",
  "report_alt_due",
  "report_meta",
  "notify_messages",
  "notify_due",
  "notify_by_user",
  "notify_dead",
  "notify_calendar",
  "notify_rate",
  "notify_prefs",
  "notify_settings",
  "rsvps",
  "recordings",
  "recording_views",
  "events_by_session",
  "rules",
  "rules_audit",
  "course_waitlist",
  "course_waitlist_by_course",
  "course_waitlist_cover",
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

  // ── alternatives to full sessions ────────────────────────────────────
  alternativesOffered: (learnerId: string, sessionId: string) =>
    ["alternatives_offered", learnerId, sessionId] as const,
  alternativesOfferedPrefix: (learnerId: string) => ["alternatives_offered", learnerId] as const,
  // ── compliance (lib/compliance/) ─────────────────────────────────────
  requirement: (id: string) => ["requirements", id] as const,
  requirementsPrefix: () => ["requirements"] as const,
  assignment: (learnerId: string, courseId: string) => ["assignments", learnerId, courseId] as const,
  assignmentsPrefix: () => ["assignments"] as const,
  assignmentsByLearnerPrefix: (learnerId: string) => ["assignments", learnerId] as const,
  recommendations: (learnerId: string) => ["recommendations", learnerId] as const,
  complianceAlert: (learnerId: string, alertId: string) => ["compliance_alerts", learnerId, alertId] as const,
  complianceAlertsPrefix: (learnerId: string) => ["compliance_alerts", learnerId] as const,
  complianceOutbox: (key: string) => ["compliance_outbox", key] as const,
  complianceOutboxPrefix: () => ["compliance_outbox"] as const,
  complianceMeta: (name: string) => ["compliance_meta", name] as const,
  complianceRescan: (learnerId: string) => ["compliance_rescan", learnerId] as const,
  complianceRescanPrefix: () => ["compliance_rescan"] as const,

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

  // ── attendance (lib/attendance) ──────────────────────────────────────
  attendanceAudit: (sessionId: string, learnerId: string, entryId: string) =>
    ["attendance_audit", sessionId, learnerId, entryId] as const,
  attendanceAuditPrefix: (sessionId: string) => ["attendance_audit", sessionId] as const,
  attendanceAuditLearnerPrefix: (sessionId: string, learnerId: string) =>
    ["attendance_audit", sessionId, learnerId] as const,
  attendanceClose: (sessionId: string) => ["attendance_closes", sessionId] as const,
  checkInCode: (sessionId: string) => ["checkin_codes", sessionId] as const,
  rosterTick: (sessionId: string) => ["roster_ticks", sessionId] as const,
  teachingSeedMarker: () => ["meta", "seed_teaching"] as const,
  onlinePresence: (sessionId: string, learnerId: string) => ["online_presence", sessionId, learnerId] as const,
  onlinePresencePrefix: (sessionId: string) => ["online_presence", sessionId] as const,
  // ── reports (lib/reports/) ───────────────────────────────────────────
  reportDay: (day: string, bucket: number) => ["report_days", day, bucket] as const,
  reportDaysPrefix: () => ["report_days"] as const,
  reportDealerDay: (dealerId: string, day: string) => ["report_dealer_days", dealerId, day] as const,
  reportDealerDaysPrefix: (dealerId: string) => ["report_dealer_days", dealerId] as const,
  reportApplied: (eventKey: string) => ["report_applied", eventKey] as const,
  reportInbox: (id: string) => ["report_inbox", id] as const,
  reportInboxPrefix: () => ["report_inbox"] as const,
  reportViewCount: (sessionId: string, dealerId: string | null) =>
    ["report_view_counts", sessionId, dealerId ?? "-"] as const,
  reportViewCountsPrefix: () => ["report_view_counts"] as const,
  reportAltOffer: (id: string) => ["report_alt_offers", id] as const,
  reportAltOffersPrefix: () => ["report_alt_offers"] as const,
  reportAltDue: (dueAtMs: number, id: string) => ["report_alt_due", dueAtMs, id] as const,
  reportAltDuePrefix: () => ["report_alt_due"] as const,
  reportMeta: (name: string) => ["report_meta", name] as const,
  reportHistoryMarker: () => ["meta", "report_history"] as const,
  // ── Notifications (lib/notify/) ───────────────────────────────────────
  notifyMessage: (id: string) => ["notify_messages", id] as const,
  notifyMessagesPrefix: () => ["notify_messages"] as const,
  notifyDue: (dueAtMs: number, id: string) => ["notify_due", dueAtMs, id] as const,
  notifyDuePrefix: () => ["notify_due"] as const,
  notifyDueAtPrefix: (dueAtMs: number) => ["notify_due", dueAtMs] as const,
  notifyByUser: (userId: string, createdAtMs: number, id: string) =>
    ["notify_by_user", userId, createdAtMs, id] as const,
  notifyByUserPrefix: (userId: string) => ["notify_by_user", userId] as const,
  notifyDead: (id: string) => ["notify_dead", id] as const,
  notifyDeadPrefix: () => ["notify_dead"] as const,
  notifyCalendar: (bookingId: string) => ["notify_calendar", bookingId] as const,
  notifyRate: (userId: string) => ["notify_rate", userId] as const,
  notifyPrefs: (userId: string) => ["notify_prefs", userId] as const,
  notifySettings: () => ["notify_settings"] as const,
  notifySigningKey: () => ["notify_settings", "signing_key"] as const,
  rsvp: (sessionId: string, learnerId: string) => ["rsvps", sessionId, learnerId] as const,
  rsvpsPrefix: (sessionId: string) => ["rsvps", sessionId] as const,
  recording: (sessionId: string) => ["recordings", sessionId] as const,
  recordingView: (sessionId: string, learnerId: string) => ["recording_views", sessionId, learnerId] as const,
  // ── Course-wide waitlist (lib/booking/course_waitlist.ts) ───────────────
  courseWaitlist: (learnerId: string, courseId: string) => ["course_waitlist", learnerId, courseId] as const,
  courseWaitlistPrefix: (learnerId: string) => ["course_waitlist", learnerId] as const,
  courseWaitlistsPrefix: () => ["course_waitlist"] as const,
  courseWaitlistByCourse: (courseId: string, joinedAt: string, learnerId: string) =>
    ["course_waitlist_by_course", courseId, joinedAt, learnerId] as const,
  courseWaitlistByCoursePrefix: (courseId: string) => ["course_waitlist_by_course", courseId] as const,
  courseWaitlistCover: (sessionId: string) => ["course_waitlist_cover", sessionId] as const,
  courseWaitlistCoversPrefix: () => ["course_waitlist_cover"] as const,
  courseWaitlistIndexMarker: () => ["meta", "course_waitlist_index"] as const,
  courseWaitlistDemoMarker: () => ["meta", "course_waitlist_demo"] as const,
};
