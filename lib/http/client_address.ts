/**
 * Who the client of a request is, for abuse limits: the peer address `Deno.serve` reports (passed
 * through by the header-timeout front, lib/http/header_timeout.ts), or with `TRUST_PROXY=1` the
 * last `X-Forwarded-For` entry (the one our own proxy appended; earlier entries are the client's
 * word and are ignored).
 */

/** What Deno.serve passes as the second argument of the handler (Hono's `c.env`). */
export interface ServeInfoLike {
  remoteAddr?: { hostname?: string; transport?: string };
}

const clients = new WeakMap<Request, string>();

/** The client address of a request from its headers and serve info. `unknown` when there is none (in-process tests). */
export function clientAddressOf(req: Request, info: ServeInfoLike | undefined, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = req.headers.get("x-forwarded-for");
    const last = forwarded?.split(",").map((s) => s.trim()).filter(Boolean).at(-1);
    if (last && last.length <= 100) return last;
  }
  const addr = info?.remoteAddr;
  return addr?.hostname && addr.transport !== "unix" ? addr.hostname : "unknown";
}

/** Remembers the client address of a request (set once by lib/app.ts for every request). */
export function rememberClient(req: Request, address: string): void {
  clients.set(req, address);
}

/** The client address remembered for this request (`unknown` when none was). */
export function clientOf(req: Request): string {
  return clients.get(req) ?? "unknown";
}
