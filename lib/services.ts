/**
 * The process-wide services pages and API handlers use. `main.ts` (or a test) creates them once
 * and registers them here; routes read them with `services()`.
 */
import type { BookingEngine } from "./booking/engine.ts";
import type { Config } from "./config.ts";
import type { OutboundSync } from "./calcom/outbound.ts";
import type { EventRelay } from "./relay/relay.ts";

/** Everything a request handler may need. */
export interface Services {
  kv: Deno.Kv;
  config: Config;
  engine: BookingEngine;
  /** Delivers outbox events to Kafka; disabled (events wait) without KAFKA_BROKERS. */
  relay: EventRelay;
  /** Mirrors bookings and sessions to Cal.com (`startOutboundSync`); absent in tests that do not start it. */
  outbound?: OutboundSync;
}

let current: Services | null = null;

/** Registers the services of this process (the last call wins; tests create their own). */
export function setServices(s: Services): void {
  current = s;
}

/** The registered services; throws when the app was not created through `createApp`. */
export function services(): Services {
  if (!current) throw new Error("services not registered: create the app with createApp()");
  return current;
}
