/**
 * Generates a past of finished sessions for the reports: sessions (with their indexes), and for each
 * booking the events the engine would have written (hold placed, booked, cancelled or attended, some
 * through the waitlist, some holds expired or released), alternative offers after full sessions,
 * page view counters, and the report aggregates, folded from exactly those events with the fold the
 * aggregator uses (lib/reports/ledger.ts), so the recount agrees by construction. Written straight
 * to KV in big atomic batches: the demo seed (a few thousand bookings) and `deno task bench reports`
 * (a million) use it.
 *
 * No outbox entries are written: this history counts as delivered.
 */
import { ulid } from "ulid";
import type { DomainEvent } from "../booking/events.ts";
import type { Session } from "../domain/session.ts";
import { sessionMeta } from "../reports/aggregator.ts";
import { foldAltOffer, foldEvent, type FoldLookup, foldViews, Ledger, offerAccepted } from "../reports/ledger.ts";
import type { AltOffer, SessionMeta } from "../reports/model.ts";
import { keys } from "../store/keys.ts";
import { sessionWriteMutations } from "../store/session_index.ts";
import { Random } from "./random.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** What the history is made of: catalog ids and who learns where. */
export interface HistoryWorld {
  courses: { id: string; durationMinutes: number }[];
  /** Locations with their time zone; sessions there draw learners from `learners[locationId]`. */
  locations: { id: string; timeZone: string }[];
  instructors: string[];
  /** Learners (id and dealer) by location id; online sessions draw from all of them. */
  learners: Map<string, { id: string; dealerId: string | null }[]>;
}

/** How much history. */
export interface HistoryOptions {
  /** Confirmed bookings to generate. */
  bookings: number;
  /** Sessions end before this instant; the oldest start `days` before it. */
  now: Date;
  days: number;
  seed?: number;
  /** Also write `["events_by_learner", …]` (the seed: privacy export and erasure find them). */
  learnerIndex?: boolean;
  /** Called every 50,000 bookings. */
  progress?: (bookings: number, events: number) => void;
}

/** What was written. */
export interface HistoryCounts {
  sessions: number;
  bookings: number;
  events: number;
  altOffers: number;
  blobs: number;
}

/** Buffers KV mutations and commits them in atomic batches (at most 1,000 mutations, ~600 KB). */
class BatchWriter {
  #op: Deno.AtomicOperation;
  #n = 0;
  #bytes = 0;
  #inflight: Promise<unknown>[] = [];
  constructor(readonly kv: Deno.Kv) {
    this.#op = kv.atomic();
  }
  async set(key: Deno.KvKey, value: unknown, approxBytes = 300): Promise<void> {
    this.#op.set(key, value);
    this.#n++;
    this.#bytes += approxBytes;
    if (this.#n >= 900 || this.#bytes >= 600_000) await this.flush();
  }
  async sum(key: Deno.KvKey, n: bigint): Promise<void> {
    this.#op.sum(key, n);
    this.#n++;
    if (this.#n >= 900) await this.flush();
  }
  async flush(): Promise<void> {
    if (!this.#n) return;
    const op = this.#op;
    this.#op = this.kv.atomic();
    this.#n = 0;
    this.#bytes = 0;
    // Two commits in flight: the next batch is built while one is written.
    this.#inflight.push(
      op.commit().then((r) => {
        if (!r.ok) throw new Error("history batch refused");
      }),
    );
    if (this.#inflight.length >= 2) await this.#inflight.shift();
  }
  async done(): Promise<void> {
    await this.flush();
    await Promise.all(this.#inflight);
  }
}

/** Writes the history and its aggregates. */
export async function writeReportHistory(
  kv: Deno.Kv,
  world: HistoryWorld,
  options: HistoryOptions,
): Promise<HistoryCounts> {
  const rng = new Random(options.seed ?? 7);
  const w = new BatchWriter(kv);
  const metas = new Map<string, SessionMeta>();
  const dealers = new Map<string, string | null>();
  for (const list of world.learners.values()) for (const l of list) dealers.set(l.id, l.dealerId);
  const everyone = [...world.learners.values()].flat();
  const look: FoldLookup = { session: (id) => metas.get(id) ?? null, dealerOf: (id) => dealers.get(id) ?? null };
  const ledger = new Ledger();
  const counts: HistoryCounts = { sessions: 0, bookings: 0, events: 0, altOffers: 0, blobs: 0 };
  /** Bookings of learners who got an alternative offer (to decide it as the recount will). */
  const offers: AltOffer[] = [];
  const offerBookings = new Map<string, { sessionId: string; createdAtMs: number }[]>();
  /** Recent sessions per course: where alternatives come from. */
  const recentByCourse = new Map<string, string[]>();

  const emit = async (
    type: DomainEvent["type"],
    session: Session,
    learnerId: string,
    atMs: number,
    data: Record<string, unknown>,
  ) => {
    const key = ulid(atMs);
    const event: DomainEvent = {
      id: crypto.randomUUID(),
      key,
      type,
      schemaVersion: 1,
      occurredAt: new Date(atMs).toISOString(),
      origin: "web",
      correlationId: key,
      actor: { userId: learnerId },
      sessionId: session.id,
      learnerId,
      reason: null,
      data,
    };
    await w.set(keys.event(key), event, 420);
    if (options.learnerIndex) await w.set(keys.eventByLearner(learnerId, key), null, 60);
    foldEvent(ledger, event, look);
    counts.events++;
    if (type === "booking.confirmed") offerBookings.get(learnerId)?.push({ sessionId: session.id, createdAtMs: atMs });
  };

  const endMs = options.now.getTime() - DAY;
  const startMs = endMs - options.days * DAY;
  const sessionsNeeded = Math.max(1, Math.round(options.bookings / 16));
  const spacing = (endMs - startMs) / sessionsNeeded;
  let i = 0;
  while (counts.bookings < options.bookings) {
    // One session: course, place, time (business hours UTC), capacity 12–30.
    const course = rng.pick(world.courses);
    const online = rng.next() < 0.2 || !world.locations.length;
    const location = online ? null : rng.pick(world.locations);
    const day = Math.floor((startMs + i * spacing) / DAY) * DAY;
    const startsAtMs = day + rng.int(8, 16) * HOUR;
    i++;
    const capacity = rng.int(12, 30);
    const session: Session = {
      id: ulid(startsAtMs - 30 * DAY),
      courseId: course.id,
      startsAt: new Date(startsAtMs).toISOString(),
      endsAt: new Date(startsAtMs + course.durationMinutes * 60_000).toISOString(),
      timeZone: location?.timeZone ?? "America/New_York",
      mode: online ? "online" : "in_person",
      locationId: location?.id ?? null,
      joinUrl: online ? "https://meet.example.com/history" : null,
      capacity,
      instructorId: rng.pick(world.instructors),
      waitlistEnabled: true,
      status: "scheduled",
      calcom: null,
      createdAt: new Date(startsAtMs - 45 * DAY).toISOString(),
      updatedAt: new Date(startsAtMs - 45 * DAY).toISOString(),
    };
    for (const m of sessionWriteMutations(session)) if (m.type === "set") await w.set(m.key, m.value, 400);
    await w.set(keys.seats(session.id), { confirmed: 0, holds: 0, waiting: 0 }, 40);
    metas.set(session.id, sessionMeta(session));
    counts.sessions++;
    ledger.row(metas.get(session.id)!);

    const pool = location ? world.learners.get(location.id) ?? everyone : everyone;
    const seats = Math.min(
      options.bookings - counts.bookings,
      Math.max(1, Math.round(capacity * (0.55 + 0.45 * rng.next()))),
    );
    const full = seats === capacity;
    const offset = rng.int(0, Math.max(0, pool.length - 1));
    let views = 0;
    for (let s = 0; s < seats + Math.ceil(seats * 0.09); s++) {
      const learner = pool[(offset + s * 7) % pool.length];
      const bookedAt = startsAtMs - rng.int(1, 30) * DAY + rng.int(0, 23) * HOUR;
      views += rng.int(1, 4);
      if (s >= seats) {
        // Holds that never became bookings: expired or released.
        await emit("hold.placed", session, learner.id, bookedAt, { holdId: ulid(bookedAt), expiresAt: "" });
        const expired = rng.next() < 0.6;
        await emit(expired ? "hold.expired" : "hold.released", session, learner.id, bookedAt + 15 * 60_000, {
          holdId: "",
          kind: "hold",
        });
        continue;
      }
      const viaWaitlist = full && rng.next() < 0.08;
      if (viaWaitlist) {
        const joinedAt = bookedAt - rng.int(2, 72) * HOUR;
        await emit("waitlist.joined", session, learner.id, joinedAt, { joinedAt: new Date(joinedAt).toISOString() });
        await emit("waitlist.offered", session, learner.id, bookedAt - HOUR, {
          holdId: "",
          expiresAt: "",
          joinedAt: new Date(joinedAt).toISOString(),
        });
        await emit("booking.confirmed", session, learner.id, bookedAt, {
          bookingId: ulid(bookedAt),
          viaOffer: true,
          holdId: "x",
        });
      } else {
        await emit("hold.placed", session, learner.id, bookedAt - 5 * 60_000, { holdId: "", expiresAt: "" });
        await emit("booking.confirmed", session, learner.id, bookedAt, {
          bookingId: ulid(bookedAt),
          viaOffer: false,
          holdId: "x",
        });
      }
      counts.bookings++;
      const r = rng.next();
      if (r < 0.07) {
        const late = rng.next() < 0.35;
        const at = late ? startsAtMs - rng.int(1, 23) * HOUR : startsAtMs - rng.int(2, 10) * DAY;
        await emit("booking.cancelled", session, learner.id, Math.max(at, bookedAt + 60_000), { late });
      } else {
        const a = rng.next();
        const status = a < 0.88 ? "attended" : a < 0.97 ? "no_show" : "excused";
        await emit("attendance.recorded", session, learner.id, startsAtMs + 3 * HOUR, { status, previousStatus: null });
      }
      if (counts.bookings % 50_000 === 0) options.progress?.(counts.bookings, counts.events);
    }
    // Views (a few per attempt), counted for nobody's dealer.
    await w.sum(keys.reportViewCount(session.id, null), BigInt(views));
    foldViews(ledger, metas.get(session.id)!, null, views);

    // After a full session: learners refused, offered the course's recent sessions; some book one.
    const recent = recentByCourse.get(course.id) ?? [];
    if (full && recent.length) {
      const refused = rng.int(1, 3);
      for (let k = 0; k < refused; k++) {
        const learner = pool[(offset + (seats + k) * 7 + 3) % pool.length];
        const alternatives = recent.slice(-3);
        // Offered a few days before the alternatives start.
        const firstAlt = Math.min(...alternatives.map((id) => Date.parse(metas.get(id)!.startsAt)));
        const atMs = firstAlt - rng.int(2, 10) * DAY;
        const offer: AltOffer = {
          id: ulid(atMs),
          sessionId: session.id,
          learnerId: learner.id,
          alternatives,
          atMs,
          decided: true,
          accepted: false,
        };
        offers.push(offer);
        if (!offerBookings.has(learner.id)) offerBookings.set(learner.id, []);
        if (rng.next() < 0.62) {
          // Took one: a booking in an alternative within the day (counted in the alternative's row).
          const alt = metas.get(rng.pick(alternatives))!;
          const at = atMs + rng.int(1, 20) * HOUR;
          const altSession = { id: alt.id } as Session;
          await emit("hold.placed", altSession, learner.id, at - 60_000, { holdId: "", expiresAt: "" });
          await emit("booking.confirmed", altSession, learner.id, at, {
            bookingId: ulid(at),
            viaOffer: false,
            holdId: "x",
          });
          counts.bookings++;
        }
      }
    }
    recent.push(session.id);
    if (recent.length > 6) recent.shift();
    recentByCourse.set(course.id, recent);
  }

  for (const offer of offers) {
    const decided = { ...offer, accepted: offerAccepted(offer, offerBookings.get(offer.learnerId) ?? []) };
    await w.set(keys.reportAltOffer(decided.id), decided, 200);
    foldAltOffer(ledger, decided, look);
    counts.altOffers++;
  }
  for (const { key, blob } of ledger.changed()) {
    await w.set(key, blob, JSON.stringify(blob).length);
    counts.blobs++;
  }
  await w.set(keys.reportMeta("version"), ulid(), 40);
  await w.done();
  return counts;
}

/** Bookings of demo history `seedReportHistory` writes (about 190 past sessions). */
export const DEMO_HISTORY_BOOKINGS = 3_000;

/**
 * The demo seed's past: {@link DEMO_HISTORY_BOOKINGS} bookings over the last 120 days, drawn from
 * the seeded catalog and people (learners at their preferred center), so `/admin/reports` shows
 * real figures on a fresh `deno task start`. Once per store (`["meta", "report_history"]`); false
 * when already there or when there is no catalog to draw on.
 */
export async function seedReportHistory(kv: Deno.Kv, options: { now?: Date } = {}): Promise<boolean> {
  const marker = keys.reportHistoryMarker();
  if ((await kv.get(marker)).value) return false;
  const list = async <T>(prefix: string) =>
    (await Array.fromAsync(kv.list<T>({ prefix: [prefix] }))).map((e) => e.value);
  const [courses, locations, users] = await Promise.all([
    list<{ id: string; durationMinutes: number; active?: boolean }>("courses"),
    list<{ id: string; timeZone: string }>("locations"),
    list<{ id: string; roles: string[]; dealerId: string | null; preferredLocationId?: string | null }>("users"),
  ]);
  const instructors = users.filter((u) => u.roles.includes("instructor")).map((u) => u.id);
  const learnerList = users.filter((u) => u.roles.includes("learner"));
  if (!courses.length || !instructors.length || !learnerList.length) return false;
  const learners = new Map<string, { id: string; dealerId: string | null }[]>(locations.map((l) => [l.id, []]));
  learnerList.forEach((u, i) => {
    const at = u.preferredLocationId && learners.has(u.preferredLocationId)
      ? u.preferredLocationId
      : locations[i % Math.max(1, locations.length)]?.id;
    if (at) learners.get(at)!.push({ id: u.id, dealerId: u.dealerId ?? null });
  });
  for (const [id, l] of learners) if (!l.length) learners.delete(id);
  const claimed = await kv.atomic().check({ key: marker, versionstamp: null }).set(marker, {
    at: new Date().toISOString(),
  }).commit();
  if (!claimed.ok) return false;
  await writeReportHistory(kv, {
    courses: courses.filter((c) => c.active !== false).map((c) => ({ id: c.id, durationMinutes: c.durationMinutes })),
    locations: locations.filter((l) => learners.has(l.id)),
    instructors,
    learners: learners.size
      ? learners
      : new Map([["online", learnerList.map((u) => ({ id: u.id, dealerId: u.dealerId ?? null }))]]),
  }, { bookings: DEMO_HISTORY_BOOKINGS, now: options.now ?? new Date(), days: 120, learnerIndex: true });
  return true;
}
