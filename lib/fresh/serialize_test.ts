import assert from "node:assert/strict";
import { signal } from "@preact/signals-core";
import { h } from "preact";
import { deserializeProps } from "./deserialize.ts";
import { IslandPropsError, PropsSerializer } from "./serialize.ts";

function roundTrip(serializer: PropsSerializer) {
  const json = JSON.parse(serializer.toScriptJson());
  return deserializeProps(json, (v) => signal(v));
}

Deno.test("[fresh] props round trip JSON values, Date and Uint8Array", () => {
  const s = new PropsSerializer();
  const when = new Date("2024-05-06T07:08:09.123Z");
  s.add("A", {
    text: "hi </script>",
    n: 1.5,
    ok: true,
    nothing: null,
    list: [1, undefined, "x"],
    nested: { when, gone: undefined, $: "dollar", deeper: { $: "O" } },
    bytes: new Uint8Array([0, 1, 254, 255]),
    skipped: undefined,
  });
  const [props] = roundTrip(s);
  assert.deepEqual(props, {
    text: "hi </script>",
    n: 1.5,
    ok: true,
    nothing: null,
    list: [1, null, "x"],
    nested: { when, $: "dollar", deeper: { $: "O" } },
    bytes: new Uint8Array([0, 1, 254, 255]),
  });
  assert.ok((props.nested as { when: unknown }).when instanceof Date);
  assert.ok(props.bytes instanceof Uint8Array);
  assert.ok(!s.toScriptJson().includes("</script>"));
});

Deno.test("[fresh] a signal shared by two islands revives as one signal", () => {
  const s = new PropsSerializer();
  const count = signal(3);
  const other = signal({ at: new Date(0) });
  assert.equal(s.add("A", { count }), 0);
  assert.equal(s.add("B", { count, other }), 1);
  assert.equal(s.state().signals.length, 2);
  const [a, b] = roundTrip(s) as { count: { value: number } }[];
  assert.equal(a.count, b.count);
  assert.equal(a.count.value, 3);
  a.count.value = 4;
  assert.equal(b.count.value, 4);
  const revived = (b as unknown as { other: { value: { at: Date } } }).other;
  assert.ok(revived.value.at instanceof Date);
});

Deno.test("[fresh] non-serialisable props fail naming island and prop path", () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ onClick: () => {} }, `Island "Counter" prop "onClick" is a function`],
    [{ a: { b: [1, new Map()] } }, `Island "Counter" prop "a.b[1]" is a Map`],
    [{ s: new Set() }, `prop "s" is a Set`],
    [{ u: new URL("http://x") }, `prop "u" is an instance of URL`],
    [{ sym: Symbol("x") }, `prop "sym" is a Symbol`],
    [{ big: 1n }, `prop "big" is a BigInt`],
    [{ "odd key": { "a-b": () => 1 } }, `prop "odd key[\"a-b\"]" is a function`],
    [{ children: h("p", null) }, `prop "children" is JSX`],
  ];
  for (const [props, message] of cases) {
    assert.throws(
      () => new PropsSerializer().add("Counter", props),
      (err: unknown) => {
        assert.ok(err instanceof IslandPropsError);
        assert.ok(err.message.includes(message), `${err.message} ∌ ${message}`);
        assert.ok(err.message.endsWith("island props must be serialisable"));
        return true;
      },
    );
  }
});

Deno.test("[fresh] exact error text for a function prop", () => {
  assert.throws(
    () => new PropsSerializer().add("Counter", { onClick: () => {} }),
    {
      message: `Island "Counter" prop "onClick" is a function; island props must be serialisable`,
    },
  );
});

Deno.test("[fresh] circular props are rejected, repeated ones are not", () => {
  const loop: Record<string, unknown> = { name: "loop" };
  loop.self = loop;
  assert.throws(
    () => new PropsSerializer().add("A", { loop }),
    /prop "loop\.self" is a circular reference/,
  );
  const shared = { x: 1 };
  const s = new PropsSerializer();
  s.add("A", { left: shared, right: shared });
  assert.deepEqual(roundTrip(s)[0], { left: { x: 1 }, right: { x: 1 } });
  const selfish = signal<unknown>(null);
  selfish.value = { me: selfish };
  assert.throws(
    () => new PropsSerializer().add("A", { selfish }),
    /circular reference/,
  );
});

Deno.test("[fresh] string children are allowed, invalid dates survive as Invalid Date", () => {
  const s = new PropsSerializer();
  s.add("A", { children: ["Hello ", "Bob"], when: new Date(NaN) });
  const [props] = roundTrip(s);
  assert.deepEqual(props.children, ["Hello ", "Bob"]);
  assert.ok(Number.isNaN((props.when as Date).getTime()));
});
