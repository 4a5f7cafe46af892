/** Dead-letter lists for admins: one summary of every list, and the Kafka dead letters' requeue. */
import { z } from "zod";
import { DEAD_LETTER_LISTS, type DeadLetterListId, summariseDeadLetterLists } from "../../admin/dead_letters.ts";
import { requeueDeadLetter } from "../../relay/topics.ts";
import { ApiError } from "../errors.ts";
import { defineOperation } from "../operation.ts";
import { ErrorSchema } from "./schemas.ts";

const err = (description: string) => ({ description, schema: ErrorSchema });
const TAG = "Dead letters";

/** Where each list is read in full and retried: its page and its API operations. */
export const DEAD_LETTER_HOMES: Record<
  DeadLetterListId,
  { title: string; page: string; list: string; retry: string }
> = {
  kafka: {
    title: "Kafka relay dead letters",
    page: "/admin/dead-letters#kafka",
    list: "GET /api/v1/admin/dead-letters",
    retry: "POST /api/v1/admin/dead-letters/{id}/requeue",
  },
  calcom_review: {
    title: "Cal.com review queue",
    page: "/admin/calcom#review",
    list: "GET /api/v1/admin/calcom/review?status=open",
    retry: "POST /api/v1/admin/calcom/review/{id}/retry",
  },
  notifications: {
    title: "Notification dead letters",
    page: "/admin/notifications",
    list: "GET /api/v1/admin/notifications?status=dead",
    retry: "POST /api/v1/admin/notifications/{id}/retry",
  },
};

const ListSchema = z.object({
  list: z.enum(DEAD_LETTER_LISTS),
  title: z.string(),
  count: z.number().int(),
  oldestAt: z.string().nullable(),
  newest: z.array(z.object({ id: z.string(), at: z.string(), what: z.string(), reason: z.string() }))
    .describe("newest first"),
  page: z.string().describe("the admin page that lists and retries it"),
  listOperation: z.string(),
  retryOperation: z.string(),
});

export const deadLetterListsOp = defineOperation({
  method: "get",
  path: "/v1/admin/dead-letter-lists",
  operationId: "summariseDeadLetterLists",
  tag: TAG,
  summary: "Every dead-letter list (Kafka relay, Cal.com review queue, notifications): size, oldest, newest entries",
  description: "Each list with its count, its oldest entry's time, its newest entries (at most `newest`) with the " +
    "reason, and where to read it in full and retry its entries.",
  access: ["admin"],
  query: z.strictObject({ newest: z.coerce.number().int().min(0).max(20).default(3) }),
  responses: { 200: { description: "The lists", schema: z.object({ lists: z.array(ListSchema) }) } },
  async handler(ctx) {
    const lists = await summariseDeadLetterLists(ctx.services.kv, { newest: ctx.query.newest });
    const body = lists.map((l) => {
      const home = DEAD_LETTER_HOMES[l.list];
      return { ...l, title: home.title, page: home.page, listOperation: home.list, retryOperation: home.retry };
    });
    return { status: 200, body: { lists: body } };
  },
});

export const requeueDeadLetterOp = defineOperation({
  method: "post",
  path: "/v1/admin/dead-letters/{id}/requeue",
  operationId: "requeueDeadLetter",
  tag: TAG,
  summary: "Put a Kafka dead letter back in the relay's outbox; the relay delivers it like any pending event",
  description: "Removes the dead letter and writes its event back to the Kafka outbox in one checked commit, so " +
    "two requeues at once deliver it once. Works whether or not this instance runs the relay (with " +
    "KAFKA_BROKERS unset the event waits in the outbox). If it fails again it is dead-lettered again.",
  access: ["admin"],
  params: z.strictObject({ id: z.string().min(1).max(100).describe("the dead letter's eventKey") }),
  responses: {
    202: { description: "Back in the outbox", schema: z.object({ requeued: z.literal(true), eventKey: z.string() }) },
    404: err("dead_letter_not_found"),
    409: err("already_pending: the event is already in the outbox"),
  },
  async handler(ctx) {
    const outcome = await requeueDeadLetter(ctx.services.kv, ctx.params.id);
    if (outcome === "not_found") throw new ApiError(404, "dead_letter_not_found", `No dead letter ${ctx.params.id}.`);
    if (outcome === "already_pending") {
      throw new ApiError(409, "already_pending", `Event ${ctx.params.id} is already waiting in the outbox.`);
    }
    return { status: 202, body: { requeued: true, eventKey: ctx.params.id } };
  },
});

/** Every dead-letter operation. */
export const deadLetterOperations = [deadLetterListsOp, requeueDeadLetterOp];
