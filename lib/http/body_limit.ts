/**
 * One request-body size limit for every route: pages, the JSON API and the Cal.com webhooks.
 *
 * The body is read here, before any handler runs, counting the bytes as they arrive: a declared
 * `Content-Length` over the limit is refused without reading, and a streamed (chunked) body is
 * refused as soon as it passes the limit, the rest left unread. A body within the limit is kept
 * in memory and handed on as a fresh Request, so handlers read it as usual (`formData()`,
 * `arrayBuffer()`) and never see a half-read stream.
 */
import type { Context, MiddlewareHandler } from "hono";

/** Largest page form body (the biggest real form, a review comment, is well under 1 KiB). */
export const MAX_FORM_BYTES = 16 * 1024;

/** Options of {@link bodyLimit}. */
export interface BodyLimitOptions {
  /** How a refusal is answered: JSON `{error, message}` (API) or a short HTML page (pages). */
  format: "json" | "html";
}

/** Requests whose body a limit has already read: the first limit that applies to a request decides. */
const checked = new WeakSet<Request>();

/**
 * Hono middleware refusing bodies larger than `maxBytes` with 413. Register the most specific
 * paths first: once one limit has read a request's body, later ones let it through.
 */
export function bodyLimit(maxBytes: number, options: BodyLimitOptions): MiddlewareHandler {
  return async (c, next) => {
    const req = c.req.raw;
    if (!req.body || checked.has(req)) return await next();
    const declared = Number(req.headers.get("content-length") ?? "");
    if (declared > maxBytes) {
      await req.body.cancel().catch(() => {});
      return tooLarge(c, maxBytes, options.format);
    }
    let bytes: Uint8Array | null;
    try {
      bytes = await readAtMost(req.body, maxBytes);
    } catch {
      return refuse(c, 400, "unreadable_body", "The request body could not be read; send it again.", options.format);
    }
    if (!bytes) return tooLarge(c, maxBytes, options.format);
    const buffered = new Request(req, { body: bytes as Uint8Array<ArrayBuffer> });
    checked.add(buffered);
    c.req.raw = buffered;
    return await next();
  };
}

/** The whole body, or null as soon as it passes `maxBytes` (the rest is not read). */
async function readAtMost(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<Uint8Array | null> {
  const reader = body.getReader();
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value as Uint8Array<ArrayBuffer>);
  }
  return new Uint8Array(await new Blob(chunks).arrayBuffer());
}

function tooLarge(c: Context, maxBytes: number, format: BodyLimitOptions["format"]): Response {
  if (format === "json") {
    return c.json({ error: "payload_too_large", message: `The request body is larger than ${maxBytes} bytes.` }, 413);
  }
  return page(
    c,
    413,
    "That form was too large",
    `Forms here send at most ${maxBytes / 1024} KiB. Go back, shorten what you entered, and send it again.`,
  );
}

function refuse(c: Context, status: 400, error: string, message: string, format: "json" | "html"): Response {
  return format === "json"
    ? c.json({ error, message }, status)
    : page(c, status, "That form could not be read", message);
}

function page(c: Context, status: 400 | 413, title: string, text: string): Response {
  return c.html(
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" ` +
      `content="width=device-width, initial-scale=1"><title>${title}</title></head><body>` +
      `<h1>${title}</h1><p>${text}</p><p><a href="/">See all upcoming sessions</a></p></body></html>`,
    status,
  );
}
