/**
 * Finds Cal.com's reference data (`../shared/calcom/` beside the repository: the OpenAPI document
 * and webhook examples). A fresh clone has none, so tests that need it skip with a message; under
 * `CI=true` (which always has it) its absence is an error.
 */
import { fileURLToPath } from "node:url";

/** Absolute path of `../shared/calcom` relative to the repository root. */
export const CALCOM_REFERENCE_DIR = fileURLToPath(new URL("../../../shared/calcom/", import.meta.url));

/** `<dir>/openapi-v2.json`. */
export const CALCOM_OPENAPI_PATH = `${CALCOM_REFERENCE_DIR}openapi-v2.json`;

/** `<dir>/webhook-examples/`. */
export const CALCOM_WEBHOOK_EXAMPLES_DIR = `${CALCOM_REFERENCE_DIR}webhook-examples/`;

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

let warned = false;

/**
 * Whether the reference data is present. Absent: throws under `CI=true`, otherwise prints once
 * why the tests that need it are skipped and returns false.
 */
export function hasCalcomReference(): boolean {
  if (exists(CALCOM_OPENAPI_PATH) && exists(CALCOM_WEBHOOK_EXAMPLES_DIR)) return true;
  const message = `Cal.com reference data not found at ${CALCOM_REFERENCE_DIR} (openapi-v2.json, webhook-examples/)`;
  if (Deno.env.get("CI") === "true") throw new Error(`${message}: CI must have it.`);
  if (!warned) {
    console.warn(`[calcom] ${message}: skipping the tests and contract checks that need it.`);
    warned = true;
  }
  return false;
}

/** For `Deno.test({ ignore: skipWithoutCalcomReference(), ... })`. */
export function skipWithoutCalcomReference(): boolean {
  return !hasCalcomReference();
}
