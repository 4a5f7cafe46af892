/**
 * The access matrix, walked: every API operation and every page, as every role, against what its
 * declaration says (lib/access/matrix.ts). Allowed → never 401/403; refused by role → 401 for
 * anonymous (pages: 303 to sign in) and 403 otherwise; refused by reach (someone else's place, a
 * session one does not teach) → 403 (pages: 404, "as good as missing"). An operation or page
 * without a request below fails the test, so a new route must be added here (and declared).
 *
 * Personal data: every response to a role without the right to it is searched for the owner's
 * email and the session's join link; neither may appear.
 */
import assert from "node:assert/strict";
import manifest from "../../fresh.gen.ts";
import { type Access, AUDIENCES, decide, type Reach, toRule } from "../../lib/access/matrix.ts";
import { isSpecialRoute } from "../../lib/access/pages.ts";
import { API_OPERATIONS } from "../../lib/api/mod.ts";
import { mintToken } from "../../lib/auth/tokens.ts";
import { defaultRules } from "../../lib/booking/rules.ts";
import type { Role, Session, User } from "../../lib/domain/mod.ts";
import { createCourse, createSession, createUser, listDealers } from "../../lib/store/mod.ts";
import { type ApiFixture, startApiFixture } from "../api/fixture.ts";
import { signInCookie } from "./sign_in.ts";

/** The callers of the walk. `owner` is the learner whose places the requests are about. */
const CALLERS = [
  "anonymous",
  "owner",
  "learner",
  "instructor_own",
  "instructor_other",
  "manager",
  "dealer_admin",
  "admin",
] as const;
type Caller = typeof CALLERS[number];

/** The callers who may see the owner's personal data and the join link of the owner's session. */
const PRIVILEGED: readonly Caller[] = ["owner", "instructor_own", "admin"];

const ROLES: Record<Caller, Role[] | null> = {
  anonymous: null,
  owner: ["learner"],
  learner: ["learner"],
  instructor_own: ["instructor"],
  instructor_other: ["instructor"],
  manager: ["manager"],
  dealer_admin: ["dealer_admin"],
  admin: ["admin"],
};

interface Person {
  email: string | null;
  user: User | null;
  token: string | null;
  cookie: string | null;
}

/**
 * What one request is about: nobody's things, the owner's place, the owner's session, the team of
 * the owner's manager, or the owner's dealer.
 */
type Target = "none" | "place" | "session" | "team" | "dealer";

/** Everything a request may refer to; made fresh for each operation, so writes do not interfere. */
interface World {
  /** Online session taught by instructor_own; the owner is booked in it. */
  booked: Session;
  bookingId: string;
  /** Session taught by instructor_own where the owner holds a seat. */
  held: Session;
  holdId: string;
  /** Full session taught by instructor_own; the owner waits for a seat. */
  full: Session;
  /** Another session of the booked course (reschedule target), and one where the owner has nothing. */
  spare: Session;
  locationId: string;
  dealerId: string;
  ownerId: string;
  /** A course of the walk's own (changed by the updateCourse sample). */
  courseId: string;
}

interface Sample {
  method: string;
  path: string;
  body?: unknown;
  target: Target;
}

const MARK = crypto.randomUUID().slice(0, 8);
const JOIN_URL = `https://meet.example.com/secret-${MARK}`;
let generation = 0;
/** A well-formed user id nobody has (erasure and deactivation are not tried on real people here). */
const UNKNOWN_USER = "01JZZZZZZZZZZZZZZZZZZZZZZZ";

/** A course body with a code no other sample uses. */
function matrixCourse() {
  return {
    code: `MTX-${String(1000 + (++generation % 9000))}`,
    title: "Matrix course",
    summary: "Made by the access matrix walk.",
    topic: "safety" as const,
    programType: "development" as const,
    durationMinutes: 60,
  };
}

/** A training center body with a slug no other sample uses. */
function matrixLocation() {
  return {
    name: "Matrix Center",
    slug: `matrix-${++generation}`,
    address: { line1: "1 Test St", city: "Boise", region: "ID", postalCode: "83702", country: "US" },
    timeZone: "America/Boise",
    lat: 43.6,
    lng: -116.2,
  };
}

/** One request per operation (by operationId). */
const OPERATION_SAMPLES: Record<string, (w: World, people: Record<Caller, Person>) => Sample> = {
  listSessions: () => ({ method: "GET", path: "/api/v1/sessions?mode=online&limit=100", target: "none" }),
  getSession: (w) => ({ method: "GET", path: `/api/v1/sessions/${w.booked.id}`, target: "none" }),
  listSlots: (w) => ({
    method: "GET",
    path: `/api/v1/slots?hub=${w.locationId}&date=${w.spare.startsAt.slice(0, 10)}`,
    target: "none",
  }),
  scheduleSession: (w, p) => ({
    method: "POST",
    path: "/api/v1/sessions",
    body: {
      courseId: w.spare.courseId,
      startsAt: new Date(Date.now() + 9 * 86_400_000).toISOString(),
      mode: "online",
      timeZone: "Europe/Berlin",
      joinUrl: JOIN_URL,
      capacity: 3,
      instructorId: p.instructor_own.user!.id,
    },
    target: "session",
  }),
  updateSession: (w) => ({
    method: "PATCH",
    path: `/api/v1/sessions/${w.booked.id}`,
    body: { capacity: 9 },
    target: "session",
  }),
  cancelSession: (w) => ({
    method: "POST",
    path: `/api/v1/sessions/${w.spare.id}/cancel`,
    body: {},
    target: "session",
  }),
  placeHold: (w, p) => ({
    method: "POST",
    path: "/api/v1/holds",
    body: { sessionId: w.spare.id, learnerId: p.owner.user!.id },
    target: "place",
  }),
  getHold: (w) => ({ method: "GET", path: `/api/v1/holds/${w.holdId}`, target: "place" }),
  releaseHold: (w) => ({ method: "DELETE", path: `/api/v1/holds/${w.holdId}`, target: "place" }),
  confirmBooking: (w) => ({ method: "POST", path: "/api/v1/bookings", body: { holdId: w.holdId }, target: "place" }),
  getBooking: (w) => ({ method: "GET", path: `/api/v1/bookings/${w.bookingId}`, target: "place" }),
  cancelBooking: (w) => ({ method: "POST", path: `/api/v1/bookings/${w.bookingId}/cancel`, body: {}, target: "place" }),
  rescheduleBooking: (w) => ({
    method: "POST",
    path: `/api/v1/bookings/${w.bookingId}/reschedule`,
    body: { sessionId: w.spare.id },
    target: "place",
  }),
  joinWaitlist: (w, p) => ({
    method: "POST",
    path: "/api/v1/waitlist",
    body: { sessionId: w.full.id, learnerId: p.owner.user!.id },
    target: "place",
  }),
  leaveWaitlist: (w, p) => ({
    method: "DELETE",
    path: `/api/v1/waitlist/${w.full.id}?learnerId=${p.owner.user!.id}`,
    target: "place",
  }),
  upsertUser: () => ({
    method: "POST",
    path: "/api/v1/users",
    body: { email: `new-${crypto.randomUUID()}@example.com`, name: "New Person", roles: ["learner"] },
    target: "none",
  }),
  createToken: (_w, p) => ({
    method: "POST",
    path: `/api/v1/users/${p.owner.user!.id}/tokens`,
    body: {},
    target: "none",
  }),
  getMe: () => ({ method: "GET", path: "/api/v1/me", target: "none" }),
  listTeamBookings: (_w, p) => ({
    method: "GET",
    path: `/api/v1/team/bookings?managerId=${p.manager.user!.id}`,
    target: "team",
  }),
  listDealerBookings: (w) => ({ method: "GET", path: `/api/v1/dealers/${w.dealerId}/bookings`, target: "dealer" }),
  listMyBookings: () => ({ method: "GET", path: "/api/v1/me/bookings", target: "none" }),
  listEvents: () => ({ method: "GET", path: "/api/v1/events", target: "none" }),
  checkConsistency: () => ({ method: "GET", path: "/api/v1/admin/consistency", target: "none" }),
  listRelayTopics: () => ({ method: "GET", path: "/api/calcom/topics", target: "none" }),
  relayHealth: () => ({ method: "GET", path: "/api/calcom/health", target: "none" }),
  listDeadLetters: () => ({ method: "GET", path: "/api/v1/admin/dead-letters", target: "none" }),
  retryDeadLetter: () => ({ method: "POST", path: "/api/v1/admin/dead-letters/01NOSUCHEVENT/retry", target: "none" }),
  summariseDeadLetterLists: () => ({ method: "GET", path: "/api/v1/admin/dead-letter-lists", target: "none" }),
  requeueDeadLetter: () => ({
    method: "POST",
    path: "/api/v1/admin/dead-letters/01NOSUCHEVENT/requeue",
    target: "none",
  }),
  getBookingSyncStatus: (w) => ({
    method: "GET",
    path: `/api/v1/bookings/${w.bookingId}/sync-status`,
    target: "place",
  }),
  listCalcomReviewItems: () => ({ method: "GET", path: "/api/v1/admin/calcom/review", target: "none" }),
  retryCalcomReviewItem: () => ({
    method: "POST",
    path: "/api/v1/admin/calcom/review/01NOSUCHITEM/retry",
    target: "none",
  }),
  resolveCalcomReviewItem: () => ({
    method: "POST",
    path: "/api/v1/admin/calcom/review/01NOSUCHITEM/resolve",
    body: { comment: "checked" },
    target: "none",
  }),
  calcomSyncFigures: () => ({ method: "GET", path: "/api/v1/admin/calcom/sync", target: "none" }),
  listCalcomTenants: () => ({ method: "GET", path: "/api/v1/admin/calcom/tenants", target: "none" }),
  putCalcomTenant: () => ({
    method: "PUT",
    path: "/api/v1/admin/calcom/tenants/matrix",
    body: { baseUrl: "https://cal.example.com/api/v2", apiKey: "cal_test_key_0123456789" },
    target: "none",
  }),
  deleteCalcomTenant: () => ({ method: "DELETE", path: "/api/v1/admin/calcom/tenants/nosuch", target: "none" }),
  exportUserData: (_w, p) => ({ method: "GET", path: `/api/v1/users/${p.owner.user!.id}/export`, target: "none" }),
  exportMyData: () => ({ method: "GET", path: "/api/v1/me/export", target: "none" }),
  eraseUser: () => ({
    method: "POST",
    path: `/api/v1/users/${UNKNOWN_USER}/erase`,
    body: { reason: "matrix walk" },
    target: "none",
  }),
  deactivateUser: () => ({ method: "POST", path: `/api/v1/users/${UNKNOWN_USER}/deactivate`, target: "none" }),
  listAlternatives: (w, p) => ({
    method: "GET",
    path: `/api/v1/sessions/${w.full.id}/alternatives?learnerId=${p.owner.user!.id}`,
    target: "place",
  }),
  getMyProfile: () => ({ method: "GET", path: "/api/v1/me/profile", target: "none" }),
  updateMyProfile: (w) => ({
    method: "PUT",
    path: "/api/v1/me/profile",
    body: { preferredLocationId: w.locationId, preferredTimes: { weekdays: [2], dayParts: ["morning"] } },
    target: "none",
  }),
  listRequirements: () => ({ method: "GET", path: "/api/v1/requirements", target: "none" }),
  createRequirement: (w) => ({
    method: "POST",
    path: "/api/v1/requirements",
    body: { courseId: w.spare.courseId, dealerIds: [w.dealerId] },
    target: "dealer",
  }),
  deleteRequirement: () => ({ method: "DELETE", path: `/api/v1/requirements/${UNKNOWN_USER}`, target: "dealer" }),
  assignToTeamMember: (w, p) => ({
    method: "POST",
    path: "/api/v1/team/assignments",
    body: { learnerId: p.owner.user!.id, courseId: w.spare.courseId, dueOn: inDays(30) },
    target: "team",
  }),
  assignInDealer: (w, p) => ({
    method: "POST",
    path: `/api/v1/dealers/${w.dealerId}/assignments`,
    body: { learnerId: p.owner.user!.id, courseId: w.spare.courseId, dueOn: inDays(30) },
    target: "dealer",
  }),
  getTeamCompliance: (_w, p) => ({
    method: "GET",
    path: `/api/v1/team/compliance?managerId=${p.manager.user!.id}`,
    target: "team",
  }),
  getDealerCompliance: (w) => ({ method: "GET", path: `/api/v1/dealers/${w.dealerId}/compliance`, target: "dealer" }),
  getMyCompliance: () => ({ method: "GET", path: "/api/v1/me/compliance", target: "none" }),
  bookForTeamMember: (w, p) => ({
    method: "POST",
    path: "/api/v1/team/bookings",
    body: { learnerId: p.owner.user!.id, sessionId: w.spare.id },
    target: "team",
  }),
  bookInDealer: (w, p) => ({
    method: "POST",
    path: `/api/v1/dealers/${w.dealerId}/bookings`,
    body: { learnerId: p.owner.user!.id, sessionId: w.spare.id },
    target: "dealer",
  }),
  listMyTeaching: () => ({ method: "GET", path: "/api/v1/me/teaching", target: "none" }),
  getRoster: (w) => ({ method: "GET", path: `/api/v1/sessions/${w.booked.id}/roster`, target: "session" }),
  markAttendance: (w, p) => ({
    method: "PUT",
    path: `/api/v1/sessions/${w.booked.id}/attendance/marks/${p.owner.user!.id}`,
    body: { mark: "present", expectedRevision: 0 },
    target: "session",
  }),
  markAllPresent: (w) => ({
    method: "POST",
    path: `/api/v1/sessions/${w.booked.id}/attendance/all-present`,
    target: "session",
  }),
  closeAttendance: (w) => ({
    method: "POST",
    path: `/api/v1/sessions/${w.booked.id}/attendance/close`,
    target: "session",
  }),
  listAttendanceAudit: (w) => ({
    method: "GET",
    path: `/api/v1/sessions/${w.booked.id}/attendance/audit`,
    target: "session",
  }),
  joinSession: (w) => ({ method: "POST", path: `/api/v1/sessions/${w.booked.id}/join`, target: "place" }),
  presenceHeartbeat: (w) => ({
    method: "POST",
    path: `/api/v1/sessions/${w.booked.id}/presence/heartbeat`,
    target: "none",
  }),
  presenceLeave: (w) => ({ method: "POST", path: `/api/v1/sessions/${w.booked.id}/presence/leave`, target: "none" }),
  answerRsvp: (w, p) => ({
    method: "PUT",
    path: `/api/v1/sessions/${w.booked.id}/rsvp`,
    body: { status: "tentative", learnerId: p.owner.user!.id },
    target: "place",
  }),
  addRecording: (w) => ({
    method: "PUT",
    path: `/api/v1/sessions/${w.booked.id}/recording`,
    body: { url: "https://video.example.com/rec.mp4" },
    target: "session",
  }),
  openRecording: (w) => ({ method: "POST", path: `/api/v1/sessions/${w.booked.id}/recording/open`, target: "none" }),
  reportRecordingProgress: (w) => ({
    method: "POST",
    path: `/api/v1/sessions/${w.booked.id}/recording/progress`,
    body: { playedSeconds: 10 },
    target: "none",
  }),
  selfCheckIn: (w) => ({
    method: "POST",
    path: `/api/v1/sessions/${w.booked.id}/check-in`,
    body: { code: "ABCDEF" },
    target: "none",
  }),
  getReports: (w) => ({ method: "GET", path: `/api/v1/reports?dealerId=${w.dealerId}`, target: "dealer" }),
  getReportCsv: (w) => ({ method: "GET", path: `/api/v1/reports/funnel/csv?dealerId=${w.dealerId}`, target: "dealer" }),
  getReportsRecount: () => ({ method: "GET", path: "/api/v1/admin/reports/recount", target: "none" }),
  recountReports: () => ({ method: "POST", path: "/api/v1/admin/reports/recount", body: {}, target: "none" }),
  getMyNotifications: () => ({ method: "GET", path: "/api/v1/me/notifications", target: "none" }),
  setMyNotificationPreferences: () => ({
    method: "PUT",
    path: "/api/v1/me/notifications",
    body: { off: ["reminder"], timeZone: null },
    target: "none",
  }),
  listNotifications: () => ({ method: "GET", path: "/api/v1/admin/notifications?limit=10", target: "none" }),
  retryNotification: () => ({
    method: "POST",
    path: `/api/v1/admin/notifications/${"0".repeat(32)}/retry`,
    target: "none",
  }),
  pauseNotifications: () => ({
    method: "PUT",
    path: "/api/v1/admin/notifications/pause",
    body: { paused: false },
    target: "none",
  }),
  searchAuditTrail: (_w, p) => ({
    method: "GET",
    path: `/api/v1/admin/audit?learner=${p.owner.user!.id}`,
    target: "none",
  }),
  getBookingHistory: (w) => ({ method: "GET", path: `/api/v1/bookings/${w.bookingId}/history`, target: "place" }),
  listCoursesAdmin: () => ({ method: "GET", path: "/api/v1/admin/courses", target: "none" }),
  createCourse: () => ({ method: "POST", path: "/api/v1/courses", body: matrixCourse(), target: "none" }),
  getRules: () => ({ method: "GET", path: "/api/v1/admin/rules", target: "none" }),
  putRules: () => ({ method: "PUT", path: "/api/v1/admin/rules", body: defaultRules(15), target: "none" }),
  putCourseRules: (w) => ({
    method: "PUT",
    path: `/api/v1/admin/rules/courses/${w.courseId}`,
    body: { holdMinutes: 10 },
    target: "none",
  }),
  searchPeople: () => ({ method: "GET", path: "/api/v1/admin/people?q=matrix", target: "none" }),
  updatePerson: (w) => ({
    method: "PATCH",
    path: `/api/v1/users/${w.ownerId}`,
    body: { name: "Matrix owner renamed" },
    target: "dealer",
  }),
  listLocationsAdmin: () => ({ method: "GET", path: "/api/v1/admin/locations", target: "none" }),
  createLocation: () => ({ method: "POST", path: "/api/v1/locations", body: matrixLocation(), target: "none" }),
  updateLocation: (w) => ({
    method: "PUT",
    path: `/api/v1/locations/${w.locationId}`,
    body: { ...matrixLocation(), slug: `matrix-own-${generation}` },
    target: "none",
  }),
  updateCourse: (w) => ({ method: "PUT", path: `/api/v1/courses/${w.courseId}`, body: matrixCourse(), target: "none" }),
  joinCourseWaitlist: (w) => ({
    method: "POST",
    path: "/api/v1/course-waitlist",
    body: { courseId: w.full.courseId },
    target: "none",
  }),
  leaveCourseWaitlist: (w) => ({
    method: "DELETE",
    path: `/api/v1/course-waitlist/${w.full.courseId}`,
    target: "none",
  }),
  listMyCourseWaitlists: () => ({ method: "GET", path: "/api/v1/me/course-waitlist", target: "none" }),
};

/** A calendar date `days` from now (assignments must not be due in the past). */
function inDays(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

/** One GET per page (by manifest key), and which pages show the owner's join link to whom. */
const PAGE_SAMPLES: Record<string, { path: (w: World) => string; target: Target; joinLinkFor: readonly Caller[] }> = {
  "./routes/index.tsx": { path: () => "/?mode=online", target: "none", joinLinkFor: [] },
  "./routes/sessions/[id].tsx": { path: (w) => `/sessions/${w.booked.id}`, target: "none", joinLinkFor: PRIVILEGED },
  "./routes/sessions/[id]/seats.ts": { path: (w) => `/sessions/${w.booked.id}/seats`, target: "none", joinLinkFor: [] },
  "./routes/sw.js.ts": { path: () => "/sw.js", target: "none", joinLinkFor: [] },
  "./routes/dev/sign-in.tsx": { path: () => "/dev/sign-in", target: "none", joinLinkFor: [] },
  "./routes/holds/[id].tsx": { path: (w) => `/holds/${w.holdId}`, target: "place", joinLinkFor: [] },
  "./routes/bookings/[id].tsx": {
    path: (w) => `/bookings/${w.bookingId}`,
    target: "place",
    joinLinkFor: ["owner", "admin"],
  },
  "./routes/bookings/[id]/calendar.ics.ts": {
    path: (w) => `/bookings/${w.bookingId}/calendar.ics`,
    target: "place",
    joinLinkFor: ["owner"],
  },
  "./routes/me/schedule.tsx": { path: () => "/me/schedule", target: "none", joinLinkFor: ["owner"] },
  "./routes/admin/calcom.tsx": { path: () => "/admin/calcom", target: "none", joinLinkFor: [] },
  "./routes/auth/sign-in.tsx": { path: () => "/auth/sign-in", target: "none", joinLinkFor: [] },
  "./routes/auth/callback.tsx": { path: () => "/auth/callback", target: "none", joinLinkFor: [] },
  "./routes/auth/sign-out.tsx": { path: () => "/auth/sign-out", target: "none", joinLinkFor: [] },
  "./routes/me/privacy.tsx": { path: () => "/me/privacy", target: "none", joinLinkFor: [] },
  "./routes/me/privacy/export.json.ts": { path: () => "/me/privacy/export.json", target: "none", joinLinkFor: [] },
  "./routes/me/profile.tsx": { path: () => "/me/profile", target: "none", joinLinkFor: [] },
  "./routes/team.tsx": { path: () => "/team", target: "team", joinLinkFor: [] },
  "./routes/dealer/compliance.tsx": { path: () => "/dealer/compliance", target: "dealer", joinLinkFor: [] },
  "./routes/teach/index.tsx": { path: () => "/teach", target: "none", joinLinkFor: [] },
  "./routes/teach/sessions/[id].tsx": {
    path: (w) => `/teach/sessions/${w.booked.id}`,
    target: "session",
    joinLinkFor: [],
  },
  "./routes/teach/sessions/[id]/roster.ts": {
    path: (w) => `/teach/sessions/${w.booked.id}/roster`,
    target: "session",
    joinLinkFor: [],
  },
  "./routes/sessions/[id]/join.tsx": { path: (w) => `/sessions/${w.booked.id}/join`, target: "place", joinLinkFor: [] },
  "./routes/sessions/[id]/recording.tsx": {
    path: (w) => `/sessions/${w.booked.id}/recording`,
    target: "place",
    joinLinkFor: [],
  },
  "./routes/sessions/[id]/check-in.tsx": {
    path: (w) => `/sessions/${w.booked.id}/check-in`,
    target: "none",
    joinLinkFor: [],
  },
  "./routes/admin/reports.tsx": {
    path: (w) => `/admin/reports?dealerId=${w.dealerId}`,
    target: "dealer",
    joinLinkFor: [],
  },
  "./routes/admin/reports.csv.ts": {
    path: (w) => `/admin/reports.csv?section=funnel&dealerId=${w.dealerId}`,
    target: "dealer",
    joinLinkFor: [],
  },
  "./routes/dealer/reports.tsx": {
    path: (w) => `/dealer/reports?dealerId=${w.dealerId}`,
    target: "dealer",
    joinLinkFor: [],
  },
  "./routes/dealer/reports.csv.ts": {
    path: (w) => `/dealer/reports.csv?section=funnel&dealerId=${w.dealerId}`,
    target: "dealer",
    joinLinkFor: [],
  },
  "./routes/me/notifications.tsx": { path: () => "/me/notifications", target: "none", joinLinkFor: [] },
  "./routes/admin/notifications.tsx": { path: () => "/admin/notifications", target: "none", joinLinkFor: [] },
  "./routes/admin/dead-letters.tsx": { path: () => "/admin/dead-letters", target: "none", joinLinkFor: [] },
  "./routes/notifications/unsubscribe.tsx": {
    path: () => "/notifications/unsubscribe?t=x.y.z",
    target: "none",
    joinLinkFor: [],
  },
  "./routes/admin/index.tsx": { path: () => "/admin", target: "none", joinLinkFor: [] },
  "./routes/admin/audit.tsx": { path: (w) => `/admin/audit?session=${w.booked.id}`, target: "none", joinLinkFor: [] },
  "./routes/dealer/index.tsx": { path: () => "/dealer", target: "dealer", joinLinkFor: [] },
  "./routes/admin/sessions/index.tsx": { path: () => "/admin/sessions", target: "none", joinLinkFor: [] },
  "./routes/admin/sessions/new.tsx": { path: () => "/admin/sessions/new", target: "none", joinLinkFor: [] },
  "./routes/dealer/people/[id].tsx": { path: (w) => `/dealer/people/${w.ownerId}`, target: "dealer", joinLinkFor: [] },
  "./routes/admin/courses/index.tsx": { path: () => "/admin/courses", target: "none", joinLinkFor: [] },
  "./routes/admin/courses/[id].tsx": { path: (w) => `/admin/courses/${w.courseId}`, target: "none", joinLinkFor: [] },
  "./routes/admin/rules.tsx": { path: () => "/admin/rules", target: "none", joinLinkFor: [] },
  "./routes/admin/people/index.tsx": { path: () => "/admin/people?q=matrix", target: "none", joinLinkFor: [] },
  "./routes/admin/people/[id].tsx": { path: (w) => `/admin/people/${w.ownerId}`, target: "none", joinLinkFor: [] },
  "./routes/admin/locations/index.tsx": { path: () => "/admin/locations", target: "none", joinLinkFor: [] },
  "./routes/admin/locations/[id].tsx": {
    path: (w) => `/admin/locations/${w.locationId}`,
    target: "none",
    joinLinkFor: [],
  },
  "./routes/admin/sessions/[id].tsx": {
    path: (w) => `/admin/sessions/${w.booked.id}`,
    target: "none",
    joinLinkFor: ["admin"],
  },
};

/** Whether `caller`, let in by the rule with `reach`, may act on `target` (the owner's place or session). */
function reaches(caller: Caller, reach: Reach, target: Target): boolean {
  if (target === "none" || reach === "any") return true;
  if (target === "place") return caller === "owner" || (reach === "own_sessions" && caller === "instructor_own");
  if (target === "team") return reach === "own_team" && caller === "manager";
  if (target === "dealer") return reach === "own_dealer" && caller === "dealer_admin";
  return reach === "own_sessions" && caller === "instructor_own";
}

/** Who may see the owner's personal data in a response about `target`. */
function privileged(target: Target): readonly Caller[] {
  if (target === "team") return [...PRIVILEGED, "manager"];
  if (target === "dealer") return [...PRIVILEGED, "dealer_admin"];
  return PRIVILEGED;
}

/** The audience that lets `caller` in, and how far (the widest reach among its audiences). */
function reachOf(access: Access, caller: Caller): Reach | null {
  const rule = toRule(access);
  const roles = ROLES[caller];
  const audiences = roles === null ? ["anonymous" as const] : ["learner" as const, ...roles];
  const order: Reach[] = ["any", "own_sessions", "own_team", "own_dealer", "own", "sign_in_prompt"];
  const found = audiences.map((a) => rule[a]).filter((r): r is Reach => !!r);
  return order.find((r) => found.includes(r)) ?? null;
}

type Expect = "allowed" | "unauthenticated" | "forbidden";

function expected(access: Access, caller: Caller, target: Target): Expect {
  const decision = decide(access, ROLES[caller]);
  if (decision !== "allow") return decision === "unauthenticated" ? "unauthenticated" : "forbidden";
  return reaches(caller, reachOf(access, caller)!, target) ? "allowed" : "forbidden";
}

/** A fresh cast (each with their own limits: the owner's holds do not pile up across operations). */
async function cast(f: ApiFixture): Promise<Record<Caller, Person>> {
  const n = ++generation;
  const out = {} as Record<Caller, Person>;
  const dealerId = (await listDealers(f.services.kv))[0].id;
  // The owner's manager and dealer admin first: the owner is in their team and dealer.
  const order: Caller[] = [
    "manager",
    "dealer_admin",
    ...CALLERS.filter((c) => c !== "manager" && c !== "dealer_admin"),
  ];
  for (const caller of order) {
    const roles = ROLES[caller];
    if (!roles) {
      out[caller] = { email: null, user: null, token: null, cookie: null };
      continue;
    }
    const email = `${caller}-${MARK}-${n}@example.com`;
    const links = caller === "owner"
      ? { managerId: out.manager.user!.id, dealerId }
      : caller === "dealer_admin"
      ? { dealerId }
      : {};
    const user = await createUser(f.services.kv, { email, name: `Matrix ${caller} ${n}`, roles, ...links });
    const { token } = await mintToken(f.services.kv, user.id);
    out[caller] = { email, user, token, cookie: await signInCookie(f.services, user.id) };
  }
  return out;
}

async function call(f: ApiFixture, who: Person, sample: Pick<Sample, "method" | "path" | "body">) {
  const headers = new Headers({ origin: "http://localhost" });
  if (who.token) headers.set("authorization", `Bearer ${who.token}`);
  if (sample.body !== undefined) headers.set("content-type", "application/json");
  const res = await f.app.request(`http://localhost${sample.path}`, {
    method: sample.method,
    headers,
    body: sample.body === undefined ? undefined : JSON.stringify(sample.body),
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

async function page(f: ApiFixture, who: Person, path: string) {
  const headers = new Headers();
  if (who.cookie) headers.set("cookie", who.cookie);
  const res = await f.app.request(`http://localhost${path}`, { headers, redirect: "manual" });
  const stream = (res.headers.get("content-type") ?? "").includes("event-stream");
  // The seat stream never ends: its status and headers are enough.
  const text = stream ? "" : await res.text();
  if (stream) await res.body?.cancel();
  return { status: res.status, text, headers: res.headers };
}

async function makeWorld(f: ApiFixture, people: Record<Caller, Person>): Promise<World> {
  const kv = f.services.kv;
  const course = await f.courseWithoutPrerequisites();
  const location = await f.location();
  const mk = async (days: number, capacity: number, online: boolean) => {
    const start = Date.now() + days * 86_400_000;
    return await createSession(kv, {
      courseId: course.id,
      startsAt: new Date(start).toISOString(),
      endsAt: new Date(start + 2 * 3_600_000).toISOString(),
      timeZone: location.timeZone,
      mode: online ? "online" : "in_person",
      locationId: online ? null : location.id,
      joinUrl: online ? JOIN_URL : null,
      capacity,
      instructorId: people.instructor_own.user!.id,
      waitlistEnabled: true,
    });
  };
  const [booked, held, full, spare] = [
    await mk(5, 5, true),
    await mk(6, 5, true),
    await mk(7, 1, true),
    await mk(8, 5, false),
  ];
  const owner = people.owner;
  const hold1 = await call(f, owner, { method: "POST", path: "/api/v1/holds", body: { sessionId: booked.id } });
  const holdId1 = JSON.parse(hold1.text).hold.id;
  const booking = await call(f, owner, { method: "POST", path: "/api/v1/bookings", body: { holdId: holdId1 } });
  assert.equal(booking.status, 201, booking.text);
  // Another session of the course the owner is booked on: confirmed, as the duplicate warning asks.
  const hold2 = await call(f, owner, {
    method: "POST",
    path: "/api/v1/holds",
    body: { sessionId: held.id, confirmDuplicate: true },
  });
  assert.equal(hold2.status, 201, hold2.text);
  // The full session's one seat goes to the other learner; the owner waits.
  const other = await call(f, people.learner, { method: "POST", path: "/api/v1/holds", body: { sessionId: full.id } });
  assert.equal(other.status, 201, other.text);
  const wait = await call(f, owner, { method: "POST", path: "/api/v1/waitlist", body: { sessionId: full.id } });
  assert.equal(wait.status, 201, wait.text);
  return {
    booked,
    bookingId: JSON.parse(booking.text).booking.id,
    held,
    holdId: JSON.parse(hold2.text).hold.id,
    full,
    spare,
    locationId: location.id,
    dealerId: people.owner.user!.dealerId!,
    ownerId: people.owner.user!.id,
    courseId: (await createCourse(kv, matrixCourse())).id,
  };
}

function assertOutcome(what: string, exp: Expect, res: { status: number; headers: Headers }, pageMode: boolean) {
  if (exp === "allowed") {
    assert.ok(![401, 403].includes(res.status), `${what}: allowed, got ${res.status}`);
    if (pageMode) {
      assert.ok(
        !(res.status === 303 && (res.headers.get("location") ?? "").startsWith("/dev/sign-in")),
        `${what}: allowed, but sent to sign in`,
      );
    }
  } else if (exp === "unauthenticated") {
    const toSignIn = res.status === 303 && (res.headers.get("location") ?? "").startsWith("/dev/sign-in");
    assert.ok(res.status === 401 || (pageMode && toSignIn), `${what}: expected 401 or sign-in, got ${res.status}`);
  } else {
    // Pages answer someone else's place as missing (404): no hint that it exists.
    const ok = res.status === 403 || (pageMode && res.status === 404);
    assert.ok(ok, `${what}: expected 403, got ${res.status}`);
  }
}

function assertNoPersonalData(what: string, caller: Caller, text: string, ownerEmail: string, target: Target) {
  if (privileged(target).includes(caller)) return;
  assert.ok(!text.includes(JOIN_URL), `${what}: the join link leaked to ${caller}`);
  assert.ok(!text.includes(ownerEmail), `${what}: the owner's email leaked to ${caller}`);
}

Deno.test("[access] every operation and page declares who may use it, and the walk covers each", () => {
  const ops = API_OPERATIONS.map((op) => op.operationId);
  assert.deepEqual(ops.filter((id) => !OPERATION_SAMPLES[id]), [], "operations missing from the walk");
  assert.deepEqual(Object.keys(OPERATION_SAMPLES).filter((id) => !ops.includes(id)), [], "samples of no operation");
  for (const op of API_OPERATIONS) assert.ok(op.access !== undefined, `${op.operationId} declares no access`);
  const pages = Object.keys(manifest.routes).filter((k) => !isSpecialRoute(k));
  assert.deepEqual(pages.filter((k) => !PAGE_SAMPLES[k]), [], "pages missing from the walk");
  for (const key of pages) {
    const access = (manifest.routes as Record<string, { access?: unknown }>)[key].access;
    assert.ok(access !== undefined, `${key} declares no access`);
  }
  assert.equal(AUDIENCES.length, 6);
});

Deno.test("[access] the API matrix: every operation as every role; no personal data to those without the right", async () => {
  const f = await startApiFixture();
  try {
    let checked = 0;
    for (const op of API_OPERATIONS) {
      const people = await cast(f);
      const world = await makeWorld(f, people);
      const sample = OPERATION_SAMPLES[op.operationId](world, people);
      assert.equal(sample.method, op.method.toUpperCase(), `${op.operationId}: sample method`);
      const plan = CALLERS.map((c) => ({ caller: c, exp: expected(op.access, c, sample.target) }));
      // Refusals first: an allowed write must not change what a refusal is about.
      plan.sort((a, b) => Number(a.exp === "allowed") - Number(b.exp === "allowed"));
      for (const { caller, exp } of plan) {
        const what = `${sample.method} ${sample.path} as ${caller}`;
        const res = await call(f, people[caller], sample);
        assertOutcome(what, exp, res, false);
        assertNoPersonalData(what, caller, res.text, people.owner.email!, sample.target);
        if (op.operationId === "listTeamBookings" || op.operationId === "listDealerBookings") {
          assert.equal(res.text.includes(people.owner.email!), exp === "allowed", `${what}: the owner is in the team`);
        }
        if (op.operationId === "listSessions") {
          assert.ok(!res.text.includes(JOIN_URL), `${what}: lists never show join links`);
        }
        if (op.operationId === "getSession") {
          assert.equal(
            res.text.includes(JOIN_URL),
            PRIVILEGED.includes(caller),
            `${what}: join link only for the booked and staff`,
          );
        }
        checked++;
      }
    }
    assert.equal(checked, API_OPERATIONS.length * CALLERS.length);
  } finally {
    await f.close();
  }
});

Deno.test("[access] the page matrix: every page as every role; join links only where the matrix allows", async () => {
  const f = await startApiFixture();
  try {
    const people = await cast(f);
    const world = await makeWorld(f, people);
    let checked = 0;
    for (const [key, sample] of Object.entries(PAGE_SAMPLES)) {
      const access = (manifest.routes as Record<string, { access?: Access }>)[key].access!;
      const path = sample.path(world);
      for (const caller of CALLERS) {
        const what = `GET ${path} as ${caller}`;
        const res = await page(f, people[caller], path);
        assertOutcome(what, expected(access, caller, sample.target), res, true);
        assertNoPersonalData(what, caller, res.text, people.owner.email!, sample.target);
        assert.equal(
          res.text.includes(JOIN_URL),
          sample.joinLinkFor.includes(caller),
          `${what}: join link shown ${res.text.includes(JOIN_URL)}`,
        );
        checked++;
      }
    }
    assert.equal(checked, Object.keys(PAGE_SAMPLES).length * CALLERS.length);
  } finally {
    await f.close();
  }
});
