import assert from "node:assert/strict";
import { createUser } from "../store/users.ts";
import { resolvePrincipal } from "./principal.ts";
import {
  createPageSession,
  deactivateUser,
  endUserSessions,
  resolvePageSession,
  SESSION_COOKIE,
  type SessionSettings,
  signOut,
} from "./sessions.ts";

const HOUR = 3_600_000;
const T0 = Date.UTC(2030, 0, 7, 9, 0, 0);

async function withUser(fn: (kv: Deno.Kv, userId: string) => Promise<void>): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  try {
    const user = await createUser(kv, { email: "pat@example.com", name: "Pat", roles: ["admin"] });
    await fn(kv, user.id);
  } finally {
    kv.close();
  }
}

async function count(kv: Deno.Kv, prefix: string): Promise<number> {
  let n = 0;
  for await (const _ of kv.list({ prefix: [prefix] })) n++;
  return n;
}

function settings(now: () => number, devLogin = true): SessionSettings {
  return { idleMs: 8 * HOUR, absoluteMs: 7 * 24 * HOUR, devLogin, now };
}

Deno.test("[auth] forged or tampered session cookies are refused: a bare user id, an old dev cookie, a re-signed value, one changed digit", async () => {
  await withUser(async (kv, userId) => {
    const id = await createPageSession(kv, userId, { via: "oidc", absoluteMs: 7 * 24 * HOUR });
    const key = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode("another-key"),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(userId)));
    const resigned = `${userId}.${Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("")}`;
    const flipped = id.slice(0, -1) + (id.endsWith("0") ? "1" : "0");
    const before = await count(kv, "auth_sessions");
    const forged = [
      `${SESSION_COOKIE}=${userId}`,
      `tb_dev_user=${userId}`,
      `${SESSION_COOKIE}=${resigned}`,
      `tb_dev_user=${resigned}`,
      `${SESSION_COOKIE}=${flipped}`,
      `${SESSION_COOKIE}=${id.toUpperCase()}`,
      `${SESSION_COOKIE}=${"0".repeat(64)}`,
    ];
    for (const cookie of forged) {
      const out = await resolvePrincipal(kv, new Headers({ cookie }), {
        adminToken: null,
        sessions: settings(Date.now),
      });
      assert.deepEqual(out, { principal: null, failure: null }, cookie);
    }
    const good = await resolvePrincipal(kv, new Headers({ cookie: `${SESSION_COOKIE}=${id}` }), {
      adminToken: null,
      sessions: settings(Date.now),
    });
    assert.equal(good.principal?.userId, userId, "the real id works");
    assert.equal(good.principal?.via, "session");
    assert.equal(await count(kv, "auth_sessions"), before, "nothing written by the forgeries");
    assert.equal(await count(kv, "users"), 1);
  });
});

Deno.test("[auth] a session ends after the idle timeout and after the absolute timeout, and is deleted then", async () => {
  await withUser(async (kv, userId) => {
    let now = T0;
    const clock = () => now;
    const idle = await createPageSession(kv, userId, { via: "oidc", absoluteMs: 7 * 24 * HOUR, now: clock });
    now = T0 + 8 * HOUR - 1;
    assert.ok(await resolvePageSession(kv, idle, settings(clock)), "used just inside the idle limit");
    now += 8 * HOUR - 1;
    assert.ok(await resolvePageSession(kv, idle, settings(clock)), "use moved the idle limit on");
    now += 8 * HOUR + 1;
    assert.equal(await resolvePageSession(kv, idle, settings(clock)), null, "idle too long");

    now = T0;
    const busy = await createPageSession(kv, userId, { via: "oidc", absoluteMs: 7 * 24 * HOUR, now: clock });
    for (let h = 4; h < 7 * 24; h += 4) {
      now = T0 + h * HOUR;
      assert.ok(await resolvePageSession(kv, busy, settings(clock)), `hour ${h}`);
    }
    now = T0 + 7 * 24 * HOUR + 1;
    assert.equal(await resolvePageSession(kv, busy, settings(clock)), null, "past the absolute limit, however busy");
    assert.equal(await count(kv, "auth_sessions"), 0, "both deleted");
    assert.equal(await count(kv, "auth_sessions_by_user"), 0);
  });
});

Deno.test("[auth] dev sessions are refused once dev sign-in is off; a deactivated user's sessions and new sign-ins are refused", async () => {
  await withUser(async (kv, userId) => {
    const dev = await createPageSession(kv, userId, { via: "dev", absoluteMs: HOUR });
    assert.ok(await resolvePageSession(kv, dev, settings(Date.now, true)));
    assert.equal(await resolvePageSession(kv, dev, settings(Date.now, false)), null, "DEV_LOGIN=0 (or production)");
    const a = await createPageSession(kv, userId, { via: "oidc", absoluteMs: HOUR });
    const b = await createPageSession(kv, userId, { via: "oidc", absoluteMs: HOUR });
    assert.equal(await deactivateUser(kv, userId), 3, "all three ended");
    for (const id of [dev, a, b]) assert.equal(await resolvePageSession(kv, id, settings(Date.now)), null);
    const late = await createPageSession(kv, userId, { via: "oidc", absoluteMs: HOUR });
    assert.equal(await resolvePageSession(kv, late, settings(Date.now)), null, "inactive users are nobody");
  });
});

Deno.test("[auth] sign out ends one session; sign out everywhere ends all of the user's, not other users'", async () => {
  await withUser(async (kv, userId) => {
    const other = await createUser(kv, { email: "sam@example.com", name: "Sam", roles: ["learner"] });
    const mk = (u: string) => createPageSession(kv, u, { via: "oidc", absoluteMs: HOUR });
    const [a, b, c, s] = [await mk(userId), await mk(userId), await mk(userId), await mk(other.id)];
    assert.equal(await signOut(kv, a, { everywhere: false }), "oidc");
    assert.equal(await resolvePageSession(kv, a, settings(Date.now)), null);
    assert.ok(await resolvePageSession(kv, b, settings(Date.now)), "the others stay");
    assert.equal(await signOut(kv, b, { everywhere: true }), "oidc");
    assert.equal(await resolvePageSession(kv, c, settings(Date.now)), null, "everywhere");
    assert.ok(await resolvePageSession(kv, s, settings(Date.now)), "another user's session stays");
    assert.equal(await signOut(kv, b, { everywhere: true }), null, "twice: nothing to end");
    assert.equal(await endUserSessions(kv, other.id), 1);
  });
});
