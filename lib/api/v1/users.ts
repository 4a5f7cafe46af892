/** People: provisioning by an HR system or LMS (admin), API tokens, and the caller's own view. */
import { SELF } from "../../access/matrix.ts";
import { z } from "zod";
import { mintToken } from "../../auth/tokens.ts";
import { deactivateUser } from "../../auth/sessions.ts";
import {
  BookingSchema,
  CompletedCourseSchema,
  EmailSchema,
  HoldSchema,
  IdSchema,
  RoleSchema,
  type User,
  UserSchema,
} from "../../domain/mod.ts";
import { createUser, getLocation, getUser, getUserByEmail, updateUser } from "../../store/mod.ts";
import { mergeCompletedCourses } from "../../store/users.ts";
import { ConflictError } from "../../store/errors.ts";
import { keys } from "../../store/keys.ts";
import { ApiError } from "../errors.ts";
import { defineOperation } from "../operation.ts";
import { ErrorSchema, IdParams, WaitlistViewSchema } from "./schemas.ts";

const err = (description: string) => ({ description, schema: ErrorSchema });
const TAG = "People";

const UserInput = z.strictObject({
  email: EmailSchema,
  name: z.string().trim().min(1).max(160),
  roles: z.array(RoleSchema).min(1).optional().describe("replaces the user's roles; default [learner] when new"),
  dealerId: IdSchema.nullable().optional(),
  managerId: IdSchema.nullable().optional(),
  preferredLocationId: IdSchema.nullable().optional(),
  completedCourses: z.array(CompletedCourseSchema).max(500).optional()
    .describe("merged with what is known (latest completion per course kept: a recertification renews)"),
});
type UserInput = z.infer<typeof UserInput>;

async function assertReferences(kv: Deno.Kv, b: UserInput): Promise<void> {
  const issues: { path: string; message: string }[] = [];
  if (b.managerId && !(await getUser(kv, b.managerId))) {
    issues.push({ path: "body.managerId", message: `unknown user ${b.managerId}` });
  }
  if (b.preferredLocationId && !(await getLocation(kv, b.preferredLocationId))) {
    issues.push({ path: "body.preferredLocationId", message: `unknown location ${b.preferredLocationId}` });
  }
  if (b.dealerId && !(await kv.get(keys.dealer(b.dealerId))).value) {
    issues.push({ path: "body.dealerId", message: `unknown dealer ${b.dealerId}` });
  }
  if (issues.length) {
    throw new ApiError(400, "invalid_request", issues.map((i) => `${i.path}: ${i.message}`).join("; "), { issues });
  }
}

/** Creates the user with this email, or updates the one that exists. */
async function provisionUser(kv: Deno.Kv, b: UserInput): Promise<{ user: User; created: boolean }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const existing = await getUserByEmail(kv, b.email);
    if (existing) {
      const user = await updateUser(kv, existing.id, (u) => ({
        name: b.name,
        roles: b.roles ?? u.roles,
        dealerId: b.dealerId !== undefined ? b.dealerId : u.dealerId,
        managerId: b.managerId !== undefined ? b.managerId : u.managerId,
        preferredLocationId: b.preferredLocationId !== undefined ? b.preferredLocationId : u.preferredLocationId,
        completedCourses: mergeCompletedCourses(u, b.completedCourses),
      }));
      return { user, created: false };
    }
    try {
      const user = await createUser(kv, {
        email: b.email,
        name: b.name,
        roles: b.roles ?? ["learner"],
        dealerId: b.dealerId ?? null,
        managerId: b.managerId ?? null,
        preferredLocationId: b.preferredLocationId ?? null,
        completedCourses: b.completedCourses ?? [],
      });
      return { user, created: true };
    } catch (e) {
      if (!(e instanceof ConflictError && e.code === "email_taken")) throw e;
    }
  }
  throw new ApiError(409, "concurrent_update", `The user ${b.email} kept changing; try again.`);
}

export const upsertUser = defineOperation({
  method: "post",
  path: "/v1/users",
  operationId: "upsertUser",
  tag: TAG,
  summary: "Create or update a user by email (admin; how an HR system or LMS provisions people)",
  access: ["admin"],
  idempotency: "stored",
  body: UserInput,
  responses: {
    201: { description: "Created", schema: z.object({ user: UserSchema, created: z.literal(true) }) },
    200: { description: "Updated", schema: z.object({ user: UserSchema, created: z.literal(false) }) },
    400: err("Invalid fields or unknown manager, dealer or location"),
  },
  async handler(ctx) {
    if (ctx.body.managerId) {
      const self = await getUserByEmail(ctx.services.kv, ctx.body.email);
      if (self && self.id === ctx.body.managerId) {
        throw new ApiError(400, "invalid_request", "A user cannot be their own manager.", {
          issues: [{ path: "body.managerId", message: "must not be the user themself" }],
        });
      }
    }
    await assertReferences(ctx.services.kv, ctx.body);
    const out = await provisionUser(ctx.services.kv, ctx.body);
    return { status: out.created ? 201 : 200, body: out };
  },
});

export const createToken = defineOperation({
  method: "post",
  path: "/v1/users/{id}/tokens",
  operationId: "createToken",
  tag: TAG,
  summary: "Mint an API token for a user (admin). The token is shown once; only its hash is kept",
  access: ["admin"],
  params: IdParams,
  body: z.strictObject({ label: z.string().trim().min(1).max(100).optional() }),
  bodyOptional: true,
  responses: {
    201: {
      description: "The token (store it now: it cannot be shown again)",
      schema: z.object({ token: z.string(), tokenId: z.string(), userId: IdSchema, createdAt: z.string() }),
    },
    404: err("No such user"),
  },
  async handler(ctx) {
    const { kv } = ctx.services;
    if (!(await getUser(kv, ctx.params.id))) {
      throw new ApiError(404, "user_not_found", `No user with id ${ctx.params.id}.`);
    }
    const minted = await mintToken(kv, ctx.params.id, ctx.body.label ?? null);
    return { status: 201, body: { ...minted, userId: ctx.params.id }, headers: { "cache-control": "no-store" } };
  },
});

export const deactivateUserOp = defineOperation({
  method: "post",
  path: "/v1/users/{id}/deactivate",
  operationId: "deactivateUser",
  tag: TAG,
  summary: "Deactivate a user (admin): their page sessions end on every instance at once and their API tokens stop",
  access: ["admin"],
  params: IdParams,
  responses: {
    200: {
      description: "Deactivated (again: a no-op with sessionsEnded 0)",
      schema: z.object({ userId: IdSchema, sessionsEnded: z.number().int() }),
    },
    404: err("No such user"),
  },
  async handler(ctx) {
    const { kv } = ctx.services;
    if (!(await getUser(kv, ctx.params.id))) {
      throw new ApiError(404, "user_not_found", `No user with id ${ctx.params.id}.`);
    }
    const sessionsEnded = await deactivateUser(kv, ctx.params.id);
    return { status: 200, body: { userId: ctx.params.id, sessionsEnded } };
  },
});

export const getMe = defineOperation({
  method: "get",
  path: "/v1/me",
  operationId: "getMe",
  tag: TAG,
  summary: "Who the credentials belong to",
  access: SELF,
  responses: {
    200: {
      description: "The caller",
      schema: z.object({ user: UserSchema.nullable(), roles: z.array(RoleSchema), via: z.string() }),
    },
  },
  handler(ctx) {
    const p = ctx.requirePrincipal();
    return Promise.resolve({ status: 200, body: { user: p.user, roles: p.roles, via: p.via } });
  },
});

export const listMyBookings = defineOperation({
  method: "get",
  path: "/v1/me/bookings",
  operationId: "listMyBookings",
  tag: TAG,
  summary: "The caller's live holds, bookings (upcoming and past) and waitlist places with positions",
  access: SELF,
  responses: {
    200: {
      description: "Live holds and offers (soonest to expire first), every booking (newest first), waitlist places",
      schema: z.object({
        holds: z.array(HoldSchema),
        bookings: z.array(BookingSchema),
        waitlist: z.array(WaitlistViewSchema),
      }),
    },
    400: err("The admin token has no learner of its own"),
  },
  async handler(ctx) {
    const p = ctx.requirePrincipal();
    if (!p.userId) throw new ApiError(400, "learner_required", "The admin token has no bookings of its own.");
    const places = await ctx.services.engine.listLearnerPlaces(p.userId);
    return { status: 200, body: places };
  },
});

/** Every people operation. */
export const userOperations = [upsertUser, createToken, deactivateUserOp, getMe, listMyBookings];
