import { type Dealer, DealerSchema, type NewDealer } from "../domain/dealer.ts";
import { newId } from "../domain/ids.ts";
import { parseOrThrow } from "../domain/validation.ts";
import { ConflictError } from "./errors.ts";
import { keys } from "./keys.ts";
import { getValueById, listValues } from "./batch.ts";

/**
 * Creates a dealer (tenant). Validates with `DealerSchema`; the slug must be
 * unused (`ConflictError` "slug_taken").
 */
export async function createDealer(
  kv: Deno.Kv,
  input: NewDealer,
): Promise<Dealer> {
  const dealer = parseOrThrow(
    DealerSchema,
    { ...input, id: input.id ?? newId() },
    "dealer",
  );
  const res = await kv.atomic()
    .check({ key: keys.dealer(dealer.id), versionstamp: null })
    .check({ key: keys.dealerBySlug(dealer.slug), versionstamp: null })
    .set(keys.dealer(dealer.id), dealer)
    .set(keys.dealerBySlug(dealer.slug), dealer.id)
    .commit();
  if (!res.ok) {
    const slug = await kv.get(keys.dealerBySlug(dealer.slug));
    if (slug.value !== null) {
      throw new ConflictError(
        "slug_taken",
        `dealer slug "${dealer.slug}" is already used`,
      );
    }
    throw new ConflictError("exists", `dealer ${dealer.id} already exists`);
  }
  return dealer;
}

/** Returns the dealer with `id`, or null. */
export async function getDealer(
  kv: Deno.Kv,
  id: string,
): Promise<Dealer | null> {
  return await getValueById<Dealer>(kv, id, keys.dealer);
}

/** Lists all dealers sorted by name. */
export async function listDealers(kv: Deno.Kv): Promise<Dealer[]> {
  const all = await listValues<Dealer>(kv, { prefix: keys.dealersPrefix() });
  return all.sort((a, b) => a.name.localeCompare(b.name));
}
