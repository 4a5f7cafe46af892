/**
 * Which learner holds which session in the i-th request of a scenario. Plans are plain data so
 * they can be handed to the load-generator process; `planRequest` turns one into requests.
 */
import { MAX_ACTIVE_HOLDS } from "../lib/booking/model.ts";
import type { LoadRequest } from "./load.ts";

/** The hold-placing API call. */
export const HOLDS_PATH = "/api/v1/holds";

/**
 * - `blocks`: sessions are fought over one after another: request i goes to session
 *   `floor(i / perSession)` as learner `i % tokens.length`. With `tokens.length >= perSession`
 *   no learner asks twice for one session, and with at most 3 sessions none exceeds 3 holds.
 *   Hot (one big session at a time) and hot-small (many more attempts than seats) both use it.
 * - `spread`: learners take turns; learner `i % L` in its round `floor(i / L)` (at most 3
 *   rounds) holds a session picked by a hash, a different one each round, so no learner ever has
 *   two requests in flight, asks twice for one session, or exceeds 3 holds.
 * - `echo`: the same request shape (token and body) without end, for the bare server.
 */
export type Plan =
  | { kind: "blocks"; tokens: string[]; sessionIds: string[]; perSession: number }
  | { kind: "spread"; tokens: string[]; sessionIds: string[] }
  | { kind: "echo"; tokens: string[]; sessionIds: string[] };

/** Small integer hash (spreads learners over sessions). */
function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  return (x ^ (x >>> 16)) >>> 0;
}

const body = (sessionId: string) => JSON.stringify({ sessionId });

/** The i-th request of a plan, or null when the plan has no more work. */
export function planRequest(plan: Plan, i: number): LoadRequest | null {
  const { tokens, sessionIds } = plan;
  if (tokens.length === 0 || sessionIds.length === 0) return null;
  switch (plan.kind) {
    case "echo":
      return { path: HOLDS_PATH, token: tokens[i % tokens.length], body: body(sessionIds[0]) };
    case "blocks": {
      const s = Math.floor(i / plan.perSession);
      if (s >= sessionIds.length) return null;
      return { path: HOLDS_PATH, token: tokens[i % tokens.length], body: body(sessionIds[s]) };
    }
    case "spread": {
      const n = tokens.length;
      const rounds = Math.min(MAX_ACTIVE_HOLDS, sessionIds.length);
      const round = Math.floor(i / n);
      if (round >= rounds) return null;
      const learner = i % n;
      const stride = Math.floor(sessionIds.length / rounds);
      const s = (mix(learner) + round * stride) % sessionIds.length;
      return { path: HOLDS_PATH, token: tokens[learner], body: body(sessionIds[s]) };
    }
  }
}

/** Checks the promises above (learners never repeat in a session, at most 3 holds each). */
export function validatePlan(plan: Plan): void {
  if (plan.kind === "blocks") {
    if (plan.tokens.length < plan.perSession) throw new Error("blocks: fewer learners than requests per session");
    if (plan.sessionIds.length > MAX_ACTIVE_HOLDS && plan.tokens.length < plan.perSession * plan.sessionIds.length) {
      throw new Error(`blocks: learners would be asked for more than ${MAX_ACTIVE_HOLDS} holds`);
    }
  }
}
