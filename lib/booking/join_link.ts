/**
 * The join link of an online or hybrid session, for those who may see it (the rule is
 * {@link maySeeJoinLink} in ./access.ts): every read of a session that may reach a person passes
 * through here, so the link never leaks into a public response.
 */
import type { Session } from "../domain/session.ts";
import { keys } from "../store/keys.ts";
import { type Acting, mayManageSession, maySeeJoinLink } from "./access.ts";
import type { Place } from "./model.ts";

/** The session's join link if `who` may see it; otherwise (or when it has none) null. */
export async function joinLinkFor(
  kv: Deno.Kv,
  who: Acting | null,
  session: Pick<Session, "id" | "instructorId" | "joinUrl">,
): Promise<string | null> {
  if (!session.joinUrl || !who) return null;
  if (mayManageSession(who, session)) return session.joinUrl;
  if (!who.userId) return null;
  const place = (await kv.get<Place>(keys.place(session.id, who.userId))).value;
  return maySeeJoinLink(who, session, place?.kind === "booking") ? session.joinUrl : null;
}
