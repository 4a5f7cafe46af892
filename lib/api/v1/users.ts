/** People: provisioning by an HR system or LMS (admin), API tokens, and the caller's own view. */
import { SELF } from "../../access/matrix.ts";
import { z } from "zod";
import { mintToken } from "../../auth/tokens.ts";
import {
  changePerson,
  deactivatePerson,
  type PeopleActor,
  personVersion,
  scopePersonInput,
  searchPeople,
} from "../../admin/people.ts";
import type { Principal } from "../../auth/principal.ts";
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

/** The caller as a manager of people (a dealer admin's reach is their own dealer). */
export function peopleActor(p: Principal): PeopleActor {
  return { userId: p.userId, roles: p.roles, dealerId: p.user?.dealerId ?? null };
}

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
  description: "A dealer admin may create and update the learners of their own dealer only: the dealer defaults " +
    "to theirs, roles other than learner, another dealer, a manager of another dealer, completions, or an existing " +
    "person outside their dealer are refused with 403.",
  access: { admin: "any", dealer_admin: "own_dealer" },
  idempotency: "stored",
  body: UserInput,
  responses: {
    201: { description: "Created", schema: z.object({ user: UserSchema, created: z.literal(true) }) },
    200: { description: "Updated", schema: z.object({ user: UserSchema, created: z.literal(false) }) },
    400: err("Invalid fields or unknown manager, dealer or location"),
    403: err("A dealer admin reaching outside their own dealer's learners"),
  },
  async handler(ctx) {
    const body = await scopePersonInput(ctx.services.kv, peopleActor(ctx.requirePrincipal()), ctx.body);
    if (body.managerId) {
      const self = await getUserByEmail(ctx.services.kv, body.email);
      if (self && self.id === body.managerId) {
        throw new ApiError(400, "invalid_request", "A user cannot be their own manager.", {
          issues: [{ path: "body.managerId", message: "must not be the user themself" }],
        });
      }
    }
    await assertReferences(ctx.services.kv, body);
    const out = await provisionUser(ctx.services.kv, body);
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
  summary: "Deactivate a user (admin; a dealer admin for their own dealer's learners): their page sessions end on " +
    "every instance at once and their API tokens stop",
  access: { admin: "any", dealer_admin: "own_dealer" },
  params: IdParams,
  responses: {
    200: {
      description: "Deactivated (again: a no-op with sessionsEnded 0)",
      schema: z.object({ userId: IdSchema, sessionsEnded: z.number().int() }),
    },
    403: err("A dealer admin reaching outside their own dealer's learners"),
    404: err("No such user"),
  },
  async handler(ctx) {
    const sessionsEnded = await deactivatePerson(ctx.services.kv, peopleActor(ctx.requirePrincipal()), ctx.params.id);
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

const PersonWithVersion = z.object({
  user: UserSchema,
  version: z.string().describe("send it back as ifVersion to refuse a stale change"),
}).meta({ id: "PersonWithVersion" });

export const searchPeopleOp = defineOperation({
  method: "get",
  path: "/v1/admin/people",
  operationId: "searchPeople",
  tag: TAG,
  summary: "Search people by name or email, role and dealer (admin)",
  access: ["admin"],
  query: z.strictObject({
    q: z.string().max(100).optional().describe("words that must all appear in the name or email"),
    role: RoleSchema.optional(),
    dealer: IdSchema.optional(),
    inactive: z.enum(["true", "false"]).optional().describe("true: deactivated people too"),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  }),
  responses: {
    200: {
      description: "People by name",
      schema: z.object({ people: z.array(PersonWithVersion), truncated: z.boolean() }),
    },
    400: err("A filter is not valid"),
  },
  async handler(ctx) {
    const q = ctx.query;
    const found = await searchPeople(ctx.services.kv, {
      q: q.q,
      role: q.role,
      dealerId: q.dealer,
      includeInactive: q.inactive === "true",
      limit: q.limit,
    });
    return {
      status: 200,
      body: {
        people: found.people.map((user) => ({ user, version: personVersion(user) })),
        truncated: found.truncated,
      },
    };
  },
});

export const updatePersonOp = defineOperation({
  method: "patch",
  path: "/v1/users/{id}",
  operationId: "updatePerson",
  tag: TAG,
  summary: "Change a person's name, roles, dealer, manager or preferred location (admin; a dealer admin for " +
    "their own dealer's learners)",
  description: "Fields left out stay. With `ifVersion`, the change is refused (409 stale_edit, details.current) " +
    "when the person changed since that version.",
  access: { admin: "any", dealer_admin: "own_dealer" },
  params: IdParams,
  body: z.strictObject({
    name: z.string().trim().min(1).max(160).optional(),
    roles: z.array(RoleSchema).min(1).optional(),
    dealerId: IdSchema.nullable().optional(),
    managerId: IdSchema.nullable().optional(),
    preferredLocationId: IdSchema.nullable().optional(),
    ifVersion: z.string().max(20).optional(),
  }),
  responses: {
    200: { description: "The person", schema: PersonWithVersion },
    400: err("Invalid fields or an unknown manager, dealer or location"),
    403: err("A dealer admin reaching outside their own dealer's learners"),
    404: err("No such user"),
    409: err("stale_edit"),
  },
  async handler(ctx) {
    const { ifVersion, ...change } = ctx.body;
    const actor = peopleActor(ctx.requirePrincipal());
    const user = await changePerson(ctx.services.kv, actor, ctx.params.id, change, ifVersion);
    return { status: 200, body: { user, version: personVersion(user) } };
  },
});

/** Every people operation. */
export const userOperations = [
  upsertUser,
  createToken,
  deactivateUserOp,
  getMe,
  listMyBookings,
  searchPeopleOp,
  updatePersonOp,
];
