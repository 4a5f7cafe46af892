/**
 * After a scenario: how many seats its sessions really have taken, recounted from the hold and
 * booking records (not from the counters the engine maintains), against capacity and against the
 * 201s the clients saw.
 */
import { keys } from "../lib/store/keys.ts";
import type { Hold, Session } from "../lib/booking/model.ts";

/** Seats taken per the records. */
export interface Recount {
  sessions: number;
  capacity: number;
  /** Live holds (status active, not expired) plus confirmed bookings, over the sessions. */
  taken: number;
  /** Sum over sessions of seats taken beyond capacity. */
  oversold: number;
  /** Sessions with more seats taken than capacity. */
  oversoldSessions: number;
}

/** Recounts the sessions from `["holds_by_session", id]` → `["holds", holdId]` and bookings. */
export async function recountSessions(kv: Deno.Kv, sessions: Session[], now = Date.now()): Promise<Recount> {
  const out: Recount = { sessions: sessions.length, capacity: 0, taken: 0, oversold: 0, oversoldSessions: 0 };
  for (const s of sessions) {
    const holdIds: string[] = [];
    for await (const e of kv.list<string>({ prefix: keys.holdsBySessionPrefix(s.id) })) holdIds.push(e.value);
    let taken = 0;
    for (let i = 0; i < holdIds.length; i += 10) {
      const got = await kv.getMany<Hold[]>(holdIds.slice(i, i + 10).map(keys.hold));
      for (const g of got) {
        if (g.value && g.value.status === "active" && Date.parse(g.value.expiresAt) > now) taken++;
      }
    }
    for await (const e of kv.list<string>({ prefix: keys.bookingsBySessionPrefix(s.id) })) {
      const b = await kv.get<{ status: string }>(keys.booking(e.value));
      if (b.value?.status === "confirmed") taken++;
    }
    out.capacity += s.capacity;
    out.taken += taken;
    if (taken > s.capacity) {
      out.oversold += taken - s.capacity;
      out.oversoldSessions++;
    }
  }
  return out;
}
