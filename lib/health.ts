/** `GET /health`: 200 when KV answers within a second, 503 when it does not. */
import type { Context } from "hono";
import { services } from "./services.ts";

/** Probes KV with a read bounded by a timeout. */
export async function probeKv(kv: Deno.Kv, timeoutMs = 1000): Promise<"ok" | "unavailable"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("kv timeout")), timeoutMs);
    });
    await Promise.race([kv.get(["meta", "seed"]), timeout]);
    return "ok";
  } catch {
    return "unavailable";
  } finally {
    clearTimeout(timer);
  }
}

/** Hono handler for `/health`. */
export async function healthHandler(c: Context): Promise<Response> {
  const { kv, config, relay } = services();
  const kvState = await probeKv(kv);
  const ok = kvState === "ok";
  const r = relay.status();
  return c.json({
    status: ok ? "ok" : "degraded",
    kv: kvState,
    version: config.version,
    relay: { state: r.state, lastDeliveredAt: r.lastDeliveredAt, lastError: r.lastError?.message ?? null },
  }, ok ? 200 : 503);
}
