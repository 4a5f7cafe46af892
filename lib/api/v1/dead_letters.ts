/** Dead-letter lists for admins: one summary of every list, and the Kafka dead letters' requeue (and its older name, retry). */
import { z } from "zod";
import { DEAD_LETTER_HOMES, DEAD_LETTER_LISTS, summariseDeadLetterLists } from "../../admin/dead_letters.ts";
import { requeueDeadLetter } from "../../relay/topics.ts";
import { ApiError } from "../errors.ts";
import { defineOperation, type OperationResult } from "../operation.ts";
import { ErrorSchema } from "./schemas.ts";

const err = (description: string) => ({ description, schema: ErrorSchema });
const TAG = "Dead letters";

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

const RequeueParams = z.strictObject({ id: z.string().min(1).max(100).describe("the dead letter's eventKey") });
const REQUEUE_RESPONSES = {
  202: { description: "Back in the outbox", schema: z.object({ requeued: z.literal(true), eventKey: z.string() }) },
  404: err("dead_letter_not_found"),
  409: err("already_pending: the event is already in the outbox"),
};
const REQUEUE_DESCRIPTION = "Removes the dead letter and writes its event back to the Kafka outbox in one checked " +
  "commit, so two requeues (or retries) at once deliver it once; the relay then delivers it under its lease, in its " +
  "session's order. Works whether or not this instance runs the relay (with KAFKA_BROKERS unset the event waits in " +
  "the outbox). If it fails again it is dead-lettered again.";

/** The one answer of both dead-letter re-drives (requeue and its older name, retry): see REQUEUE_DESCRIPTION. */
async function requeueAnswer(kv: Deno.Kv, eventKey: string): Promise<OperationResult> {
  const outcome = await requeueDeadLetter(kv, eventKey);
  if (outcome === "not_found") throw new ApiError(404, "dead_letter_not_found", `No dead letter ${eventKey}.`);
  if (outcome === "already_pending") {
    throw new ApiError(409, "already_pending", `Event ${eventKey} is already waiting in the outbox.`);
  }
  return { status: 202, body: { requeued: true, eventKey } };
}

export const requeueDeadLetterOp = defineOperation({
  method: "post",
  path: "/v1/admin/dead-letters/{id}/requeue",
  operationId: "requeueDeadLetter",
  tag: TAG,
  summary: "Put a Kafka dead letter back in the relay's outbox; the relay delivers it like any pending event",
  description: REQUEUE_DESCRIPTION,
  access: ["admin"],
  params: RequeueParams,
  responses: REQUEUE_RESPONSES,
  handler: (ctx) => requeueAnswer(ctx.services.kv, ctx.params.id),
});

export const retryDeadLetterOp = defineOperation({
  method: "post",
  path: "/v1/admin/dead-letters/{id}/retry",
  operationId: "retryDeadLetter",
  tag: TAG,
  summary: "The older name of requeueDeadLetter: puts a Kafka dead letter back in the relay's outbox",
  deprecated: true,
  description: REQUEUE_DESCRIPTION + " Changed: this operation used to publish the event itself and answer 200 " +
    "`{delivered: true}` (or 409 relay_disabled, 422 redrive_failed); two retries at once could then both publish " +
    "it, past the relay's lease and the session's order. It now does exactly what requeueDeadLetter does and " +
    "answers the same: 202 `{requeued: true, eventKey}` when the event is back in the outbox (not yet on Kafka: " +
    "follow it with `GET /api/calcom/topics` or `GET /api/v1/admin/dead-letters`), 404, or 409 already_pending.",
  access: ["admin"],
  params: RequeueParams,
  responses: REQUEUE_RESPONSES,
  handler: (ctx) => requeueAnswer(ctx.services.kv, ctx.params.id),
});

/** Every dead-letter operation. */
export const deadLetterOperations = [deadLetterListsOp, requeueDeadLetterOp, retryDeadLetterOp];
