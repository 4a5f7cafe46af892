import { type AccessRule, ADMIN_ONLY } from "../../lib/access/matrix.ts";
import { linkClass } from "../../components/admin/AdminUi.tsx";
import { Section } from "../../components/admin/CalcomOps.tsx";
import type { PageState } from "../../lib/auth/page_user.ts";
import { Head, type PageProps } from "../../lib/fresh/mod.ts";

/** Who may open this page (the access matrix, lib/access/matrix.ts). */
export const access: AccessRule = ADMIN_ONLY;

const LINKS: { href: string; title: string; text: string; testid: string }[] = [
  {
    href: "/admin/sessions",
    title: "Sessions",
    text: "Find, schedule, change and cancel sessions.",
    testid: "link-sessions",
  },
  {
    href: "/admin/courses",
    title: "Courses",
    text: "The catalog: add and change courses, prerequisites, cut-offs; retire old ones.",
    testid: "link-courses",
  },
  {
    href: "/admin/locations",
    title: "Training centers",
    text: "Addresses, time zones and coordinates; close a center.",
    testid: "link-locations",
  },
  {
    href: "/admin/people",
    title: "People",
    text: "Find people; change roles, dealer, manager and preferred center; deactivate.",
    testid: "link-people",
  },
  {
    href: "/admin/rules",
    title: "Rules",
    text: "Hold length, live holds, waitlist offers, cut-off, check-in and reminders; per-course overrides.",
    testid: "link-rules",
  },
  {
    href: "/admin/audit",
    title: "Audit trail",
    text: "Every booking change: who, when, from where and why.",
    testid: "link-audit",
  },
  {
    href: "/admin/reports",
    title: "Reports",
    text: "No-shows, late cancellations, the registration funnel and more.",
    testid: "link-reports",
  },
  {
    href: "/admin/calcom",
    title: "Cal.com sync",
    text: "Sync figures, tenant health and the manual-review queue.",
    testid: "link-calcom",
  },
];

const DEAD_LETTERS: { href: string; title: string; text: string; testid: string }[] = [
  {
    href: "/admin/dead-letters",
    title: "All dead-letter lists",
    text: "Kafka relay, Cal.com review queue and notifications: how many, the oldest, the newest with the reason; " +
      "requeue Kafka events.",
    testid: "link-dead-letters",
  },
  {
    href: "/admin/calcom#review",
    title: "Cal.com review queue",
    text: "Bookings the Cal.com sync could not deliver: retry or resolve them.",
    testid: "link-calcom-review",
  },
  {
    href: "/admin/notifications",
    title: "Notifications",
    text: "Emails that could not be sent: send them again; pause all sending.",
    testid: "link-notifications",
  },
];

function LinkList({ links }: { links: typeof LINKS }) {
  return (
    <ul class="space-y-3">
      {links.map((l) => (
        <li key={l.href} class="rounded-xl border border-gray-200 p-4">
          <a href={l.href} class={`text-lg ${linkClass}`} data-testid={l.testid}>{l.title}</a>
          <p class="text-base">{l.text}</p>
        </li>
      ))}
    </ul>
  );
}

/** The staff home: where every admin page starts. */
export default function AdminHome(_props: PageProps<unknown, PageState>) {
  return (
    <>
      <Head>
        <title>Staff · Training sessions</title>
      </Head>
      <h1 class="mb-3 text-2xl font-bold leading-tight">Staff</h1>
      <div class="space-y-8">
        <Section id="manage" title="Manage">
          <LinkList links={LINKS} />
        </Section>
        <Section id="dead-letters" title="Dead letters">
          <LinkList links={DEAD_LETTERS} />
        </Section>
      </div>
    </>
  );
}
