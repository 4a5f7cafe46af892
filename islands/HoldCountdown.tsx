import { useEffect, useState } from "preact/hooks";
import { IS_BROWSER } from "../lib/fresh/runtime.ts";

interface Props {
  /** When the hold lapses (ISO 8601). */
  expiresAt: string;
  /** The server's clock when the page was rendered (ISO 8601): the authority on time. */
  serverTime: string;
  /** Where to look for other sessions once the hold expired. */
  sessionHref: string;
}

function mmss(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const m = Math.floor(total / 60);
  const s = total % 60;
  return `${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
}

/** Whole minutes left at which a screen reader hears the time (politely, not every second). */
const ANNOUNCE_AT = [10, 5, 2, 1];

/**
 * Time left on a seat hold, as mm:ss. The server's clock is the authority: the offset between
 * `serverTime` and this device's clock is taken at hydration, so a wrong phone clock does not matter.
 */
export default function HoldCountdown({ expiresAt, serverTime, sessionHref }: Props) {
  const deadline = Date.parse(expiresAt);
  const [offset] = useState(() => IS_BROWSER ? Date.parse(serverTime) - Date.now() : 0);
  const now = () => IS_BROWSER ? Date.now() + offset : Date.parse(serverTime);
  const [left, setLeft] = useState(() => deadline - now());
  const [announce, setAnnounce] = useState("");

  useEffect(() => {
    let lastMinute = Math.ceil(left / 60_000);
    const id = setInterval(() => {
      const ms = deadline - now();
      setLeft(ms);
      const minute = Math.ceil(ms / 60_000);
      if (minute !== lastMinute) {
        lastMinute = minute;
        if (ms <= 0) setAnnounce("Your hold expired.");
        else if (ANNOUNCE_AT.includes(minute)) {
          setAnnounce(`${minute} ${minute === 1 ? "minute" : "minutes"} left on your hold.`);
        }
      }
      if (ms <= 0) clearInterval(id);
    }, 1000);
    return () => clearInterval(id);
  }, [deadline, offset]);

  const expired = left <= 0;
  return (
    <div class="rounded-xl border border-gray-300 p-4 text-center" data-testid="hold-countdown">
      {expired
        ? (
          <p class="text-lg font-semibold text-red-800">
            Your hold expired.{" "}
            <a href={sessionHref} class="text-blue-800 underline">See this session and other dates</a>
          </p>
        )
        : (
          <p class="text-base">
            Time left to book:{" "}
            <span role="timer" class="font-mono text-3xl font-bold" data-testid="hold-remaining">{mmss(left)}</span>
          </p>
        )}
      <p aria-live="polite" class="sr-only">{announce}</p>
    </div>
  );
}
