/** Server-side pieces of the learner's journey (hold → book): actors, form checks, error sentences, alternatives. */
import type { User } from "../lib/domain/user.ts";
import type { Actor } from "../lib/booking/events.ts";
import { DomainError } from "../lib/booking/errors.ts";
import type { Alternative } from "../lib/booking/alternatives.ts";
import { hashRequest, type IdempotencyRequest } from "../lib/booking/idempotency.ts";
import { formatSessionWhen } from "../lib/catalog/format.ts";

/** The web actor for a signed-in learner. */
export function webActor(user: User, reason: string): Actor {
  return { userId: user.id, roles: user.roles, origin: "web", correlationId: crypto.randomUUID(), reason };
}

/** A fresh idempotency key for one form on one page view. */
export function newFormKey(): string {
  return crypto.randomUUID();
}

/** False for a cross-site form post (the Origin header names another site). */
export function sameOrigin(req: Request, url: URL): boolean {
  const origin = req.headers.get("origin");
  return !origin || origin === url.origin;
}

/** The idempotency request of a page form: scoped to the user, keyed by the form's hidden key. */
export async function formIdempotency(
  user: User,
  key: string,
  parts: string[],
): Promise<IdempotencyRequest | undefined> {
  const k = key.trim();
  if (!/^[\w-]{8,100}$/.test(k)) return undefined;
  return { scope: user.id, key: `web:${k}`, bodyHash: await hashRequest(parts) };
}

/** Sign-in link back to `next` (the dev sign-in page; it forwards to single sign-on when that is the only way in). */
export function signInHref(next: string): string {
  return `/dev/sign-in?next=${encodeURIComponent(next)}`;
}

/** A refusal turned into a sentence for the page, never a raw code. */
export function problemSentence(err: DomainError): string {
  switch (err.code) {
    case "session_full":
      return "Sorry, the last seat was just taken. These similar sessions still have seats:";
    case "hold_expired":
      return "Your hold expired and the seat was released. These similar sessions still have seats:";
    case "hold_released":
      return "You released this hold, so the seat is no longer yours.";
    case "hold_already_confirmed":
      return "This seat is already booked for you.";
    case "too_many_holds":
      return "You already hold 3 seats. Book or release one of them before holding another.";
    case "place_taken":
    case "already_booked":
    case "already_holding":
    case "offer_pending":
    case "already_waitlisted":
      return err.message;
    case "duplicate_course":
      return (err.details as { reason?: string } | undefined)?.reason === "completed"
        ? "You have already completed this course."
        : "You are already booked on another session of this course.";
    case "session_cancelled":
      return "This session was cancelled, so it can no longer be booked.";
    case "session_started":
      return "This session has already started, so it can no longer be booked.";
    case "waitlist_closed":
      return "This session has no waitlist.";
    case "seats_available":
      return "A seat is free again: hold it instead of waiting.";
    case "idempotency_key_reused":
      return "That form was already used for something else. Please try again.";
    default:
      return err.message || "Something went wrong. Please try again.";
  }
}

/** Domain errors are page outcomes; anything else is a bug (rethrown). */
export function asDomainError(err: unknown): DomainError {
  if (err instanceof DomainError) return err;
  throw err;
}

/** The alternatives of a full session (or an expired hold), if the error carries them. */
export function alternativesOf(err: DomainError): { alternatives: Alternative[]; waitlistOpen: boolean } {
  const d = (err.details ?? {}) as { alternatives?: Alternative[]; waitlistOpen?: boolean };
  return { alternatives: (d.alternatives ?? []).slice(0, 3), waitlistOpen: !!d.waitlistOpen };
}

const button = "block w-full rounded-lg bg-blue-800 px-4 py-3 text-center text-base font-semibold text-white";

/** One POST button (works without JavaScript) carrying an action and a hidden idempotency key. */
export function ActionForm(
  { action, intent, formKey, label, secondary, hidden }: {
    action: string;
    intent: string;
    formKey?: string;
    label: string;
    secondary?: boolean;
    /** More hidden fields (name → value). */
    hidden?: Record<string, string>;
  },
) {
  return (
    <form method="post" action={action}>
      <input type="hidden" name="intent" value={intent} />
      {formKey && <input type="hidden" name="key" value={formKey} />}
      {Object.entries(hidden ?? {}).map(([name, value]) => (
        <input
          key={name}
          type="hidden"
          name={name}
          value={value}
        />
      ))}
      <button
        type="submit"
        class={secondary
          ? "block w-full rounded-lg border border-gray-600 bg-white px-4 py-3 text-center text-base font-semibold text-gray-900"
          : button}
      >
        {label}
      </button>
    </form>
  );
}

/** A link styled as the primary button. */
export function ButtonLink({ href, label }: { href: string; label: string }) {
  return <a href={href} class={button}>{label}</a>;
}

/** Up to three other sessions, side by side on wide screens, each with its own one-tap hold form. */
export function AlternativesList(
  { alternatives, keys, alternativeOf }: { alternatives: Alternative[]; keys: string[]; alternativeOf?: string },
) {
  if (!alternatives.length) {
    return <p class="text-sm text-gray-800">No similar session has seats right now.</p>;
  }
  return (
    <ul aria-label="Other sessions with seats" class="grid gap-3 sm:grid-cols-3">
      {alternatives.map((a, i) => (
        <li key={a.sessionId} class="space-y-2 rounded-xl border border-gray-300 p-3" data-testid="alternative">
          <p class="font-semibold">
            <a href={`/sessions/${a.sessionId}`} class="text-blue-800 underline">
              {formatSessionWhen(a.startsAt, a.endsAt, a.timeZone)}
            </a>
          </p>
          {a.courseTitle && a.reasons?.[0] !== "same course" && <p class="text-sm font-semibold">{a.courseTitle}</p>}
          <p class="text-sm">{a.locationName ?? "Online"}</p>
          <p class="text-sm">{a.seatsLeft} {a.seatsLeft === 1 ? "seat" : "seats"} left</p>
          <p class="text-sm text-gray-800" data-testid="alternative-reason">{a.reason}</p>
          <ActionForm
            action={`/sessions/${a.sessionId}`}
            intent="hold"
            formKey={keys[i]}
            label="Hold this seat"
            hidden={alternativeOf ? { alt: alternativeOf } : undefined}
          />
        </li>
      ))}
    </ul>
  );
}
