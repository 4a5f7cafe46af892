import type { Availability } from "../lib/booking/availability.ts";

const styles: Record<Availability["state"], string> = {
  open: "bg-green-100 text-green-900",
  few_seats: "bg-amber-100 text-amber-900",
  full: "bg-gray-200 text-gray-900",
  waitlist: "bg-blue-100 text-blue-900",
  cancelled: "bg-red-100 text-red-900",
  started: "bg-gray-200 text-gray-900",
};

/** Words for a session's seat state, e.g. "3 seats left" or "Full · waitlist open". */
export function seatText(a: Availability): string {
  switch (a.state) {
    case "cancelled":
      return "Cancelled";
    case "started":
      return "Started";
    case "full":
      return "Full";
    case "waitlist":
      return a.waiting ? `Full · ${a.waiting} on waitlist` : "Full · waitlist open";
    default:
      return `${a.seatsLeft} ${a.seatsLeft === 1 ? "seat" : "seats"} left`;
  }
}

/**
 * The seat state in words, so it never rests on colour alone: "Open · 12 seats left",
 * "Few seats · 2 seats left", "Full", "Full · waitlist open", "Cancelled", "Started".
 */
export function stateText(a: Availability): string {
  if (a.state === "open") return `Open · ${seatText(a)}`;
  if (a.state === "few_seats") return `Few seats · ${seatText(a)}`;
  return seatText(a);
}

/**
 * A pill with the session's state and seats left (server-rendered lists; the detail page's live
 * pill is the LiveSeats island, which keeps its own copy of these classes as the island runtime
 * requires for classes applied in the browser).
 */
export function SeatBadge({ availability }: { availability: Availability }) {
  return (
    <span
      class={`inline-block rounded-full px-2.5 py-0.5 text-sm font-semibold whitespace-nowrap ${
        styles[availability.state]
      }`}
      data-state={availability.state}
    >
      {stateText(availability)}
    </span>
  );
}
