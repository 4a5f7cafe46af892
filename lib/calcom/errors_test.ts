import assert from "node:assert/strict";
import { CalcomError, isRetryableStatus, parseRetryAfter } from "./errors.ts";

Deno.test("[calcom] Retry-After: delta-seconds, HTTP date, garbage", () => {
  const now = Date.parse("2030-05-06T09:00:00Z");
  assert.equal(parseRetryAfter("3", now), 3000);
  assert.equal(parseRetryAfter(" 0 ", now), 0);
  assert.equal(parseRetryAfter("1.5", now), 1500);
  assert.equal(parseRetryAfter("Mon, 06 May 2030 09:00:30 GMT", now), 30_000);
  assert.equal(parseRetryAfter("Mon, 06 May 2030 08:00:00 GMT", now), 0, "a past date means now");
  assert.equal(parseRetryAfter("soon", now), undefined);
  assert.equal(parseRetryAfter(null, now), undefined);
});

Deno.test("[calcom] retryable: 408, 429, 5xx yes; other 4xx no", () => {
  assert.deepEqual([408, 429, 500, 502, 503].map(isRetryableStatus), [true, true, true, true, true]);
  assert.deepEqual([400, 401, 403, 404, 409, 422].map(isRetryableStatus), [false, false, false, false, false, false]);
  const e = new CalcomError({ status: 0, code: "NETWORK_ERROR", message: "refused", retryable: true });
  assert.deepEqual([e.name, e.retryable, e.retryAfterMs], ["CalcomError", true, undefined]);
});
