/**
 * Test fixture: an emulator checked against Cal.com's OpenAPI document (when the reference data is
 * present), a client pointed at it, and a seeded seated session. Every exchange must conform:
 * {@link withCalcom} fails the test when the emulator recorded any contract violation.
 */
import assert from "node:assert/strict";
import { type CalcomClient, type CalcomEventType, createCalcomClient } from "../../lib/calcom/client.ts";
import { type CalcomEmulator, type CalcomEmulatorOptions, startCalcomEmulator } from "./emulator.ts";
import { OpenApiContract } from "./openapi_contract.ts";
import { hasCalcomReference } from "./reference.ts";

let contract: Promise<OpenApiContract | undefined> | undefined;

/** The shared contract of this test process, or `undefined` without reference data (never in CI). */
export function loadContract(): Promise<OpenApiContract | undefined> {
  contract ??= hasCalcomReference() ? OpenApiContract.load() : Promise.resolve(undefined);
  return contract;
}

/** What a test gets. */
export interface CalcomFixture {
  emulator: CalcomEmulator;
  client: CalcomClient;
}

/** Runs `fn` against a fresh emulator; asserts no contract violation; always closes it. */
export async function withCalcom(
  fn: (f: CalcomFixture) => Promise<void>,
  options: CalcomEmulatorOptions & { timeoutMs?: number } = {},
): Promise<void> {
  const emulator = startCalcomEmulator({ contract: await loadContract(), ...options });
  try {
    const client = createCalcomClient({
      baseUrl: emulator.url,
      apiKey: emulator.apiKey,
      timeoutMs: options.timeoutMs ?? 5_000,
    });
    await fn({ emulator, client });
    assert.deepEqual(emulator.violations, [], "exchanges that break Cal.com's OpenAPI contract");
  } finally {
    await emulator.close();
  }
}

/** A seated, in-person training session type (3 seats). */
export function createSession(client: CalcomClient, slug = "first-aid-basics"): Promise<CalcomEventType> {
  return client.createSeatedEventType({
    title: "First aid basics",
    slug,
    lengthInMinutes: 90,
    description: "Hands-on first aid course",
    seats: { seatsPerTimeSlot: 3, showAttendeeInfo: false, showAvailabilityCount: true },
    locations: [{ type: "address", address: "Training Centre, Room 2, 1 Main St" }],
  });
}

/** A start instant far in the future (so "upcoming"), `day` days into May 2030 at `hour` UTC. */
export function startAt(day: number, hour = 9): string {
  return new Date(Date.UTC(2030, 4, day, hour)).toISOString();
}

/** An attendee with a distinct email. */
export function learner(n: number) {
  return { name: `Learner ${n}`, email: `learner${n}@example.com`, timeZone: "Europe/Berlin", language: "en" };
}
