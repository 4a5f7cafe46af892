import { useEffect, useRef, useState } from "preact/hooks";

type SeatState = "open" | "few_seats" | "full" | "waitlist" | "cancelled" | "started";

interface Seats {
  left: number;
  capacity: number;
  state: SeatState;
  /** Learners waiting (shown when full with a waitlist). */
  waiting?: number;
}

interface Props {
  sessionId: string;
  /** The seats when the page was rendered: shown as is without JavaScript. */
  initial: Seats;
}

// Written out here: a state can change in the browser (client-only classes rule).
const STYLES: Record<SeatState, string> = {
  open: "bg-green-100 text-green-900",
  few_seats: "bg-amber-100 text-amber-900",
  full: "bg-gray-200 text-gray-900",
  waitlist: "bg-blue-100 text-blue-900",
  cancelled: "bg-red-100 text-red-900",
  started: "bg-gray-200 text-gray-900",
};

function words(s: Seats): string {
  switch (s.state) {
    case "cancelled":
      return "Cancelled";
    case "started":
      return "Started";
    case "full":
      return "Full";
    case "waitlist":
      return s.waiting ? `Full · ${s.waiting} on waitlist` : "Full · waitlist open";
    default:
      return `${s.left} ${s.left === 1 ? "seat" : "seats"} left`;
  }
}

/** Worth saying aloud: the state changed, or the count moved while few seats are left. */
function announcement(before: Seats, now: Seats): string {
  const available = (s: Seats) => s.state === "open" || s.state === "few_seats";
  if (available(before) && !available(now)) return `This session is now ${words(now).toLowerCase()}.`;
  if (!available(before) && available(now)) return `A seat became free: ${words(now)}.`;
  if (now.state === "few_seats" && now.left !== before.left) return `${words(now)}.`;
  return "";
}

/** The session's seats left as a pill, kept current by `GET /sessions/{id}/seats` (server-sent events). */
export default function LiveSeats({ sessionId, initial }: Props) {
  const [seats, setSeats] = useState<Seats>(initial);
  const [spoken, setSpoken] = useState("");
  const [live, setLive] = useState(false);
  const current = useRef(initial);

  useEffect(() => {
    if (typeof EventSource === "undefined") return;
    const source = new EventSource(`/sessions/${encodeURIComponent(sessionId)}/seats`);
    source.addEventListener("seats", (e) => {
      const next = JSON.parse((e as MessageEvent<string>).data) as Seats;
      const said = announcement(current.current, next);
      current.current = next;
      setSeats(next);
      setLive(true);
      if (said) setSpoken(said);
    });
    return () => source.close();
  }, [sessionId]);

  return (
    <>
      <span
        class={`inline-block rounded-full px-2.5 py-0.5 text-sm font-semibold whitespace-nowrap ${STYLES[seats.state]}`}
        data-testid="live-seats"
        data-left={seats.left}
        data-live={live ? "on" : "off"}
      >
        {words(seats)}
      </span>
      <span aria-live="polite" class="sr-only">{spoken}</span>
    </>
  );
}
