/**
 * Recordings: after a session its instructor or an admin adds a recording URL (or Cal.com's
 * RECORDING_READY brings it when Cal.com hosts the meeting). Booked learners see it; one who
 * watches at least {@link COMPLETION_SHARE} of it on our player page completes the course.
 *
 * Progress is measured in the browser (played time) and posted periodically. The server never
 * credits more than the wall-clock time since the previous accepted report (plus
 * {@link SLACK_SECONDS}), so a post cannot claim more than the real playing time: not by
 * fast-forwarding, a higher playback rate, or a forged body. The first report is measured from the
 * moment the player page was opened ({@link openRecording}).
 */
import type { Session } from "../domain/session.ts";
import type { User } from "../domain/user.ts";
import { assertMayManageSession } from "../booking/access.ts";
import { Draft } from "../booking/draft.ts";
import { DomainError, notFound } from "../booking/errors.ts";
import { type Actor, addEvent } from "../booking/events.ts";
import type { Booking, Place } from "../booking/model.ts";
import { keys } from "../store/keys.ts";
import { mergeCompletedCourses } from "../store/users.ts";
import { getValuesById } from "../store/batch.ts";

/** Share of the recording that completes the course: 90 %. */
export const COMPLETION_SHARE = 0.9;
/** Seconds of network and timer jitter tolerated per report. */
export const SLACK_SECONDS = 2;

/** `["recordings", sessionId]`. */
export interface Recording {
  sessionId: string;
  url: string;
  /** Length of the recording; the session's scheduled length when not given. */
  durationSeconds: number;
  addedAt: string;
  addedBy: string | null;
  source: "staff" | "calcom";
}

/** `["recording_views", sessionId, learnerId]`. */
export interface RecordingView {
  watchedSeconds: number;
  /** When the last report was accepted (or the page opened): the wall clock that caps the next one. */
  lastAt: string;
  completedAt: string | null;
}

/**
 * Adds (or replaces) a session's recording. Its staff only (403), once the session has ended
 * (409 `session_not_ended`); the system actor for Cal.com. 404 unknown session.
 */
export async function addRecording(
  kv: Deno.Kv,
  input: { sessionId: string; url: string; durationSeconds?: number },
  actor: Actor,
  now: Date,
): Promise<Recording> {
  const session = (await kv.get<Session>(keys.session(input.sessionId))).value;
  if (!session) throw notFound("session", input.sessionId);
  const calcom = actor.origin === "calcom" && actor.userId === null;
  if (!calcom) assertMayManageSession(actor, session);
  if (now.getTime() < Date.parse(session.endsAt)) {
    throw new DomainError(409, "session_not_ended", "A recording can be added once the session has ended.");
  }
  const scheduled = Math.round((Date.parse(session.endsAt) - Date.parse(session.startsAt)) / 1000);
  const recording: Recording = {
    sessionId: session.id,
    url: input.url,
    durationSeconds: input.durationSeconds ?? scheduled,
    addedAt: now.toISOString(),
    addedBy: actor.userId,
    source: calcom ? "calcom" : "staff",
  };
  await kv.set(keys.recording(session.id), recording);
  return recording;
}

/** The session's recording, or null. */
export async function getRecording(kv: Deno.Kv, sessionId: string): Promise<Recording | null> {
  return (await kv.get<Recording>(keys.recording(sessionId))).value;
}

/** 404 `no_recording` / 403 `not_booked` unless the learner is booked and there is a recording. */
async function loadForLearner(kv: Deno.Kv, sessionId: string, learnerId: string) {
  const [s, r, p] = await kv.getMany<[Session, Recording, Place]>([
    keys.session(sessionId),
    keys.recording(sessionId),
    keys.place(sessionId, learnerId),
  ]);
  if (!s.value) throw notFound("session", sessionId);
  if (!r.value) throw new DomainError(404, "no_recording", "This session has no recording yet.");
  const booking = p.value?.kind === "booking" ? (await kv.get<Booking>(keys.booking(p.value.id))).value : null;
  if (!booking || booking.status !== "confirmed") {
    throw new DomainError(403, "not_booked", "Recordings are for learners booked in the session.");
  }
  return { session: s.value, recording: r.value, booking };
}

/** The learner opens the player: the wall clock of their first report starts now. */
export async function openRecording(
  kv: Deno.Kv,
  sessionId: string,
  learnerId: string,
  now: Date,
): Promise<{ recording: Recording; view: RecordingView }> {
  const { recording } = await loadForLearner(kv, sessionId, learnerId);
  const key = keys.recordingView(sessionId, learnerId);
  const entry = await kv.get<RecordingView>(key);
  const view: RecordingView = { watchedSeconds: 0, completedAt: null, ...entry.value, lastAt: now.toISOString() };
  await kv.atomic().check(entry).set(key, view).commit();
  return { recording, view: (await kv.get<RecordingView>(key)).value ?? view };
}

/** What a progress report did. */
export interface ProgressResult {
  view: RecordingView;
  /** Seconds credited from this report (at most the wall-clock time since the last one). */
  credited: number;
  /** Share watched, 0–1. */
  share: number;
  /** True when this report completed the course. */
  completedNow: boolean;
}

/**
 * Credits `playedSeconds` of playing since the last report, capped by the wall clock; at
 * {@link COMPLETION_SHARE} of the recording the course is completed (once): `course.completed`
 * (via recording) and the course in the learner's completed courses, in the same atomic op.
 */
export async function reportProgress(
  kv: Deno.Kv,
  input: { sessionId: string; learnerId: string; playedSeconds: number },
  actor: Actor,
  now: Date,
): Promise<ProgressResult> {
  if (actor.userId !== input.learnerId) throw new DomainError(403, "forbidden", "Report your own viewing only.");
  for (let attempt = 0; attempt < 10; attempt++) {
    const { session, recording, booking } = await loadForLearner(kv, input.sessionId, input.learnerId);
    const draft = new Draft(kv);
    const viewKey = keys.recordingView(session.id, input.learnerId);
    await draft.load([viewKey, keys.user(input.learnerId)]);
    const before = draft.get<RecordingView>(viewKey);
    if (!before) throw new DomainError(409, "player_not_open", "Open the recording's player page first.");
    const allowed = Math.max(0, (now.getTime() - Date.parse(before.lastAt)) / 1000 + SLACK_SECONDS);
    const credited = Math.min(Math.max(0, input.playedSeconds), allowed);
    const watched = Math.min(recording.durationSeconds, before.watchedSeconds + credited);
    const share = recording.durationSeconds > 0 ? watched / recording.durationSeconds : 0;
    const completedNow = !before.completedAt && share >= COMPLETION_SHARE;
    const view: RecordingView = {
      watchedSeconds: watched,
      lastAt: now.toISOString(),
      completedAt: before.completedAt ?? (completedNow ? now.toISOString() : null),
    };
    draft.set(viewKey, view);
    if (completedNow) {
      const user = draft.get<User>(keys.user(input.learnerId));
      if (user && !user.erasedAt) {
        draft.set(keys.user(user.id), {
          ...user,
          completedCourses: mergeCompletedCourses(user, [{
            courseId: session.courseId,
            completedAt: now.toISOString(),
          }]),
        });
      }
      addEvent(draft, actor, "course.completed", session.id, input.learnerId, {
        bookingId: booking.id,
        registration: booking.registration,
        courseId: session.courseId,
        method: "recording",
        durationSeconds: Math.round(watched),
        via: "recording",
      }, now);
    }
    if (await draft.commit()) return { view, credited, share, completedNow };
    await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
  }
  throw new DomainError(503, "busy", "Please try again.");
}

/** Which of these sessions have a recording (for schedule and booking pages). */
export async function sessionsWithRecording(kv: Deno.Kv, sessionIds: readonly string[]): Promise<Set<string>> {
  const found = await getValuesById<Recording>(kv, sessionIds, keys.recording);
  return new Set(found.keys());
}
