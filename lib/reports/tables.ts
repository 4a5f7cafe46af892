/**
 * Each report section as a table: the page shows exactly these tables (under its charts) and the
 * CSV export writes exactly these rows, so the two cannot disagree.
 */
import type { BreakdownLine, Report } from "./query.ts";

/** The report sections (page anchors, CSV `section` values). */
export const SECTIONS = [
  "no-shows",
  "late-cancellations",
  "funnel",
  "alternatives",
  "waitlist",
  "courses",
  "locations",
] as const;
export type Section = typeof SECTIONS[number];

/** A table: caption, header and rows of text or numbers. */
export interface ReportTable {
  caption: string;
  columns: string[];
  rows: (string | number)[][];
}

/** A rate as a percentage with one decimal, or "n/a". */
export function percent(r: number | null): string {
  return r === null ? "n/a" : `${(Math.round(r * 1000) / 10).toFixed(1)} %`;
}

function breakdown(caption: string, what: string, lines: BreakdownLine[]): ReportTable {
  return {
    caption,
    columns: [
      what,
      "Sessions",
      "Bookings",
      "Attendance recorded",
      "Attended",
      "Completion rate",
      "Seats",
      "Capacity",
      "Fill rate",
    ],
    rows: lines.map((l) => [
      l.label,
      l.sessions,
      l.bookings,
      l.recorded,
      l.attended,
      percent(l.completionRate),
      l.seats,
      l.capacity,
      percent(l.fillRate),
    ]),
  };
}

/** Every section's table. */
export function reportTables(r: Report): Record<Section, ReportTable> {
  return {
    "no-shows": {
      caption: "No-shows",
      columns: ["Measure", "Value"],
      rows: [
        ["No-shows", r.noShows.count],
        ["Attendance recorded", r.noShows.recorded],
        ["No-show rate", percent(r.noShows.rate)],
        ["People with more than one no-show", r.noShows.repeatPeople],
        ...r.noShows.people.map((p) => [`No-shows of ${p.name}`, p.count]),
      ],
    },
    "late-cancellations": {
      caption: "Late cancellations",
      columns: ["Measure", "Value"],
      rows: [
        ["Late cancellations", r.lateCancels.count],
        ["Bookings", r.lateCancels.bookings],
        ["Late cancellation rate", percent(r.lateCancels.rate)],
        ["People with more than one late cancellation", r.lateCancels.repeatPeople],
        ...r.lateCancels.people.map((p) => [`Late cancellations of ${p.name}`, p.count]),
      ],
    },
    funnel: {
      caption: "Registration funnel",
      columns: ["Step", "Count"],
      rows: [
        ["Session views", r.funnel.views],
        ["Holds", r.funnel.holds],
        ["Holds booked", r.funnel.holdsConfirmed],
        ["Bookings (all)", r.funnel.bookings],
        ["Expired holds", r.funnel.holdsExpired],
        ["Released holds", r.funnel.holdsReleased],
        ["Registration completion rate (holds booked per hold)", percent(r.funnel.completionRate)],
      ],
    },
    alternatives: {
      caption: "Alternative acceptance",
      columns: ["Measure", "Value"],
      rows: [
        ["Full-session answers with alternatives (decided after 24 h)", r.alternatives.offered],
        ["Booked one of them within 24 h", r.alternatives.accepted],
        ["Alternative acceptance rate", percent(r.alternatives.rate)],
      ],
    },
    waitlist: {
      caption: "Waitlist",
      columns: ["Measure", "Value"],
      rows: [
        ["Joins", r.waitlist.joins],
        ["Offers", r.waitlist.offers],
        ["Accepted offers", r.waitlist.accepted],
        ["Lapsed offers", r.waitlist.lapsed],
        ["Declined offers", r.waitlist.declined],
        ["Mean time to offer (hours)", r.waitlist.avgHoursToOffer ?? "n/a"],
      ],
    },
    courses: breakdown("Completion and fill rate per course", "Course", r.byCourse),
    locations: breakdown("Completion and fill rate per location", "Location", r.byLocation),
  };
}

/**
 * One CSV cell. Text that a spreadsheet would run as a formula (starting with =, +, -, @, tab or
 * carriage return) gets a leading apostrophe; text with a comma, quote or line break is quoted.
 */
export function csvCell(value: string | number): string {
  if (typeof value === "number") return String(value);
  let s = value;
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** A section's table as CSV (CRLF line ends, header first). */
export function tableCsv(t: ReportTable): string {
  return [t.columns, ...t.rows].map((r) => r.map(csvCell).join(",")).join("\r\n") + "\r\n";
}
