import assert from "node:assert/strict";
import { qrPath } from "./QrCode.tsx";

Deno.test("[qr] a check-in URL becomes a square SVG path with a quiet zone; longer text needs more modules", () => {
  const short = qrPath("https://example.com/sessions/01J/check-in?code=ABC234");
  assert.ok(short.size >= 21 + 8 && short.size <= 41 + 8, `${short.size}`);
  assert.match(short.d, /^(M\d+ \d+h1v1h-1z)+$/);
  // The three finder patterns make the top-left module (inside the quiet zone) dark.
  assert.ok(short.d.startsWith("M4 4h1v1h-1z"));
  const long = qrPath("x".repeat(300));
  assert.ok(long.size > short.size);
});
