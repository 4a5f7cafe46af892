/** A request body for size-limit tests: counts how much of it the server pulled. */

/** What the server did with a {@link countingBody}. */
export interface BodyStats {
  /** Calls of the stream's `pull`. */
  pulls: number;
  /** Bytes handed out. */
  sent: number;
  /** True once the reader cancelled the stream. */
  cancelled: boolean;
}

/**
 * A stream of `total` bytes of `byte`, handed out 1 KiB per pull and only when pulled (no
 * read-ahead), so `stats.sent` is exactly what the reader consumed.
 */
export function countingBody(total: number, byte = 0x61): { stream: ReadableStream<Uint8Array>; stats: BodyStats } {
  const stats: BodyStats = { pulls: 0, sent: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      stats.pulls++;
      if (stats.sent >= total) return controller.close();
      controller.enqueue(new Uint8Array(1024).fill(byte));
      stats.sent += 1024;
    },
    cancel() {
      stats.cancelled = true;
    },
  }, { highWaterMark: 0 });
  return { stream, stats };
}
