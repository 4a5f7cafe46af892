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

/** A pill with the seats left and the session's state. */
export function SeatBadge({ availability }: { availability: Availability }) {
  return (
    <span
      class={`inline-block rounded-full px-2.5 py-0.5 text-sm font-semibold whitespace-nowrap ${
        styles[availability.state]
      }`}
    >
      {seatText(availability)}
    </span>
  );
}
