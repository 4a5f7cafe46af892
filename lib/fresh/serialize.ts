/**
 * Server side of island props transport. Props become plain JSON where the
 * special values are tagged objects `{"$": tag, "v": value}`:
 * `D` Date (epoch ms), `U` Uint8Array (base64), `S` signal (index into the
 * shared signal table), `O` an ordinary object that itself has a `$` key.
 * `deserialize.ts` is the inverse and runs in the browser.
 * @module
 */
import { isValidElement } from "preact";

/** Wire format of `<script id="__FRSH_STATE">`. */
export interface SerializedState {
  /** Encoded props, one entry per island instance (the marker's `N`). */
  props: unknown[];
  /** Encoded values of the signals referenced by `{"$":"S"}` tags. */
  signals: unknown[];
}

/** Thrown when an island prop cannot be sent to the browser. */
export class IslandPropsError extends Error {
  constructor(island: string, path: string, problem: string) {
    super(
      `Island "${island}" prop "${path}" ${problem}; island props must be serialisable`,
    );
    this.name = "IslandPropsError";
  }
}

interface SignalLike {
  peek(): unknown;
}

const SIGNAL_BRAND = Symbol.for("preact-signals");

function isSignal(value: object): value is SignalLike {
  return (value as { brand?: unknown }).brand === SIGNAL_BRAND &&
    typeof (value as SignalLike).peek === "function";
}

/** Base64 of bytes, chunked to stay clear of argument-count limits. */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function childPath(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function describe(value: unknown): string {
  switch (typeof value) {
    case "function":
      return "is a function";
    case "symbol":
      return "is a Symbol";
    case "bigint":
      return "is a BigInt";
  }
  if (value instanceof Map) return "is a Map";
  if (value instanceof Set) return "is a Set";
  const name = (value as object).constructor?.name;
  return name ? `is an instance of ${name}` : "is not a plain object";
}

/**
 * Collects the props of every island on one page. One serializer per page so
 * a signal passed to several islands is sent once and revived as one signal.
 */
export class PropsSerializer {
  #props: unknown[] = [];
  #signals: unknown[] = [];
  #signalIds = new Map<SignalLike, number>();
  #island = "";

  /** Encode `props` of island `island`; returns its index (marker `N`). */
  add(island: string, props: Record<string, unknown>): number {
    this.#island = island;
    const encoded: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined) continue;
      if (key === "children" && isValidElement(value)) {
        throw new IslandPropsError(
          island,
          key,
          "is JSX; passing JSX children (slots) to islands is not supported, pass data props instead",
        );
      }
      encoded[key] = this.#encode(value, key, []);
    }
    this.#props.push(encoded);
    return this.#props.length - 1;
  }

  /** Number of islands added so far. */
  get size(): number {
    return this.#props.length;
  }

  /** The collected state, ready for `JSON.stringify`. */
  state(): SerializedState {
    return { props: this.#props, signals: this.#signals };
  }

  /** JSON text safe to embed inside a `<script>` element. */
  toScriptJson(): string {
    return JSON.stringify(this.state())
      .replace(/</g, "\\u003c")
      .replace(/\u2028/g, "\\u2028")
      .replace(/\u2029/g, "\\u2029");
  }

  #fail(path: string, problem: string): never {
    throw new IslandPropsError(this.#island, path, problem);
  }

  #encode(value: unknown, path: string, ancestors: object[]): unknown {
    if (value === null) return null;
    switch (typeof value) {
      case "string":
      case "boolean":
        return value;
      case "number":
        return Number.isFinite(value) ? value : null;
      case "undefined":
        return null; // only reachable inside arrays, like JSON.stringify
      case "object":
        break;
      default:
        this.#fail(path, describe(value));
    }
    const obj = value as object;
    if (ancestors.includes(obj)) this.#fail(path, "is a circular reference");
    if (obj instanceof Date) return { $: "D", v: obj.getTime() };
    if (obj instanceof Uint8Array) return { $: "U", v: bytesToBase64(obj) };
    if (isSignal(obj)) return { $: "S", v: this.#signalId(obj, path) };
    if (isValidElement(obj)) this.#fail(path, "is JSX");
    const inner = [...ancestors, obj];
    if (Array.isArray(obj)) {
      return obj.map((item, i) => this.#encode(item, childPath(path, i), inner));
    }
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      this.#fail(path, describe(obj));
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(obj)) {
      if (item === undefined) continue;
      out[key] = this.#encode(item, childPath(path, key), inner);
    }
    return "$" in out ? { $: "O", v: out } : out;
  }

  #signalId(signal: SignalLike, path: string): number {
    const known = this.#signalIds.get(signal);
    if (known !== undefined) return known;
    const id = this.#signals.length;
    this.#signalIds.set(signal, id);
    this.#signals.push(null);
    // A signal holding itself (directly or not) is a cycle the browser
    // could rebuild, but Fresh rejects it and so do we.
    this.#signals[id] = this.#encode(signal.peek(), `${path}.value`, [signal]);
    return id;
  }
}
