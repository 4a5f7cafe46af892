/**
 * Manages Cal.com tenants (several Cal.com accounts). The single-tenant setup needs none of this:
 * it is the `default` tenant from CALCOM_API_URL, CALCOM_API_KEY and CALCOM_WEBHOOK_SECRET.
 *
 *   deno task calcom:tenant set <slug> --url U [--key K] [--secret S] [--locations a,b] [--event-types 1,2]
 *   deno task calcom:tenant list
 *   deno task calcom:tenant remove <slug>
 *
 * `set` keeps a stored key or secret when its option is left out. Keys and secrets are stored in
 * KV and never printed. The store is `DENO_KV_PATH` or ./data/app.kv.
 */
import { parseTenantArgs, runTenantCommand, TENANT_USAGE } from "../lib/calcom/tenant_admin.ts";
import { loadConfig } from "../lib/config.ts";
import { openStore } from "../lib/store/kv.ts";

let command;
try {
  command = parseTenantArgs(Deno.args);
} catch (err) {
  console.error((err as Error).message);
  Deno.exit(2);
}

const kv = await openStore();
try {
  for (const line of await runTenantCommand(kv, loadConfig(), command)) console.log(line);
} catch (err) {
  console.error((err as Error).message || TENANT_USAGE);
  Deno.exitCode = 1;
} finally {
  kv.close();
}
