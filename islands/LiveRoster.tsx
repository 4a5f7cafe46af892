import { useEffect, useState } from "preact/hooks";

type Mark = "present" | "late" | "absent" | "excused";

interface Row {
  learnerId: string;
  name: string;
  dealer: string | null;
  missingPrerequisites: string[];
  mark: Mark | null;
  status: string | null;
  checkInAt: string | null;
  checkOutAt: string | null;
  minutes: number | null;
  revision: number;
  outcome: string | null;
  online: { joinCount: number; minutes: number; inMeeting: boolean } | null;
  rsvp: string | null;
}

interface Snapshot {
  attendance: { state: "not_open" | "open" | "closed" };
  counts: Record<string, number>;
  rows: Row[];
}

interface Props {
  sessionId: string;
  timeZone: string;
  /** An online or hybrid session: show who is in the meeting. */
  online: boolean;
  /** The roster when the page was rendered: shown (with working forms) without JavaScript. */
  initial: Snapshot;
}

const MARKS: { value: Mark; label: string }[] = [
  { value: "present", label: "Present" },
  { value: "late", label: "Late" },
  { value: "absent", label: "Absent" },
  { value: "excused", label: "Excused" },
];

const OUTCOME: Record<string, string> = {
  completed: "Completed",
  attended: "Attended, not completed",
  no_show: "No-show",
  excused: "Excused",
};

function clock(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat("en-US", { timeZone, hour: "numeric", minute: "2-digit" }).format(new Date(iso));
}

function attendanceText(r: Row, timeZone: string): string {
  const parts: string[] = [];
  parts.push(r.mark ? `Marked ${r.mark}` : r.status ? `Recorded ${r.status.replace("_", "-")}` : "Not marked");
  if (r.checkInAt) parts.push(`in ${clock(r.checkInAt, timeZone)}`);
  if (r.checkOutAt) parts.push(`out ${clock(r.checkOutAt, timeZone)}`);
  if (r.minutes !== null) parts.push(`${r.minutes} min`);
  if (r.online) {
    parts.push(
      `${r.online.inMeeting ? "in the meeting" : "online"} ${r.online.minutes} min, ${r.online.joinCount} ${
        r.online.joinCount === 1 ? "join" : "joins"
      }`,
    );
  }
  if (r.rsvp) parts.push(`RSVP ${r.rsvp}`);
  if (r.outcome) parts.push(OUTCOME[r.outcome] ?? r.outcome);
  return parts.join(" · ");
}

/** What changed, said aloud: who joined or left the roster, who checked in. */
function announcement(before: Snapshot, now: Snapshot): string {
  const had = new Map(before.rows.map((r) => [r.learnerId, r]));
  const has = new Set(now.rows.map((r) => r.learnerId));
  const said: string[] = [];
  for (const r of now.rows) {
    const old = had.get(r.learnerId);
    if (!old) said.push(`${r.name} booked.`);
    else if (!old.checkInAt && r.checkInAt) said.push(`${r.name} checked in.`);
    else if (!old.online?.inMeeting && r.online?.inMeeting) said.push(`${r.name} joined.`);
  }
  for (const r of before.rows) if (!has.has(r.learnerId)) said.push(`${r.name} cancelled.`);
  return said.join(" ");
}

const btn = "rounded-lg border px-3 py-2 text-sm font-semibold";

/** The roster with its mark forms, kept current by `GET /teach/sessions/{id}/roster` (server-sent events). */
export default function LiveRoster({ sessionId, timeZone, online, initial }: Props) {
  const [roster, setRoster] = useState<Snapshot>(initial);
  const [live, setLive] = useState(false);
  const [spoken, setSpoken] = useState("");

  useEffect(() => {
    if (typeof EventSource === "undefined") return;
    let current = initial;
    const source = new EventSource(`/teach/sessions/${encodeURIComponent(sessionId)}/roster`);
    source.addEventListener("roster", (e) => {
      const next = JSON.parse((e as MessageEvent<string>).data) as Snapshot;
      const said = announcement(current, next);
      current = next;
      setRoster(next);
      setLive(true);
      if (said) setSpoken(said);
    });
    return () => source.close();
  }, [sessionId]);

  const c = roster.counts;
  const open = roster.attendance.state === "open";
  const action = `/teach/sessions/${sessionId}`;
  return (
    <div class="space-y-3" data-testid="live-roster" data-live={live ? "on" : "off"}>
      <p class="text-base" data-testid="roster-counts">
        {c.booked} booked of {c.capacity}
        {c.waiting ? ` · ${c.waiting} waiting` : ""} · {c.present} present · {c.late} late · {c.absent} absent ·{" "}
        {c.excused} excused{online
          ? ` · ${c.participants} in the meeting now · RSVP ${c.confirmed} confirmed, ${c.tentative} tentative, ${c.declined} declined`
          : ""}
      </p>
      <p aria-live="polite" class="sr-only">{spoken}</p>
      {roster.rows.length === 0 && <p class="text-base">Nobody has booked this session yet.</p>}
      <ul class="space-y-3">
        {roster.rows.map((r) => (
          <li key={r.learnerId} class="space-y-2 rounded-xl border border-gray-200 p-4" data-learner={r.learnerId}>
            <h3 class="text-lg font-semibold">{r.name}</h3>
            <p class="text-sm text-gray-700">
              {r.dealer ?? "No dealer"} · {r.missingPrerequisites.length
                ? `Prerequisites missing: ${r.missingPrerequisites.join(", ")}`
                : "Prerequisites met"}
            </p>
            <p class="text-base" data-testid="attendance">{attendanceText(r, timeZone)}</p>
            {open && (
              <form method="post" action={action} class="space-y-2">
                <input type="hidden" name="intent" value="mark" />
                <input type="hidden" name="learner" value={r.learnerId} />
                <input type="hidden" name="revision" value={String(r.revision)} />
                <fieldset class="flex flex-wrap gap-2">
                  <legend class="sr-only">Mark {r.name}</legend>
                  {MARKS.map((m) => (
                    <button
                      key={m.value}
                      type="submit"
                      name="mark"
                      value={m.value}
                      aria-pressed={r.mark === m.value ? "true" : "false"}
                      class={`${btn} ${
                        r.mark === m.value
                          ? "border-blue-800 bg-blue-800 text-white"
                          : "border-gray-600 bg-white text-gray-900"
                      }`}
                    >
                      {m.label}
                    </button>
                  ))}
                  {(r.mark === "present" || r.mark === "late") && !r.checkOutAt && (
                    <button
                      type="submit"
                      name="checkout"
                      value={r.mark}
                      class={`${btn} border-gray-600 bg-white text-gray-900`}
                    >
                      Check out
                    </button>
                  )}
                </fieldset>
              </form>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
