/** How many times optimistic read-modify-write loops try before giving up. */
export const MAX_WRITE_ATTEMPTS = 20;

/**
 * Waits a short, growing, jittered time before retry `attempt` (0-based) of
 * an optimistic write, so that racing writers spread out.
 */
export function backoff(attempt: number): Promise<void> {
  if (attempt === 0) return Promise.resolve();
  const ms = Math.random() * Math.min(50, 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
