import { z } from "zod";
import { IdSchema, SlugSchema, text, TimeZoneSchema, UsStateSchema } from "./common.ts";

/** A postal address of a US training center. */
export const AddressSchema = z.object({
  line1: text(200),
  city: text(100),
  region: UsStateSchema,
  postalCode: z.string().regex(/^\d{5}(-\d{4})?$/, {
    error: "must be a US ZIP code like 30303 or 30303-1234",
  }),
  country: z.literal("US", { error: 'must be "US"' }),
});
export type Address = z.infer<typeof AddressSchema>;

/** A training center where in-person and hybrid sessions take place. */
export const LocationSchema = z.object({
  id: IdSchema,
  slug: SlugSchema,
  name: text(120),
  address: AddressSchema,
  lat: z.number().min(-90).max(90),
  lng: z.number().min(-180).max(180),
  timeZone: TimeZoneSchema,
  active: z.boolean().default(true),
});
export type Location = z.infer<typeof LocationSchema>;
/** Input accepted by `createLocation`: id is optional, defaults apply. */
export type NewLocation = Omit<z.input<typeof LocationSchema>, "id"> & {
  id?: string;
};
