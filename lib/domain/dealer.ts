import { z } from "zod";
import { IdSchema, SlugSchema, text } from "./common.ts";

/** A dealer: the tenant that learners and their managers belong to. */
export const DealerSchema = z.object({
  id: IdSchema,
  name: text(160),
  slug: SlugSchema,
});
export type Dealer = z.infer<typeof DealerSchema>;
/** Input accepted by `createDealer`. */
export type NewDealer = Omit<Dealer, "id"> & { id?: string };
