/**
 * Encryption of secrets at rest (Cal.com API keys and webhook secrets in KV): AES-256-GCM through
 * Web Crypto, with key ids so keys can rotate.
 *
 * Keys come from `SECRETS_KEYS=id1:base64,id2:base64` (32 bytes each, base64): the FIRST is the
 * current key (new writes use it); the others still decrypt what they wrote until
 * `deno task secrets:reencrypt` has moved everything to the current one. Without `SECRETS_KEYS`
 * (demos, tests) a key is generated on first use and kept in `SECRETS_KEY_FILE` (default
 * `./data/secrets.key`, mode 0600, outside KV, so a copy of the store alone reveals nothing); in
 * production (`APP_ENV=production`, or on Deno Deploy unless `APP_ENV` says otherwise) the process refuses to start without
 * `SECRETS_KEYS`.
 *
 * Sealed format (a string, so it fits the records as they are): `enc:v1:<keyId>:<iv>:<ciphertext>`,
 * both base64url; the additional data binds a value to where it is stored (e.g.
 * `calcom_tenants/acme/apiKey`), so a sealed value copied to another record does not decrypt.
 */

import { onDenoDeploy } from "../store/kv.ts";

/** Prefix of every sealed value. */
export const SEALED_PREFIX = "enc:v1:";

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/** One key. */
export interface SecretKey {
  id: string;
  key: CryptoKey;
}

/** The current key and every key that may still decrypt. */
export interface Keyring {
  current: SecretKey;
  byId: Map<string, SecretKey>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function b64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

function fromB64(s: string): Uint8Array {
  const std = s.replaceAll("-", "+").replaceAll("_", "/");
  const bin = atob(std + "=".repeat((4 - std.length % 4) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

async function importKey(raw: Uint8Array): Promise<CryptoKey> {
  return await crypto.subtle.importKey("raw", raw as BufferSource, "AES-GCM", false, ["encrypt", "decrypt"]);
}

/**
 * Parses `id1:base64,id2:base64` (the first is current). Throws a message naming the variable and
 * the bad entry's id, never the key itself.
 */
export async function parseKeyring(spec: string): Promise<Keyring> {
  const entries = spec.split(",").map((s) => s.trim()).filter(Boolean);
  if (!entries.length) throw new Error("SECRETS_KEYS is empty");
  const byId = new Map<string, SecretKey>();
  let current: SecretKey | null = null;
  for (const [i, entry] of entries.entries()) {
    const colon = entry.indexOf(":");
    const id = colon > 0 ? entry.slice(0, colon) : "";
    if (!KEY_ID.test(id)) {
      throw new Error(`SECRETS_KEYS entry ${i + 1}: needs "id:base64" with an id of letters, digits, - or _`);
    }
    let raw: Uint8Array;
    try {
      raw = fromB64(entry.slice(colon + 1));
    } catch {
      throw new Error(`SECRETS_KEYS key "${id}" is not base64`);
    }
    if (raw.length !== 32) throw new Error(`SECRETS_KEYS key "${id}" must be 32 bytes (got ${raw.length})`);
    if (byId.has(id)) throw new Error(`SECRETS_KEYS names key "${id}" twice`);
    const key = { id, key: await importKey(raw) };
    byId.set(id, key);
    current ??= key;
  }
  return { current: current!, byId };
}

/** A new random key in `SECRETS_KEYS` form (`id:base64`). */
export function generateKeySpec(id: string): string {
  return `${id}:${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;
}

/** Whether the environment declares production, as lib/config.ts reads it: `APP_ENV=production`, or Deno Deploy. */
export function isProductionEnv(env: Record<string, string | undefined>): boolean {
  return env.APP_ENV ? env.APP_ENV.toLowerCase() === "production" : onDenoDeploy(env);
}

/**
 * The keyring from the environment: `SECRETS_KEYS`, or (outside production) the local key file,
 * created on first use. Refuses production without `SECRETS_KEYS`.
 */
export async function loadKeyring(env: Record<string, string | undefined> = Deno.env.toObject()): Promise<Keyring> {
  if (env.SECRETS_KEYS) return await parseKeyring(env.SECRETS_KEYS);
  if (isProductionEnv(env)) {
    throw new Error("SECRETS_KEYS is required in production (id:base64 of 32 random bytes; see README)");
  }
  const path = env.SECRETS_KEY_FILE || "./data/secrets.key";
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
  await Deno.mkdir(dir, { recursive: true });
  try {
    await Deno.writeTextFile(path, generateKeySpec("local") + "\n", { createNew: true, mode: 0o600 });
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
  }
  return await parseKeyring((await Deno.readTextFile(path)).trim());
}

let active: Promise<Keyring> | null = null;

/** The process's keyring (loaded once from the environment). */
export function keyring(): Promise<Keyring> {
  active ??= loadKeyring();
  return active;
}

/** Replaces the process's keyring (tests, and the re-encrypt task after parsing its own). */
export function useKeyring(ring: Keyring | null): void {
  active = ring ? Promise.resolve(ring) : null;
}

/** Whether a stored value is sealed. */
export function isSealed(value: string): boolean {
  return value.startsWith(SEALED_PREFIX);
}

/** The id of the key a sealed value was written with (null for plain values). */
export function sealedKeyId(value: string): string | null {
  return isSealed(value) ? value.slice(SEALED_PREFIX.length).split(":")[0] : null;
}

/** Encrypts `plain` with the current key, bound to `where` (additional data). */
export async function seal(ring: Keyring, plain: string, where: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: encoder.encode(where) },
      ring.current.key,
      encoder.encode(plain),
    ),
  );
  return `${SEALED_PREFIX}${ring.current.id}:${b64url(iv)}:${b64url(ct)}`;
}

/**
 * Decrypts a sealed value (a plain one, written before encryption, is returned as it is). Throws
 * when its key is not in the ring or it was tampered with or moved.
 */
export async function unseal(ring: Keyring, stored: string, where: string): Promise<string> {
  if (!isSealed(stored)) return stored;
  const [id, iv, ct] = stored.slice(SEALED_PREFIX.length).split(":");
  const key = ring.byId.get(id);
  if (!key) throw new Error(`a secret at ${where} was sealed with key "${id}", which SECRETS_KEYS does not hold`);
  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: fromB64(iv) as BufferSource, additionalData: encoder.encode(where) },
      key.key,
      fromB64(ct) as BufferSource,
    );
    return decoder.decode(plain);
  } catch {
    throw new Error(`the secret at ${where} does not decrypt with key "${id}" (tampered with or moved)`);
  }
}
