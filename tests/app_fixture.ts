/**
 * Test fixture: the real app on an in-memory KV loaded with the demo catalog, optionally served
 * on a random loopback port.
 */
import type { Hono } from "hono";
import { createApp } from "../lib/app.ts";
import { BookingEngine } from "../lib/booking/engine.ts";
import { loadConfig } from "../lib/config.ts";
import { createRelay } from "../lib/relay/mod.ts";
import { seedDemoData } from "../lib/seed/mod.ts";
import type { Services } from "../lib/services.ts";

/** A running test app. Call `close()` in a finally block. */
export interface TestApp {
  app: Hono;
  services: Services;
  /** Base URL when served (`serve: true`). */
  baseUrl: string;
  close(): Promise<void>;
}

/** Starts the app on `:memory:` KV with the demo data. */
export async function startTestApp(
  options: { serve?: boolean; seed?: boolean; env?: Record<string, string>; dev?: boolean; now?: () => Date } = {},
): Promise<TestApp> {
  const config = loadConfig({ DENO_KV_PATH: ":memory:", PORT: "0", ...options.env });
  const kv = await Deno.openKv(":memory:");
  if (options.seed !== false) await seedDemoData(kv);
  // `now`: the engine's (business) clock, for tests that move time instead of waiting.
  const engine = new BookingEngine(kv, { holdMinutes: config.holdMinutes, now: options.now });
  // With KAFKA_BROKERS in `env` the relay delivers to that broker; otherwise it is off.
  const relay = createRelay(kv, config, { idleMs: 200 });
  relay.start();
  const services: Services = { kv, config, engine, relay };
  const app = await createApp(services, { dev: options.dev });
  let server: Deno.HttpServer | null = null;
  let baseUrl = "";
  if (options.serve) {
    server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, app.fetch);
    baseUrl = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
  }
  return {
    app,
    services,
    baseUrl,
    async close() {
      if (server) await server.shutdown();
      await relay.stop();
      kv.close();
    },
  };
}
