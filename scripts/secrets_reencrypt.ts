/**
 * Moves every secret stored in KV (Cal.com tenants' API keys and webhook secrets) to the current
 * key: the first of SECRETS_KEYS. Run after putting a new key first (keep the old one after it
 * until this finishes); then the old key can be removed.
 *
 *   SECRETS_KEYS=new:...,old:... deno task secrets:reencrypt
 *
 * The store is `DENO_KV_PATH` or ./data/app.kv. Prints counts only, never a secret.
 */
import { reencryptTenantSecrets } from "../lib/calcom/tenants.ts";
import { keyring } from "../lib/secrets/keyring.ts";
import { openStore } from "../lib/store/kv.ts";

const kv = await openStore();
try {
  const ring = await keyring();
  const r = await reencryptTenantSecrets(kv, ring);
  console.log(
    `secrets: ${r.rewritten} tenant(s) re-encrypted with key "${ring.current.id}", ${r.current} already current`,
  );
} catch (err) {
  console.error((err as Error).message);
  Deno.exitCode = 1;
} finally {
  kv.close();
}
