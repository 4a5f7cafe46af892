/** Test helper: every entry of a store as text (key and value), for "nothing secret or personal left" scans. */

function text(value: unknown): string {
  return JSON.stringify(value, (_k, v) => {
    if (typeof v === "bigint") return v.toString();
    if (v instanceof Deno.KvU64) return v.value.toString();
    if (v instanceof Uint8Array) return new TextDecoder().decode(v);
    return v;
  }) ?? "";
}

/** One line per entry: `key → value`, JSON. */
export async function dumpKv(kv: Deno.Kv): Promise<string[]> {
  const out: string[] = [];
  for await (const e of kv.list({ prefix: [] })) out.push(`${text(e.key)} → ${text(e.value)}`);
  return out;
}

/** The dump's lines that contain any of `needles` (case-insensitive). */
export async function linesContaining(kv: Deno.Kv, needles: readonly string[]): Promise<string[]> {
  const ns = needles.map((n) => n.toLowerCase());
  return (await dumpKv(kv)).filter((line) => ns.some((n) => line.toLowerCase().includes(n)));
}

/** Captures console output while `fn` runs; returns what was written. */
export async function captureConsole<T>(fn: () => Promise<T>): Promise<{ result: T; output: string[] }> {
  const output: string[] = [];
  const methods = ["log", "error", "warn", "info", "debug"] as const;
  const saved = methods.map((m) => console[m]);
  for (const m of methods) console[m] = (...args: unknown[]) => output.push(args.map(String).join(" "));
  try {
    return { result: await fn(), output };
  } finally {
    methods.forEach((m, i) => console[m] = saved[i]);
  }
}
