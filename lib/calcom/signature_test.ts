import assert from "node:assert/strict";
import { signCalcomWebhook, verifyCalcomSignature } from "./signature.ts";

Deno.test("[calcom] signature is lowercase hex HMAC-SHA256 of the raw body (RFC 4231 case 2)", async () => {
  const mac = await signCalcomWebhook("Jefe", "what do ya want for nothing?");
  assert.equal(mac, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
});

Deno.test("[calcom] signature check: bytes or text, wrong secret, tampering, no-secret-provided", async () => {
  const body = '{"triggerEvent":"BOOKING_CREATED","payload":{"uid":"u1"}}';
  const sig = await signCalcomWebhook("s3cret", body);
  assert.equal(await verifyCalcomSignature("s3cret", body, sig), true);
  assert.equal(await verifyCalcomSignature("s3cret", new TextEncoder().encode(body), sig.toUpperCase()), true);
  assert.equal(await verifyCalcomSignature("other", body, sig), false);
  assert.equal(await verifyCalcomSignature("s3cret", body.replace("u1", "u2"), sig), false);
  assert.equal(await verifyCalcomSignature("s3cret", body, `sha256=${sig}`), false);
  assert.equal(await verifyCalcomSignature("s3cret", body, "no-secret-provided"), false);
  assert.equal(await verifyCalcomSignature("s3cret", body, null), false);
  assert.equal(await verifyCalcomSignature("", body, sig), false);
});
