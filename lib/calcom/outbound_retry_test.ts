import assert from "node:assert/strict";
import { CalcomError } from "./errors.ts";
import {
  classifyFailure,
  decideRetry,
  DEFAULT_RETRY_DELAYS_MS,
  OutboundDataError,
  redactSecrets,
} from "./outbound_retry.ts";

const err = (status: number, retryAfterMs?: number) =>
  new CalcomError({ status, code: `HTTP_${status}`, message: `Cal.com POST /v2/bookings → ${status}`, retryAfterMs });

Deno.test("[calcom] outbound retry default policy is exactly 1 s, 5 s, 30 s (4 attempts in all)", () => {
  assert.deepEqual([...DEFAULT_RETRY_DELAYS_MS], [1_000, 5_000, 30_000]);
  const failure = classifyFailure(err(503));
  assert.deepEqual(decideRetry(1, failure), { retry: true, delayMs: 1_000 });
  assert.deepEqual(decideRetry(2, failure), { retry: true, delayMs: 5_000 });
  assert.deepEqual(decideRetry(3, failure), { retry: true, delayMs: 30_000 });
  assert.deepEqual(decideRetry(4, failure), { retry: false, reason: "exhausted" });
});

Deno.test("[calcom] outbound retry retries network errors, timeouts, 408, 429 and 5xx only", () => {
  const network = new CalcomError({ status: 0, code: "NETWORK_ERROR", message: "refused", retryable: true });
  const timeout = new CalcomError({ status: 0, code: "TIMEOUT", message: "no answer", retryable: true });
  for (const e of [network, timeout, err(408), err(429), err(500), err(502), err(503)]) {
    assert.equal(decideRetry(1, classifyFailure(e)).retry, true, `${e.code} should be retried`);
  }
  for (const e of [err(400), err(401), err(403), err(404), err(409), err(422)]) {
    assert.deepEqual(decideRetry(1, classifyFailure(e)), { retry: false, reason: "not_retryable" }, e.code);
  }
  assert.deepEqual(decideRetry(1, classifyFailure(new OutboundDataError("USER_NOT_FOUND", "x"))), {
    retry: false,
    reason: "not_retryable",
  });
});

Deno.test("[calcom] outbound retry a 429 waits max(Retry-After, scheduled delay)", () => {
  assert.deepEqual(decideRetry(1, classifyFailure(err(429, 2_000))), { retry: true, delayMs: 2_000 });
  assert.deepEqual(decideRetry(2, classifyFailure(err(429, 2_000))), { retry: true, delayMs: 5_000 });
  assert.deepEqual(decideRetry(1, classifyFailure(err(429, 100)), [300, 900]), { retry: true, delayMs: 300 });
  assert.deepEqual(decideRetry(3, classifyFailure(err(429, 60_000))), { retry: true, delayMs: 60_000 });
  assert.deepEqual(decideRetry(4, classifyFailure(err(429, 1))), { retry: false, reason: "exhausted" });
});

Deno.test("[calcom] outbound retry failures are stored and logged without keys or secrets", () => {
  const key = "cal_live_0123456789abcdef";
  const text = `boom Authorization: Bearer ${key} apiKey=${key} whsec-very-secret-value`;
  const out = redactSecrets(text, ["whsec-very-secret-value"]);
  assert.ok(!out.includes(key), out);
  assert.ok(!out.includes("whsec-very-secret-value"), out);
  assert.match(out, /\[redacted\]/);
  const f = classifyFailure(new Error(`fetch failed for ${key}`), [key]);
  assert.equal(f.code, "INTERNAL_ERROR");
  assert.ok(!f.message.includes(key));
});

Deno.test("[privacy] Cal.com failure messages are stored and logged without email addresses", () => {
  const f = classifyFailure(
    new CalcomError({
      status: 400,
      code: "BAD_REQUEST",
      message: 'Cal.com POST /v2/bookings → 400: attendee "Ann.Lee+x@mail.example.co.uk" already booked',
    }),
  );
  assert.equal(f.message, 'Cal.com POST /v2/bookings → 400: attendee "[email]" already booked');
  assert.equal(redactSecrets("no address here: a@b, user at example.com"), "no address here: a@b, user at example.com");
});
