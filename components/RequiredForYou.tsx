/**
 * A learner's required training and certifications, for their home page and My schedule:
 * "Required for you by 14 Jan: 3 sessions near you", each session linked, and certification
 * expiry dates. Server-rendered from the live state plus the scan's stored recommendations.
 */
import { formatDate } from "../lib/compliance/dates.ts";
import { getPersonCompliance, type PersonCompliance } from "../lib/compliance/service.ts";
import { STATE_LABELS } from "../lib/compliance/state.ts";
import { formatSessionWhen } from "../lib/catalog/format.ts";
import type { User } from "../lib/domain/mod.ts";
import { services } from "../lib/services.ts";
import { getCoursesByIds, getSessions } from "../lib/store/mod.ts";

/** What the block shows. */
export interface RequiredData {
  compliance: PersonCompliance;
  titles: Record<string, string>;
  when: Record<string, string>;
  /** The person has a preferred location (sessions are "near you"). */
  located: boolean;
}

/** Loads the block for a signed-in person; null when they have no required training and no certification. */
export async function loadRequiredForYou(user: User): Promise<RequiredData | null> {
  const { kv, engine, config } = services();
  const compliance = await getPersonCompliance(kv, user, engine.now(), config.compliance);
  if (!compliance.cells.length && !compliance.certifications.length) return null;
  const courseIds = [...compliance.cells.map((c) => c.courseId), ...compliance.certifications.map((c) => c.courseId)];
  const sessionIds = (compliance.gaps ?? []).flatMap((g) => g.sessions.map((s) => s.sessionId));
  const [courses, sessions] = await Promise.all([getCoursesByIds(kv, courseIds), getSessions(kv, sessionIds)]);
  const titles: Record<string, string> = {};
  for (const c of courses.values()) titles[c.id] = c.title;
  const when: Record<string, string> = {};
  for (const s of sessions.values()) when[s.id] = formatSessionWhen(s.startsAt, s.endsAt, s.timeZone);
  return { compliance, titles, when, located: !!user.preferredLocationId };
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** The headline of one gap: "Required for you by 14 Jan: 3 sessions near you". */
export function gapHeadline(dueOn: string | null, sessions: number, located: boolean): string {
  const by = dueOn ? ` by ${formatDate(dueOn, false)}` : "";
  const what = sessions
    ? `${plural(sessions, "session", "sessions")}${located ? " near you" : " open"}`
    : "no open session right now";
  return `Required for you${by}: ${what}`;
}

/** The block. */
export function RequiredForYou({ data, headingLevel = 2 }: { data: RequiredData; headingLevel?: 2 | 3 }) {
  const { compliance, titles, when, located } = data;
  const H = `h${headingLevel}` as "h2";
  const gaps = compliance.gaps ?? [];
  const certs = compliance.certifications.filter((c) => c.status !== "valid" || c.daysLeft <= 90);
  const booked = compliance.cells.filter((c) => c.state === "booked");
  return (
    <section aria-labelledby="required-for-you" class="space-y-3 rounded-xl border border-blue-200 bg-blue-50 p-4">
      <H id="required-for-you" class="text-lg font-bold">Your required training</H>
      {gaps.length === 0 && booked.length === 0 && (
        <p class="text-sm">All your required training is done{certs.length ? "; see the dates below" : ""}.</p>
      )}
      <ul class="space-y-3">
        {gaps.map((g) => (
          <li key={g.courseId} data-testid="required-gap">
            <p class="text-base font-semibold">
              {gapHeadline(g.dueOn, g.sessions.length, located)}
            </p>
            <p class="text-sm">
              {titles[g.courseId] ?? "A required course"} · {STATE_LABELS[g.state]}
              {g.missingPrerequisites.length > 0 &&
                ` · first: ${g.missingPrerequisites.map((id) => titles[id] ?? "a prerequisite").join(", ")}`}
            </p>
            <ul class="mt-1 space-y-1">
              {g.sessions.map((s) => (
                <li key={s.sessionId} class="text-sm">
                  <a href={`/sessions/${s.sessionId}`} class="font-semibold text-blue-800 underline">
                    {when[s.sessionId] ?? s.startsAt}
                  </a>{" "}
                  ({s.reasons.join(" · ")}
                  {s.late ? " · after the due date" : ""})
                </li>
              ))}
            </ul>
          </li>
        ))}
        {booked.map((c) => (
          <li key={c.courseId} class="text-sm">
            {titles[c.courseId] ?? "A required course"}: booked for{" "}
            {c.seat ? formatDate(c.seat.startsAt.slice(0, 10), false) : "an upcoming date"}
            {c.seat?.late ? " (after the due date)" : ""}.
          </li>
        ))}
      </ul>
      {certs.length > 0 && (
        <ul class="space-y-1" aria-label="Certifications">
          {certs.map((c) => (
            <li key={c.courseId} class="text-sm" data-testid="certification">
              {titles[c.courseId] ?? "Certification"}:{" "}
              {c.status === "expired"
                ? `expired on ${formatDate(c.expiresOn)}`
                : `expires on ${formatDate(c.expiresOn)}`}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
