/**
 * Charts drawn on the server as SVG (no chart library on the phone), each with the table it draws
 * right under it: the SVG is an image with a title and description, the table is what assistive
 * technology and the CSV export read.
 */
import type { ReportTable } from "../../lib/reports/tables.ts";

/** One bar: a label, its value, and the text shown beside it. */
export interface Bar {
  label: string;
  value: number;
  text: string;
}

const WIDTH = 340;
const LABEL_H = 16;
const BAR_H = 14;
const GAP = 8;
const ROW = LABEL_H + BAR_H + GAP;

/**
 * Horizontal bars, one per row with its label above (readable at 375 px). `max` fixes the scale
 * (1 for rates); `target` draws a dashed line at a KPI target with its label.
 */
export function BarChart(
  { id, title, bars, max, target }: {
    id: string;
    title: string;
    bars: Bar[];
    max?: number;
    target?: { value: number; label: string };
  },
) {
  const top = target ? 18 : 4;
  const height = top + Math.max(1, bars.length) * ROW;
  const scaleMax = max ?? Math.max(1, ...bars.map((b) => b.value));
  const barSpace = WIDTH - 70;
  const x = (v: number) => Math.max(0, Math.min(1, v / scaleMax)) * barSpace;
  const desc = bars.length
    ? bars.map((b) => `${b.label}: ${b.text}`).join("; ") + (target ? `. Target ${target.label}.` : ".")
    : "No data for these filters.";
  return (
    <svg
      viewBox={`0 0 ${WIDTH} ${height}`}
      width="100%"
      role="img"
      aria-labelledby={`${id}-title ${id}-desc`}
      class="max-w-xl"
      style={`max-height:${height * 1.6}px`}
    >
      <title id={`${id}-title`}>{title}</title>
      <desc id={`${id}-desc`}>{desc}</desc>
      {bars.length === 0 && <text x="0" y="14" font-size="12" fill="#374151">No data for these filters.</text>}
      {bars.map((b, i) => {
        const y = top + i * ROW;
        return (
          <g key={i}>
            <text x="0" y={y + 12} font-size="12" fill="#111827">
              {b.label.length > 48 ? `${b.label.slice(0, 47)}…` : b.label}
            </text>
            <rect x="0" y={y + LABEL_H} width={barSpace} height={BAR_H} fill="#e5e7eb" />
            <rect x="0" y={y + LABEL_H} width={x(b.value)} height={BAR_H} fill="#1e40af" />
            <text x={barSpace + 6} y={y + LABEL_H + 11} font-size="12" fill="#111827">{b.text}</text>
          </g>
        );
      })}
      {target && (
        <g>
          <line
            x1={x(target.value)}
            x2={x(target.value)}
            y1={top - 4}
            y2={height}
            stroke="#b91c1c"
            stroke-width="2"
            stroke-dasharray="4 3"
          />
          <text
            x={Math.min(x(target.value), barSpace - 60)}
            y="12"
            font-size="11"
            fill="#b91c1c"
          >
            target {target.label}
          </text>
        </g>
      )}
    </svg>
  );
}

/** A report table (the data of the chart above it, and of the CSV). */
export function DataTable({ table }: { table: ReportTable }) {
  return (
    // A wide table scrolls on a phone: the region takes focus so keyboard users can scroll it too.
    <div
      class="overflow-x-auto focus:outline-none focus-visible:ring-4 focus-visible:ring-blue-600"
      role="region"
      aria-label={`${table.caption} (table)`}
      tabIndex={0}
    >
      <table class="min-w-full border-collapse text-left text-sm">
        <caption class="sr-only">{table.caption}</caption>
        <thead>
          <tr>
            {table.columns.map((c) => (
              <th key={c} scope="col" class="border-b border-gray-400 px-2 py-1 font-semibold">{c}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {table.rows.map((row, i) => (
            <tr key={i} class="border-b border-gray-200">
              {row.map((cell, j) =>
                j === 0
                  ? <th key={j} scope="row" class="px-2 py-1 font-normal">{cell}</th>
                  : <td key={j} class="px-2 py-1 tabular-nums">{cell}</td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
