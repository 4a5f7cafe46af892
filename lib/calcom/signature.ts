/**
 * Cal.com webhook signatures: header `X-Cal-Signature-256` = lowercase hex HMAC-SHA256 of the
 * exact raw body keyed with the webhook secret (no `sha256=` prefix). Verify the raw bytes as
 * received, never re-serialised JSON.
 */

/** The header that carries the signature. */
export const CALCOM_SIGNATURE_HEADER = "X-Cal-Signature-256";

/** What Cal.com sends as the signature when the webhook has no secret: always rejected. */
export const CALCOM_NO_SECRET_SIGNATURE = "no-secret-provided";

import { timingSafeEqual, toHex } from "../hash.ts";

const encoder = new TextEncoder();

async function hmac(secret: string, body: Uint8Array): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, body as Uint8Array<ArrayBuffer>));
}

function toBytes(body: string | Uint8Array): Uint8Array {
  return typeof body === "string" ? encoder.encode(body) : body;
}

/** Lowercase hex HMAC-SHA256 of `rawBody` (as Cal.com computes it). */
export async function signCalcomWebhook(secret: string, rawBody: string | Uint8Array): Promise<string> {
  const mac = await hmac(secret, toBytes(rawBody));
  return toHex(mac);
}

/**
 * Whether `signature` (the header's value) is the HMAC of `rawBody` under `secret`. False for a
 * missing header, an empty secret and Cal.com's `no-secret-provided`. Compares in constant time.
 */
export async function verifyCalcomSignature(
  secret: string,
  rawBody: string | Uint8Array,
  signature: string | null | undefined,
): Promise<boolean> {
  if (!secret || !signature || signature === CALCOM_NO_SECRET_SIGNATURE) return false;
  return timingSafeEqual(signature.trim().toLowerCase(), await signCalcomWebhook(secret, rawBody));
}
