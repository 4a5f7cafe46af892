/**
 * The two servers the bench loads: the real app (as tests/app_fixture.ts and main.ts build it) on
 * a file-backed KV in a temp dir, and a bare `Deno.serve` answering a tiny JSON.
 */
import { createApp } from "../lib/app.ts";
import { startQueueListener } from "../lib/background.ts";
import { BookingEngine } from "../lib/booking/engine.ts";
import { loadConfig } from "../lib/config.ts";

/** A running app. */
export interface BenchApp {
  kv: Deno.Kv;
  engine: BookingEngine;
  kvPath: string;
  baseUrl: string;
  close(): Promise<void>;
}

const quiet = () => {};

function urlOf(server: Deno.HttpServer): string {
  return `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
}

/**
 * Starts the app on `<dir>/app.kv` (created or reopened) on a random loopback port. With
 * `queueListener` (as main.ts does) the KV queue listener runs: it receives every message the
 * engine enqueues (one event message per change, delivered at once; hold expiries later). The
 * once-a-minute cron sweep is not started: no hold expires during a bench run.
 */
export async function startBenchApp(dir: string, options: { queueListener: boolean }): Promise<BenchApp> {
  const kvPath = `${dir}/app.kv`;
  const config = loadConfig({ DENO_KV_PATH: kvPath, PORT: "0", SEED_DEMO: "0", DEV_LOGIN: "0" });
  const kv = await Deno.openKv(kvPath);
  const engine = new BookingEngine(kv, { holdMinutes: config.holdMinutes });
  const listener = options.queueListener ? startQueueListener(kv, engine) : Promise.resolve();
  const app = await createApp({ kv, config, engine });
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: quiet }, app.fetch);
  return {
    kv,
    engine,
    kvPath,
    baseUrl: urlOf(server),
    async close() {
      await server.shutdown();
      kv.close();
      await listener.catch(() => {});
    },
  };
}

/** A bare server: reads the request body and answers `{"ok":true}`. */
export function startBareServer(): { baseUrl: string; close(): Promise<void> } {
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: quiet }, async (req) => {
    await req.text();
    return Response.json({ ok: true });
  });
  return { baseUrl: urlOf(server), close: () => server.shutdown() };
}
