/**
 * A QR code drawn on the server as SVG (no JavaScript): one path of dark modules with a quiet zone,
 * named for screen readers by `label`. The encoding is the maintained `qrcode-generator` package.
 */
import qrcode from "qrcode-generator";

/** The SVG path of a QR code for `text` and its size in modules (quiet zone included). */
export function qrPath(text: string, quiet = 4): { d: string; size: number } {
  const qr = qrcode(0, "M");
  qr.addData(text);
  qr.make();
  const n = qr.getModuleCount();
  const parts: string[] = [];
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) if (qr.isDark(y, x)) parts.push(`M${x + quiet} ${y + quiet}h1v1h-1z`);
  }
  return { d: parts.join(""), size: n + 2 * quiet };
}

/** The QR code of `text` as an inline SVG image. */
export function QrCode({ text, label, px = 200 }: { text: string; label: string; px?: number }) {
  const { d, size } = qrPath(text);
  return (
    <svg
      role="img"
      aria-label={label}
      width={px}
      height={px}
      viewBox={`0 0 ${size} ${size}`}
      shape-rendering="crispEdges"
      class="rounded border border-gray-300 bg-white"
      data-testid="checkin-qr"
    >
      <rect width={size} height={size} fill="#fff" />
      <path d={d} fill="#000" />
    </svg>
  );
}
