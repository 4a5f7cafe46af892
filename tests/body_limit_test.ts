/**
 * The app-wide body limit (lib/http/body_limit.ts, wired in lib/app.ts): page forms 16 KiB, the
 * JSON API 64 KiB, Cal.com webhooks 256 KiB. A larger body is a 413, refused by its declared
 * Content-Length without reading it, or, when streamed without one, as soon as it passes the limit.
 */
import assert from "node:assert/strict";
import { MAX_BODY_BYTES } from "../lib/api/operation.ts";
import { CALCOM_SIGNATURE_HEADER } from "../lib/calcom/signature.ts";
import { MAX_WEBHOOK_BYTES } from "../lib/calcom/webhook_intake.ts";
import { MAX_FORM_BYTES } from "../lib/http/body_limit.ts";
import { startTestApp } from "./app_fixture.ts";
import { countingBody } from "./counting_body.ts";

const BASE = "http://test";
const HUNDRED_MB = 100 * 1024 * 1024;
const FORM = { "content-type": "application/x-www-form-urlencoded", origin: BASE };

Deno.test("[pages] a 100 MB form post to /dev/sign-in is a 413 page, by Content-Length or streamed, read no further than 16 KiB", async () => {
  const t = await startTestApp();
  try {
    const declared = countingBody(HUNDRED_MB);
    const byLength = await t.app.fetch(
      new Request(`${BASE}/dev/sign-in`, {
        method: "POST",
        headers: { ...FORM, "content-length": String(HUNDRED_MB) },
        body: declared.stream,
      }),
    );
    assert.equal(byLength.status, 413);
    assert.match(byLength.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(await byLength.text(), /That form was too large/);
    assert.ok(declared.stats.sent <= 1024, `read ${declared.stats.sent} bytes`);
    assert.ok(declared.stats.cancelled);

    const chunked = countingBody(HUNDRED_MB);
    const streamed = await t.app.fetch(
      new Request(`${BASE}/dev/sign-in`, { method: "POST", headers: FORM, body: chunked.stream }),
    );
    assert.equal(streamed.status, 413);
    assert.match(await streamed.text(), /That form was too large/);
    // 1 KiB chunks: the one that passes 16 KiB is the last one pulled.
    assert.equal(chunked.stats.sent, MAX_FORM_BYTES + 1024);
    assert.ok(chunked.stats.pulls < 20, `pulled ${chunked.stats.pulls} times`);
    assert.ok(chunked.stats.cancelled);

    // A form within the limit still signs in.
    const ok = await t.app.fetch(
      new Request(`${BASE}/dev/sign-in`, {
        method: "POST",
        headers: FORM,
        body: new URLSearchParams({ email: "learner@example.com", pad: "x".repeat(MAX_FORM_BYTES - 200) }),
      }),
    );
    assert.equal(ok.status, 303);
  } finally {
    await t.close();
  }
});

Deno.test("[pages] over real HTTP, a 100 MB chunked form post gets a 413 and the connection is dropped long before the end", async () => {
  const t = await startTestApp({ serve: true });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(t.baseUrl).port) });
  try {
    const enc = new TextEncoder();
    await conn.write(enc.encode(
      "POST /dev/sign-in HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
        "Transfer-Encoding: chunked\r\n\r\n",
    ));
    let answer = "";
    let closed = false;
    const reading = (async () => {
      const buf = new Uint8Array(16 * 1024);
      while (true) {
        const n = await conn.read(buf).catch(() => null);
        if (n === null) break;
        answer += new TextDecoder().decode(buf.subarray(0, n));
      }
      closed = true;
    })();
    const chunk = enc.encode(`400\r\n${"a".repeat(1024)}\r\n`);
    let sent = 0;
    while (!closed && sent < HUNDRED_MB) {
      try {
        await conn.write(chunk);
      } catch {
        break; // the server reset the connection
      }
      sent += 1024;
    }
    await reading;
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.ok(sent < HUNDRED_MB / 4, `the client got to send ${sent} bytes`);
  } finally {
    try {
      conn.close();
    } catch {
      // already closed by the server
    }
    await t.close();
  }
});

Deno.test("[api] a JSON body over 64 KiB streamed without Content-Length is a 413 payload_too_large; nothing is held", async () => {
  const t = await startTestApp({ env: { ADMIN_TOKEN: "body-limit-admin-token-0123456789" } });
  try {
    const { stream, stats } = countingBody(HUNDRED_MB, 0x20);
    const res = await t.app.fetch(
      new Request(`${BASE}/api/v1/holds`, {
        method: "POST",
        headers: { authorization: "Bearer body-limit-admin-token-0123456789", "content-type": "application/json" },
        body: stream,
      }),
    );
    assert.equal(res.status, 413);
    const body = await res.json();
    assert.equal(body.error, "payload_too_large");
    assert.equal(body.message, `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
    assert.equal(stats.sent, MAX_BODY_BYTES + 1024);
    assert.ok(stats.cancelled);
    let holds = 0;
    for await (const _ of t.services.kv.list({ prefix: ["holds"] })) holds++;
    assert.equal(holds, 0);
  } finally {
    await t.close();
  }
});

Deno.test("[calcom] a webhook body over the API's 64 KiB reaches the intake; over 256 KiB streamed it is a 413", async () => {
  const t = await startTestApp({ seed: false, env: { CALCOM_WEBHOOK_SECRET: "body-limit-webhook-secret-0123" } });
  try {
    const mid = await t.app.fetch(
      new Request(`${BASE}/api/webhooks/calcom/booking`, {
        method: "POST",
        headers: { "content-type": "application/json", [CALCOM_SIGNATURE_HEADER]: "00".repeat(32) },
        body: JSON.stringify({ pad: "x".repeat(MAX_BODY_BYTES + 1024) }),
      }),
    );
    assert.deepEqual([mid.status, (await mid.json()).error], [401, "invalid_signature"]);

    const { stream, stats } = countingBody(HUNDRED_MB);
    const big = await t.app.fetch(
      new Request(`${BASE}/api/webhooks/calcom/booking`, {
        method: "POST",
        headers: { "content-type": "application/json", [CALCOM_SIGNATURE_HEADER]: "00".repeat(32) },
        body: stream,
      }),
    );
    assert.deepEqual([big.status, (await big.json()).error], [413, "payload_too_large"]);
    assert.equal(stats.sent, MAX_WEBHOOK_BYTES + 1024);
  } finally {
    await t.close();
  }
});
