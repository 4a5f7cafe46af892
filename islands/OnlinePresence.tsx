import { useEffect, useState } from "preact/hooks";

interface Props {
  sessionId: string;
  /** Whether the meeting can be joined now (rendered by the server; the page reloads to change it). */
  open: boolean;
  participants: number;
  /** Minutes attended so far (summed over reconnections). */
  minutes: number;
}

const HEARTBEAT_MS = 30_000;

async function post(path: string): Promise<{ participants?: number; seconds?: number } | null> {
  const res = await fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  return res.ok ? await res.json() : null;
}

/**
 * While the session page is open during an online session, tells the server every 30 s that the
 * learner is still there (their attendance time), shows how many are in the meeting, and offers Leave.
 */
export default function OnlinePresence({ sessionId, open, participants, minutes }: Props) {
  const [count, setCount] = useState(participants);
  const [mine, setMine] = useState(minutes);
  const [left, setLeft] = useState(false);
  const base = `/api/v1/sessions/${encodeURIComponent(sessionId)}/presence`;

  useEffect(() => {
    if (!open || left) return;
    const beat = async () => {
      const r = await post(`${base}/heartbeat`).catch(() => null);
      if (typeof r?.participants === "number") setCount(r.participants);
      if (typeof r?.seconds === "number") setMine(Math.round(r.seconds / 60));
    };
    beat();
    const timer = setInterval(beat, HEARTBEAT_MS);
    return () => clearInterval(timer);
  }, [sessionId, open, left]);

  return (
    <div class="space-y-2" data-testid="presence">
      <p class="text-base" aria-live="polite">
        <span data-testid="participants">{count}</span> {count === 1 ? "learner" : "learners"} in the meeting now · you:
        {" "}
        {mine} min
      </p>
      {open && !left && (
        <button
          type="button"
          class="rounded-lg border border-gray-600 bg-white px-4 py-2 text-base font-semibold text-gray-900"
          onClick={async () => {
            await post(`${base}/leave`).catch(() => null);
            setLeft(true);
          }}
        >
          I have left the meeting
        </button>
      )}
      {left && <p class="text-base">Thanks. Join again from here if you go back in.</p>}
    </div>
  );
}
