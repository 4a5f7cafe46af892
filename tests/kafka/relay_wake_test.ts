import assert from "node:assert/strict";
import { Draft } from "../../lib/booking/draft.ts";
import { addEvent } from "../../lib/booking/events.ts";
import type { OutboundMessage } from "../../lib/relay/publisher.ts";
import { EventRelay } from "../../lib/relay/relay.ts";
import { createLearners, createTinyCatalog, waitFor } from "./relay_fixture.ts";

Deno.test("[relay] a wake-up that comes while a page is being read is not lost to the idle wait", async () => {
  const kv = await Deno.openKv(":memory:");
  const { instructor } = await createTinyCatalog(kv);
  const [learner] = await createLearners(kv, 1);
  const published: OutboundMessage[] = [];
  let relay: EventRelay | null = null;
  let armed = false;
  const commitOne = async () => {
    const draft = new Draft(kv);
    const actor = { userId: learner.user.id, origin: "api" as const, correlationId: crypto.randomUUID() };
    addEvent(draft, actor, "hold.placed", instructor.id, learner.user.id, { holdId: "h" }, new Date());
    assert.ok(await draft.commit());
  };
  // The store as the relay sees it: when armed, the next outbox read commits an event and wakes
  // the relay just after the read finished (as a queue wake-up landing mid-page does).
  const spied = new Proxy(kv, {
    get(target, prop) {
      if (prop === "list") {
        return (selector: Deno.KvListSelector, options?: Deno.KvListOptions) => {
          const inner = target.list(selector, options);
          if (!armed) return inner;
          armed = false;
          return (async function* () {
            yield* inner;
            await commitOne();
            relay!.wake();
          })();
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  relay = new EventRelay(spied, {
    connect: () => Promise.resolve(),
    publish: (m) => {
      published.push(...m);
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  }, { idleMs: 20_000, log: () => {} });
  try {
    relay.start();
    await waitFor(() => "the relay running", () => relay!.status().state === "running", 5_000, 10);
    armed = true;
    relay.wake();
    const t0 = Date.now();
    await waitFor(() => "the event committed mid-page", () => published.length === 1, 5_000, 10);
    assert.ok(Date.now() - t0 < 2_000, `delivered after ${Date.now() - t0} ms (idle wait 20 s)`);
  } finally {
    await relay.stop();
    kv.close();
  }
});
