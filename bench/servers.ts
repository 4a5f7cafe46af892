/**
 * The two servers the bench loads: the real app (as tests/app_fixture.ts and main.ts build it) on
 * a file-backed KV in a temp dir, and a bare `Deno.serve` answering a tiny JSON.
 */
import { createApp } from "../lib/app.ts";
import { BookingEngine } from "../lib/booking/engine.ts";
import { OutboundSync } from "../lib/calcom/outbound.ts";
import { reconcileDepsFor } from "../lib/calcom/reconcile.ts";
import { loadConfig } from "../lib/config.ts";
import type { OutboundMessage } from "../lib/relay/publisher.ts";
import { type EventPublisher, EventRelay } from "../lib/relay/relay.ts";
import { startWorker } from "../lib/worker/mod.ts";
import { createNotifier } from "../lib/notify/mod.ts";

/** A running app. */
export interface BenchApp {
  kv: Deno.Kv;
  engine: BookingEngine;
  kvPath: string;
  baseUrl: string;
  close(): Promise<void>;
}

const quiet = () => {};

/**
 * A Kafka publisher that accepts every message and sends nothing: the relay does all its own work
 * (reads the outbox, builds the statements, deletes what it delivered), only the network is left
 * out. The relay on a real broker is measured by bench/relay.ts.
 */
export class NullPublisher implements EventPublisher {
  /** Messages accepted. */
  published = 0;
  connect(): Promise<void> {
    return Promise.resolve();
  }
  publish(messages: readonly OutboundMessage[]): Promise<void> {
    this.published += messages.length;
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function urlOf(server: Deno.HttpServer): string {
  return `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
}

/**
 * Starts the app on `<dir>/app.kv` (created or reopened) on a random loopback port. With
 * `background` (as main.ts does) the worker runs in the process: the hold sweep, the Cal.com
 * outbound sync (no tenant: every booking ends "skipped"), the report aggregator, notifications (no SMTP: made and kept) and the Kafka relay with a
 * {@link NullPublisher}. Crons are not registered.
 */
export async function startBenchApp(dir: string, options: { background: boolean }): Promise<BenchApp> {
  const kvPath = `${dir}/app.kv`;
  const config = loadConfig({ DENO_KV_PATH: kvPath, PORT: "0", SEED_DEMO: "0", DEV_LOGIN: "0" });
  const kv = await Deno.openKv(kvPath);
  const engine = new BookingEngine(kv, { holdMinutes: config.holdMinutes });
  const worker = options.background
    ? startWorker({
      kv,
      engine,
      relay: new EventRelay(kv, new NullPublisher()),
      outbound: new OutboundSync({ kv, config, log: quiet }),
      reconcile: reconcileDepsFor(kv, config, engine),
      holdSweep: { log: quiet },
      // As main.ts without SMTP_URL: messages are made and kept, not sent.
      notifier: createNotifier(kv, config, engine),
    })
    : null;
  const app = await createApp({ kv, config, engine });
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: quiet }, app.fetch);
  return {
    kv,
    engine,
    kvPath,
    baseUrl: urlOf(server),
    async close() {
      await server.shutdown();
      await worker?.stop();
      kv.close();
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
