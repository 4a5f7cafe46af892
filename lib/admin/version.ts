/**
 * A short version of a stored record for optimistic concurrency on forms and the API: a 32-bit
 * FNV-1a hash of its JSON. An edit names the version it was made on; the store update (guarded by
 * the record's versionstamp) refuses it when the record's version differs by then.
 */
export function recordVersion(record: unknown): string {
  let h = 0x811c9dc5;
  for (const ch of JSON.stringify(record)) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}
