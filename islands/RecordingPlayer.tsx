import { useEffect, useRef, useState } from "preact/hooks";

interface Props {
  sessionId: string;
  url: string;
  durationSeconds: number;
  watchedSeconds: number;
  completed: boolean;
}

const REPORT_MS = 15_000;

/**
 * The recording with its progress: seconds actually played (not seeked) are added up in the
 * browser and posted every 15 s and on pause; the server caps them by the real time elapsed.
 */
export default function RecordingPlayer({ sessionId, url, durationSeconds, watchedSeconds, completed }: Props) {
  const video = useRef<HTMLVideoElement>(null);
  const [watched, setWatched] = useState(watchedSeconds);
  const [done, setDone] = useState(completed);
  const pending = useRef(0);
  const last = useRef<number | null>(null);

  useEffect(() => {
    const v = video.current;
    if (!v) return;
    const send = async () => {
      const played = pending.current;
      if (played <= 0) return;
      pending.current = 0;
      const res = await fetch(`/api/v1/sessions/${encodeURIComponent(sessionId)}/recording/progress`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ playedSeconds: played }),
      }).catch(() => null);
      if (!res?.ok) {
        pending.current += played;
        return;
      }
      const body = await res.json();
      setWatched(body.view.watchedSeconds);
      if (body.view.completedAt) setDone(true);
    };
    const onTime = () => {
      const t = v.currentTime;
      // Only time that played counts: a jump (seek) of more than 2 s is not watching.
      if (last.current !== null && !v.paused && t > last.current && t - last.current < 2) {
        pending.current += t - last.current;
      }
      last.current = t;
    };
    const onSeek = () => (last.current = v.currentTime);
    v.addEventListener("timeupdate", onTime);
    v.addEventListener("seeking", onSeek);
    v.addEventListener("pause", send);
    v.addEventListener("ended", send);
    const timer = setInterval(send, REPORT_MS);
    return () => {
      clearInterval(timer);
      v.removeEventListener("timeupdate", onTime);
      v.removeEventListener("seeking", onSeek);
      v.removeEventListener("pause", send);
      v.removeEventListener("ended", send);
    };
  }, [sessionId]);

  const share = durationSeconds > 0 ? Math.min(100, Math.floor((watched / durationSeconds) * 100)) : 0;
  return (
    <div class="space-y-3">
      <video ref={video} src={url} controls preload="metadata" class="w-full rounded-lg bg-black" data-testid="video">
        <a href={url}>Download the recording</a>
      </video>
      <p class="text-base" aria-live="polite" data-testid="watched" data-share={share}>
        {done
          ? "Completed: you watched at least 90 % of the recording."
          : `Watched ${share} % · 90 % completes the course.`}
      </p>
    </div>
  );
}
