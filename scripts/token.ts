/**
 * Mints an API token for a user and prints it (the only time it is shown; KV keeps its hash).
 *
 *   deno task token <email> [--label "HR sync"]
 *
 * The store is `DENO_KV_PATH` or ./data/app.kv.
 */
import { mintTokenForEmail } from "../lib/auth/tokens.ts";
import { openStore } from "../lib/store/kv.ts";

const args = [...Deno.args];
let label: string | null = null;
const at = args.indexOf("--label");
if (at >= 0) {
  label = args[at + 1] ?? null;
  args.splice(at, 2);
}
if (args.length !== 1 || !label && at >= 0) {
  console.error('Usage: deno task token <email> [--label "what it is for"]');
  Deno.exit(2);
}

const kv = await openStore();
try {
  const { token, userId } = await mintTokenForEmail(kv, args[0], label);
  console.error(`Token for ${args[0]} (user ${userId}); store it now, it cannot be shown again:`);
  console.log(token);
} catch (err) {
  console.error((err as Error).message);
  Deno.exitCode = 1;
} finally {
  kv.close();
}
