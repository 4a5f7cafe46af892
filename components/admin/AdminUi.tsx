/** Shared pieces of the staff pages: form fields with their error sentence, notices, the audit list. */
import type { ComponentChildren } from "preact";
import type { AuditEntry } from "../../lib/admin/audit.ts";
import type { Actor } from "../../lib/booking/events.ts";
import type { User } from "../../lib/domain/user.ts";
import { When } from "./CalcomOps.tsx";

/** Classes of an input, select or textarea. */
export const inputClass = "mt-1 block w-full rounded-lg border border-gray-500 bg-white px-3 py-2 text-base " +
  "text-gray-900 focus:outline-none focus:ring-4 focus:ring-blue-600";
/** Classes of a primary button. */
export const buttonClass = "rounded-lg bg-blue-800 px-4 py-3 text-base font-semibold text-white " +
  "focus:outline-none focus-visible:ring-4 focus-visible:ring-blue-300";
/** Classes of a secondary button. */
export const secondaryClass = "rounded-lg border border-gray-600 bg-white px-4 py-3 text-base font-semibold " +
  "text-gray-900 focus:outline-none focus-visible:ring-4 focus-visible:ring-blue-300";
/** Classes of an inline link. */
export const linkClass = "font-semibold text-blue-800 underline";

/** Field errors of a form, by field name. */
export type FieldErrors = Record<string, string>;

/** A labelled control with its help text and its error sentence right under it. */
export function Field(
  { name, label, error, help, children }: {
    name: string;
    label: string;
    error?: string;
    help?: string;
    children: ComponentChildren;
  },
) {
  return (
    <div>
      <label for={name} class="block text-sm font-medium text-gray-800">{label}</label>
      {children}
      {help && <p id={`${name}-help`} class="mt-1 text-sm text-gray-700">{help}</p>}
      {error && (
        <p id={`${name}-error`} class="mt-1 text-sm font-semibold text-red-800" data-testid={`error-${name}`}>
          {error}
        </p>
      )}
    </div>
  );
}

/** `aria-describedby` and `aria-invalid` of a control with optional help and error. */
export function describedBy(name: string, errors: FieldErrors, help = false) {
  const ids = [help ? `${name}-help` : "", errors[name] ? `${name}-error` : ""].filter(Boolean).join(" ");
  return { "aria-describedby": ids || undefined, "aria-invalid": errors[name] ? ("true" as const) : undefined };
}

/** A success notice or a problem sentence at the top of a page. */
export function Notice({ notice, problem }: { notice?: string | null; problem?: string | null }) {
  return (
    <>
      {notice && <p role="status" class="rounded-lg bg-green-100 p-3 text-base" data-testid="notice">{notice}</p>}
      {problem && (
        <p role="alert" class="rounded-lg border-2 border-amber-700 p-3 text-base" data-testid="problem">{problem}</p>
      )}
    </>
  );
}

const EVENT_TEXT: Record<string, string> = {
  "session.scheduled": "Session scheduled",
  "session.updated": "Session changed",
  "session.cancelled": "Session cancelled",
  "hold.placed": "Seat held",
  "hold.released": "Hold released",
  "hold.expired": "Hold expired",
  "booking.confirmed": "Booked",
  "booking.cancelled": "Booking cancelled",
  "booking.rescheduled": "Booking moved",
  "waitlist.joined": "Joined the waitlist",
  "waitlist.offered": "Offered a seat from the waitlist",
  "waitlist.left": "Left the waitlist",
  "attendance.recorded": "Attendance recorded",
  "booking.imported": "Imported (booked before this system)",
};

/** What an event did, in words. */
export function eventText(type: string): string {
  return EVENT_TEXT[type] ?? type;
}

/** What a `session.updated` changed, e.g. "capacity 10 → 12". */
function changesText(data: Record<string, unknown>): string | null {
  const changes = data.changes as Record<string, { from: unknown; to: unknown }> | undefined;
  if (!changes) return null;
  return Object.entries(changes).map(([f, c]) => `${f} ${String(c.from)} → ${String(c.to)}`).join("; ");
}

/** The audit entries as a list (readable at 375 px): what, when, who, from where, why. */
export function AuditList(
  { entries, names }: { entries: AuditEntry[]; names: Record<string, string> },
) {
  if (!entries.length) return <p class="text-base" data-testid="audit-empty">Nothing found.</p>;
  const who = (id: string | null) => id ? names[id] ?? id : "the system";
  return (
    <ol class="space-y-3" data-testid="audit">
      {entries.map((e) => (
        <li key={e.key} class="rounded-xl border border-gray-200 p-3 text-base" data-type={e.type}>
          <p class="font-semibold">{eventText(e.type)}</p>
          <dl class="mt-1 grid grid-cols-3 gap-x-2 text-sm">
            <dt class="font-medium text-gray-700">When</dt>
            <dd class="col-span-2">
              <When at={e.occurredAt} />
            </dd>
            <dt class="font-medium text-gray-700">Who</dt>
            <dd class="col-span-2">{who(e.actor.userId)}</dd>
            <dt class="font-medium text-gray-700">From</dt>
            <dd class="col-span-2">{e.origin}</dd>
            {e.learnerId && (
              <>
                <dt class="font-medium text-gray-700">Learner</dt>
                <dd class="col-span-2">
                  <a class={linkClass} href={`/admin/audit?learner=${e.learnerId}`}>{who(e.learnerId)}</a>
                </dd>
              </>
            )}
            <dt class="font-medium text-gray-700">Session</dt>
            <dd class="col-span-2 min-w-0 break-all">
              <a class={linkClass} href={`/admin/sessions/${e.sessionId}`}>{e.sessionId}</a>
            </dd>
            {typeof e.data.bookingId === "string" && (
              <>
                <dt class="font-medium text-gray-700">Booking</dt>
                <dd class="col-span-2 min-w-0 break-all">
                  <a class={linkClass} href={`/bookings/${e.data.bookingId}`}>{e.data.bookingId}</a>
                </dd>
              </>
            )}
            {changesText(e.data) && (
              <>
                <dt class="font-medium text-gray-700">Changed</dt>
                <dd class="col-span-2 min-w-0 break-words">{changesText(e.data)}</dd>
              </>
            )}
            <dt class="font-medium text-gray-700">Why</dt>
            <dd class="col-span-2">{e.reason ?? "—"}</dd>
          </dl>
        </li>
      ))}
    </ol>
  );
}

/** The names of the people an audit list mentions (actors and learners), by id. */
export function peopleIdsOf(entries: AuditEntry[]): string[] {
  const ids = new Set<string>();
  for (const e of entries) {
    if (e.actor.userId) ids.add(e.actor.userId);
    if (e.learnerId) ids.add(e.learnerId);
  }
  return [...ids];
}

/** The actor of a change made on a staff page: the signed-in staff member, origin admin. */
export function staffActor(user: User, reason: string | null): Actor {
  return { userId: user.id, roles: user.roles, origin: "admin", correlationId: crypto.randomUUID(), reason };
}

/** A course filter: any course or one of `courses`. */
export function CourseSelect(
  { courses, value, errors }: {
    courses: { id: string; code: string; title: string }[];
    value: string;
    errors: FieldErrors;
  },
) {
  return (
    <Field name="course" label="Course" error={errors.course}>
      <select id="course" name="course" class={inputClass} {...describedBy("course", errors)}>
        <option value="">Any course</option>
        {courses.map((c) => <option key={c.id} value={c.id} selected={value === c.id}>{c.code} {c.title}</option>)}
      </select>
    </Field>
  );
}

/** `from` and `to` UTC date fields of a search form. */
export function DateRange({ from, to, errors }: { from: string; to: string; errors: FieldErrors }) {
  return (
    <div class="grid grid-cols-2 gap-3">
      <Field name="from" label="From (UTC date)" error={errors.from}>
        <input id="from" name="from" type="date" value={from} class={inputClass} {...describedBy("from", errors)} />
      </Field>
      <Field name="to" label="To (UTC date)" error={errors.to}>
        <input id="to" name="to" type="date" value={to} class={inputClass} {...describedBy("to", errors)} />
      </Field>
    </div>
  );
}

/** Classes of a checkbox. */
export const checkClass = "h-5 w-5 rounded border-gray-500 focus:outline-none focus:ring-4 focus:ring-blue-600";

/** A checkbox sent as "on" when ticked, with its label beside it. */
export function Checkbox({ name, label, checked }: { name: string; label: string; checked: boolean }) {
  return (
    <div class="flex items-center gap-2">
      <input id={name} name={name} type="checkbox" checked={checked} class={checkClass} />
      <label for={name} class="text-base font-medium">{label}</label>
    </div>
  );
}
