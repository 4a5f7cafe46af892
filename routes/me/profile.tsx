import { sameOrigin, signInHref } from "../../components/Journey.tsx";
import { type AccessRule, SELF } from "../../lib/access/matrix.ts";
import type { PageState } from "../../lib/auth/page_user.ts";
import { DAY_PARTS, type DayPart, type Location } from "../../lib/domain/mod.ts";
import { ValidationError } from "../../lib/domain/validation.ts";
import { type Handlers, Head, type PageProps } from "../../lib/fresh/mod.ts";
import { services } from "../../lib/services.ts";
import { listLocations } from "../../lib/store/locations.ts";
import { type Profile, profileOf, updateProfile } from "../../lib/store/profile.ts";

const HERE = "/me/profile";

/** Signed-in people, for their own preferences; anonymous visitors are asked to sign in. */
export const access: AccessRule = { anonymous: "sign_in_prompt", ...SELF };

const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const DAY_PART_LABELS: Record<DayPart, string> = {
  morning: "Mornings (before 12:00)",
  afternoon: "Afternoons (12:00 to 17:00)",
  evening: "Evenings (from 17:00)",
};

/** Which field a problem belongs to. */
type Field = "location" | "weekdays" | "dayParts";

interface Data {
  locations: Location[];
  /** What the form shows: the saved profile, or what was just sent when it was refused. */
  form: { location: string; weekdays: number[]; dayParts: string[] };
  errors: Partial<Record<Field, string>>;
  saved: boolean;
}

function fieldOf(path: string): Field {
  if (path.startsWith("preferredTimes.weekdays")) return "weekdays";
  if (path.startsWith("preferredTimes.dayParts")) return "dayParts";
  return "location";
}

function formOf(p: Profile): Data["form"] {
  return {
    location: p.preferredLocationId ?? "",
    weekdays: p.preferredTimes.weekdays,
    dayParts: p.preferredTimes.dayParts,
  };
}

/** Your preferences: where and when you like to train (used to rank suggested sessions). */
export const handler: Handlers<Data | null, PageState> = {
  async GET(req, ctx) {
    const user = ctx.state.user;
    if (!user) return ctx.render(null);
    const locations = await listLocations(services().kv);
    const saved = new URL(req.url).searchParams.get("saved") === "1";
    return ctx.render({ locations, form: formOf(profileOf(user)), errors: {}, saved });
  },
  async POST(req, ctx) {
    const user = ctx.state.user;
    if (!sameOrigin(req, ctx.url)) return new Response("Cross-site form refused.", { status: 403 });
    if (!user) return new Response(null, { status: 303, headers: { location: signInHref(HERE) } });
    const body = await req.formData().catch(() => new FormData());
    const form = {
      location: String(body.get("location") ?? ""),
      weekdays: body.getAll("weekday").map((v) => Number(v)),
      dayParts: body.getAll("dayPart").map(String),
    };
    try {
      await updateProfile(services().kv, user.id, {
        preferredLocationId: form.location || null,
        preferredTimes: { weekdays: form.weekdays, dayParts: form.dayParts },
      });
      return new Response(null, { status: 303, headers: { location: `${HERE}?saved=1` } });
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const errors: Data["errors"] = {};
      for (const issue of err.issues) errors[fieldOf(issue.path)] ??= sentence(fieldOf(issue.path));
      const locations = await listLocations(services().kv);
      return ctx.render({ locations, form, errors, saved: false }, { status: 400 });
    }
  },
};

function sentence(field: Field): string {
  if (field === "location") return "Choose a location from the list (that one is not one of our training centers).";
  if (field === "weekdays") return "Choose days from the list, each at most once.";
  return "Choose times of day from the list, each at most once.";
}

function Problem({ id, text }: { id: string; text?: string }) {
  return text ? <p id={id} class="text-sm font-semibold text-red-800">{text}</p> : null;
}

export default function ProfilePage({ data }: PageProps<Data | null, PageState>) {
  return (
    <>
      <Head>
        <title>Your preferences · Training sessions</title>
      </Head>
      <h1 class="mb-3 text-2xl font-bold leading-tight">Your preferences</h1>
      {!data
        ? (
          <p class="text-base">
            <a href={signInHref(HERE)} class="font-semibold text-blue-800 underline">Sign in to set your preferences</a>
          </p>
        )
        : <ProfileForm data={data} />}
    </>
  );
}

function ProfileForm({ data }: { data: Data }) {
  const { form, errors } = data;
  const anyError = Object.keys(errors).length > 0;
  return (
    <div class="space-y-4 text-base">
      <p>
        When a session is full we suggest others: nearer to your location and sooner first. Your preferred days and
        times count a little too, never more than a few days' difference.
      </p>
      {data.saved && <p role="status" class="rounded-lg border-2 border-green-700 p-3 font-semibold">Saved.</p>}
      {anyError && (
        <p role="alert" class="rounded-lg border-2 border-red-700 p-3 font-semibold">
          Nothing was saved: please fix the marked fields.
        </p>
      )}
      <form method="post" action={HERE} class="space-y-5" data-testid="profile-form">
        <div class="space-y-1">
          <label for="location" class="block font-semibold">Preferred training location</label>
          <select
            id="location"
            name="location"
            class="w-full rounded-lg border border-gray-600 bg-white px-3 py-3"
            aria-invalid={errors.location ? "true" : undefined}
            aria-describedby={errors.location ? "location-problem" : undefined}
          >
            <option value="" selected={!form.location}>No preference (the session's own location)</option>
            {data.locations.map((l) => (
              <option key={l.id} value={l.id} selected={form.location === l.id}>
                {l.name} ({l.address.city}, {l.address.region})
              </option>
            ))}
            {form.location && !data.locations.some((l) => l.id === form.location) && (
              <option value={form.location} selected>Unknown location</option>
            )}
          </select>
          <Problem id="location-problem" text={errors.location} />
        </div>
        <fieldset
          class="space-y-1"
          aria-describedby={errors.weekdays ? "weekdays-problem" : undefined}
        >
          <legend class="font-semibold">Days that suit you</legend>
          <Problem id="weekdays-problem" text={errors.weekdays} />
          <div class="grid grid-cols-2 gap-1">
            {WEEKDAYS.map((name, i) => (
              <label key={name} class="flex min-h-11 items-center gap-2">
                <input
                  type="checkbox"
                  name="weekday"
                  value={i + 1}
                  checked={form.weekdays.includes(i + 1)}
                  class="h-5 w-5"
                />
                {name}
              </label>
            ))}
          </div>
        </fieldset>
        <fieldset
          class="space-y-1"
          aria-describedby={errors.dayParts ? "dayparts-problem" : undefined}
        >
          <legend class="font-semibold">Times of day that suit you</legend>
          <Problem id="dayparts-problem" text={errors.dayParts} />
          {DAY_PARTS.map((p) => (
            <label key={p} class="flex min-h-11 items-center gap-2">
              <input type="checkbox" name="dayPart" value={p} checked={form.dayParts.includes(p)} class="h-5 w-5" />
              {DAY_PART_LABELS[p]}
            </label>
          ))}
        </fieldset>
        <button type="submit" class="w-full rounded-lg bg-blue-800 px-4 py-3 font-semibold text-white">
          Save preferences
        </button>
      </form>
    </div>
  );
}
