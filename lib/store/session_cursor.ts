import { ValidationError } from "../domain/validation.ts";

/** Position of the last item on a page: resume strictly after it. */
export interface SessionCursor {
  startsAt: string;
  id: string;
}

function toBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): string {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

/** Encodes a cursor as an opaque URL-safe string. */
export function encodeSessionCursor(cursor: SessionCursor): string {
  return toBase64Url(JSON.stringify([cursor.startsAt, cursor.id]));
}

/** Decodes a cursor made by {@link encodeSessionCursor}; throws ValidationError. */
export function decodeSessionCursor(text: string): SessionCursor {
  try {
    const value = JSON.parse(fromBase64Url(text));
    if (
      Array.isArray(value) && value.length === 2 &&
      typeof value[0] === "string" && typeof value[1] === "string"
    ) {
      return { startsAt: value[0], id: value[1] };
    }
  } catch {
    // fall through
  }
  throw new ValidationError([{ path: "cursor", message: "is not a valid cursor" }]);
}

/** True when `text` decodes as a cursor made by {@link encodeSessionCursor}. */
export function isSessionCursor(text: string): boolean {
  try {
    decodeSessionCursor(text);
    return true;
  } catch {
    return false;
  }
}

/** Orders (startsAt, id) pairs: negative when a sorts first. */
export function compareSessionPosition(
  a: SessionCursor,
  b: SessionCursor,
): number {
  if (a.startsAt !== b.startsAt) return a.startsAt < b.startsAt ? -1 : 1;
  return a.id === b.id ? 0 : a.id < b.id ? -1 : 1;
}
