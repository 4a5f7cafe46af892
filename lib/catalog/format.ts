/** Formatting of session times and places for people, always in an explicit IANA time zone. */

const dateFormats = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${timeZone}|${JSON.stringify(options)}`;
  let f = dateFormats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone, ...options });
    dateFormats.set(key, f);
  }
  return f;
}

/** "Tue, Dec 1" in the given zone. */
export function formatDay(iso: string, timeZone: string): string {
  return formatter(timeZone, { weekday: "short", month: "short", day: "numeric" }).format(new Date(iso));
}

/** "9:00 AM" in the given zone. */
export function formatTime(iso: string, timeZone: string): string {
  return formatter(timeZone, { hour: "numeric", minute: "2-digit" }).format(new Date(iso));
}

/** Short zone name such as "EST" or "MST" at that instant. */
export function formatZone(iso: string, timeZone: string): string {
  const part = formatter(timeZone, { timeZoneName: "short" }).formatToParts(new Date(iso))
    .find((p) => p.type === "timeZoneName");
  return part?.value ?? timeZone;
}

/** "Tue, Dec 1 · 9:00 AM – 12:00 PM EST": a session's time in its own zone. */
export function formatSessionWhen(startsAt: string, endsAt: string, timeZone: string): string {
  return `${formatDay(startsAt, timeZone)} · ${formatTime(startsAt, timeZone)} – ${formatTime(endsAt, timeZone)} ${
    formatZone(startsAt, timeZone)
  }`;
}

/** The calendar date (YYYY-MM-DD) of an instant in a zone. */
export function localDate(iso: string | Date, timeZone: string): string {
  const d = typeof iso === "string" ? new Date(iso) : iso;
  return formatter(timeZone, { year: "numeric", month: "2-digit", day: "2-digit" }).format(d)
    .replace(/(\d+)\/(\d+)\/(\d+)/, "$3-$1-$2");
}

/** "1 h 30 min" from minutes. */
export function formatDuration(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h && m) return `${h} h ${m} min`;
  return h ? `${h} h` : `${m} min`;
}
