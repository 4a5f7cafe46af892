/**
 * Browser side of island props transport: the inverse of `serialize.ts`.
 * Kept free of server imports because it ships in the client bundle.
 * @module
 */

/** Creates a signal holding `value` (e.g. `signal` from `@preact/signals`). */
export type SignalFactory = (value: unknown) => { value: unknown };

interface State {
  props: unknown[];
  signals: unknown[];
}

function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * Revive the props of every island from the parsed `__FRSH_STATE` JSON.
 * Each signal id becomes exactly one signal, whichever island refers to it.
 */
export function deserializeProps(
  state: State,
  createSignal: SignalFactory,
): Record<string, unknown>[] {
  const signals = new Map<number, { value: unknown }>();

  function signalFor(id: number): { value: unknown } {
    let sig = signals.get(id);
    if (!sig) {
      sig = createSignal(undefined);
      signals.set(id, sig);
      sig.value = revive(state.signals[id]);
    }
    return sig;
  }

  function revive(value: unknown): unknown {
    if (value === null || typeof value !== "object") return value;
    if (Array.isArray(value)) return value.map(revive);
    const record = value as Record<string, unknown>;
    switch (record.$) {
      case "D":
        return new Date(record.v === null ? NaN : record.v as number);
      case "U":
        return base64ToBytes(record.v as string);
      case "S":
        return signalFor(record.v as number);
      case "O":
        return reviveObject(record.v as Record<string, unknown>);
    }
    return reviveObject(record);
  }

  function reviveObject(record: Record<string, unknown>) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(record)) out[key] = revive(record[key]);
    return out;
  }

  return state.props.map((p) => revive(p) as Record<string, unknown>);
}
