import { useEffect, useState } from "preact/hooks";

interface Props {
  startsAt: string;
  sessionTimeZone: string;
}

/**
 * Shows the session's start in the learner's own time zone when it differs from the session's.
 * The server cannot know the learner's zone, so this renders nothing until it runs in the browser.
 */
export default function LocalTime({ startsAt, sessionTimeZone }: Props) {
  const [text, setText] = useState<string | null>(null);
  useEffect(() => {
    const mine = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!mine || mine === sessionTimeZone) return;
    const f = new Intl.DateTimeFormat("en-US", {
      timeZone: mine,
      weekday: "short",
      month: "short",
      day: "numeric",
      hour: "numeric",
      minute: "2-digit",
      timeZoneName: "short",
    });
    setText(f.format(new Date(startsAt)));
  }, [startsAt, sessionTimeZone]);
  if (!text) return null;
  return <p class="text-sm text-gray-700" data-testid="local-time">Your time: {text}</p>;
}
