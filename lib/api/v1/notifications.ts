/** Notifications: a person's preferences and inbox; the admins' message list, dead-letter retry and pause switch. */
import { z } from "zod";
import { KIND_INFO, NOTIFICATION_KINDS } from "../../notify/kinds.ts";
import {
  countNotifications,
  getNotificationPrefs,
  getNotifySettings,
  listInbox,
  listNotifications,
  NotifyInputError,
  retryDeadNotification,
  setNotificationPrefs,
  setNotifyPaused,
} from "../../notify/manage.ts";
import { ApiError } from "../errors.ts";
import { defineOperation } from "../operation.ts";
import { ErrorSchema } from "./schemas.ts";

const err = (description: string) => ({ description, schema: ErrorSchema });
const TAG = "Notifications";
const STATUSES = ["pending", "sent", "dead", "skipped"] as const;

const SummarySchema = z.object({
  id: z.string(),
  kind: z.enum(NOTIFICATION_KINDS),
  userId: z.string(),
  status: z.enum(STATUSES),
  dueAt: z.string(),
  createdAt: z.string(),
  sentAt: z.string().nullable(),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  skippedReason: z.string().nullable(),
  subject: z.string().nullable(),
});

const PrefsSchema = z.object({
  timeZone: z.string().nullable(),
  managerDigest: z.boolean(),
  kinds: z.array(z.object({
    kind: z.enum(NOTIFICATION_KINDS),
    label: z.string(),
    canTurnOff: z.boolean(),
    on: z.boolean(),
  })),
});

function userIdOf(ctx: { requirePrincipal(): { userId: string | null } }): string {
  const p = ctx.requirePrincipal();
  if (!p.userId) throw new ApiError(400, "learner_required", "The admin token has no notifications of its own.");
  return p.userId;
}

async function prefsBody(kv: Deno.Kv, userId: string): Promise<z.infer<typeof PrefsSchema>> {
  const prefs = await getNotificationPrefs(kv, userId);
  return {
    timeZone: prefs.timeZone,
    managerDigest: prefs.managerDigest === true,
    kinds: NOTIFICATION_KINDS.map((kind) => ({
      kind,
      label: KIND_INFO[kind].label,
      canTurnOff: !KIND_INFO[kind].transactional,
      on: !prefs.off.includes(kind),
    })),
  };
}

function asApiError(e: unknown): never {
  if (e instanceof NotifyInputError) throw new ApiError(e.status === 400 ? 400 : 422, e.code, e.message);
  throw e;
}

export const getMyNotificationsOp = defineOperation({
  method: "get",
  path: "/v1/me/notifications",
  operationId: "getMyNotifications",
  tag: TAG,
  summary: "The caller's notification preferences and last 50 messages (newest first)",
  access: "user",
  responses: {
    200: {
      description: "Preferences and inbox",
      schema: z.object({ preferences: PrefsSchema, messages: z.array(SummarySchema) }),
    },
    400: err("The admin token has no person of its own"),
  },
  async handler(ctx) {
    const userId = userIdOf(ctx);
    const kv = ctx.services.kv;
    return { status: 200, body: { preferences: await prefsBody(kv, userId), messages: await listInbox(kv, userId) } };
  },
});

export const setMyNotificationPrefsOp = defineOperation({
  method: "put",
  path: "/v1/me/notifications",
  operationId: "setMyNotificationPreferences",
  tag: TAG,
  summary: "Choose which optional kinds to receive and the time zone of times in messages",
  description: "`off` lists kinds turned off; transactional kinds (confirmations, changes, cancellations, waitlist " +
    "offers, assignments, overdue training) cannot be (422 `required_kind`). `timeZone` null: the preferred " +
    "location's zone, else the session's.",
  access: "user",
  body: z.strictObject({
    off: z.array(z.string().max(40)).max(NOTIFICATION_KINDS.length),
    timeZone: z.string().min(1).max(64).nullable(),
    managerDigest: z.boolean().optional().describe("team notices as one daily digest at 07:00 (managers)"),
  }),
  responses: {
    200: { description: "Saved", schema: PrefsSchema },
    400: err("The admin token has no person of its own"),
    422: err("required_kind, unknown_kind or invalid_time_zone"),
  },
  async handler(ctx) {
    const userId = userIdOf(ctx);
    await setNotificationPrefs(ctx.services.kv, userId, ctx.body).catch(asApiError);
    return { status: 200, body: await prefsBody(ctx.services.kv, userId) };
  },
});

export const listNotificationsOp = defineOperation({
  method: "get",
  path: "/v1/admin/notifications",
  operationId: "listNotifications",
  tag: TAG,
  summary: "Every message (produced even without SMTP_URL), by status; counts and the pause switch",
  access: ["admin"],
  query: z.strictObject({
    status: z.enum(STATUSES).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  }),
  responses: {
    200: {
      description: "Newest due first",
      schema: z.object({
        paused: z.boolean(),
        smtpConfigured: z.boolean(),
        counts: z.object({ pending: z.number(), sent: z.number(), dead: z.number(), skipped: z.number() }),
        messages: z.array(SummarySchema),
      }),
    },
  },
  async handler(ctx) {
    const { kv, config } = ctx.services;
    const [settings, counts, messages] = await Promise.all([
      getNotifySettings(kv),
      countNotifications(kv),
      listNotifications(kv, ctx.query),
    ]);
    return {
      status: 200,
      body: { paused: settings.paused, smtpConfigured: config.smtpUrl !== null, counts, messages },
    };
  },
});

export const retryNotificationOp = defineOperation({
  method: "post",
  path: "/v1/admin/notifications/{id}/retry",
  operationId: "retryNotification",
  tag: TAG,
  summary: "Send a dead-lettered message again (due now, attempts reset)",
  access: ["admin"],
  params: z.strictObject({ id: z.string().regex(/^[0-9a-f]{32}$/, "must be a message id (32 hex characters)") }),
  responses: {
    200: { description: "Pending again", schema: SummarySchema },
    404: err("No dead letter with this id"),
  },
  async handler(ctx) {
    const out = await retryDeadNotification(ctx.services.kv, ctx.params.id, ctx.services.engine.now());
    if (!out) throw new ApiError(404, "dead_letter_not_found", `No dead-lettered message ${ctx.params.id}.`);
    return { status: 200, body: out };
  },
});

export const pauseNotificationsOp = defineOperation({
  method: "put",
  path: "/v1/admin/notifications/pause",
  operationId: "pauseNotifications",
  tag: TAG,
  summary: "Pause or resume all sending (messages keep being produced and wait)",
  access: ["admin"],
  body: z.strictObject({ paused: z.boolean() }),
  responses: { 200: { description: "The switch", schema: z.object({ paused: z.boolean() }) } },
  async handler(ctx) {
    return { status: 200, body: await setNotifyPaused(ctx.services.kv, ctx.body.paused) };
  },
});

/** Every notification operation. */
export const notificationOperations = [
  getMyNotificationsOp,
  setMyNotificationPrefsOp,
  listNotificationsOp,
  retryNotificationOp,
  pauseNotificationsOp,
];
