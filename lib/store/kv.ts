/** Default KV file when neither an argument nor `DENO_KV_PATH` names one. */
export const DEFAULT_KV_PATH = "./data/app.kv";

function envPath(): string | undefined {
  try {
    return Deno.env.get("DENO_KV_PATH") || undefined;
  } catch {
    return undefined; // no --allow-env: fall back to the default
  }
}

function isRemoteOrMemory(path: string): boolean {
  return path === ":memory:" || /^https?:\/\//.test(path);
}

/**
 * Opens the application's Deno KV store.
 *
 * The path comes from `path`, else env `DENO_KV_PATH`, else `./data/app.kv`.
 * The parent folder of a file path is created when missing. `":memory:"` and
 * `http(s)://` URLs (a `denokv` server) are passed through unchanged.
 */
export async function openStore(path?: string): Promise<Deno.Kv> {
  const target = path ?? envPath() ?? DEFAULT_KV_PATH;
  if (!isRemoteOrMemory(target)) {
    const slash = target.lastIndexOf("/");
    if (slash > 0) await Deno.mkdir(target.slice(0, slash), { recursive: true });
  }
  return await Deno.openKv(target);
}
