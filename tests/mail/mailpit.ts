/**
 * Test harness (not a test file itself): a real SMTP server, Mailpit v1.33.1
 * (github.com/axllent/mailpit, `go install`ed by `.ci/run` into
 * `~/.cache/training-booking/mailpit-v1.33.1/`), on free loopback ports, and a client of its HTTP
 * API to read what arrived.
 *
 * The binary comes from `MAILPIT_BIN`, else the CI cache, else `~/go/bin`, else `PATH`. Missing, the
 * mail tests FAIL saying so (there is no skip: CI installs it).
 * @module
 */
import { freePort } from "../../scripts/kafka_lib.ts";

export const MAILPIT_VERSION = "v1.33.1";

function env(name: string): string | undefined {
  return Deno.env.get(name) || undefined;
}

/** Where `.ci/run` caches the binary. */
export function mailpitCacheBin(): string {
  const home = env("HOME") ?? Deno.cwd();
  return `${env("XDG_CACHE_HOME") ?? `${home}/.cache`}/training-booking/mailpit-${MAILPIT_VERSION}/mailpit`;
}

function isExecutable(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** Path of the `mailpit` binary, or null when none is found. */
export function findMailpit(): string | null {
  const explicit = env("MAILPIT_BIN");
  if (explicit) return isExecutable(explicit) ? explicit : null;
  const candidates = [mailpitCacheBin(), `${env("HOME") ?? ""}/go/bin/mailpit`];
  for (const dir of (env("PATH") ?? "").split(":")) if (dir) candidates.push(`${dir}/mailpit`);
  return candidates.find(isExecutable) ?? null;
}

/** A message as Mailpit's list shows it. */
export interface MailSummary {
  ID: string;
  MessageID: string;
  From: { Name: string; Address: string };
  To: { Name: string; Address: string }[];
  Subject: string;
  Created: string;
  Attachments: number;
}

/** How the server takes connections: plain (no TLS), STARTTLS offered, or implicit TLS (SMTPS). */
export type MailpitTls = "none" | "starttls" | "implicit";

/** Options of {@link startMailpit}. */
export interface MailpitOptions {
  tls?: MailpitTls;
  /** Recipients not matching are refused with a 5xx (Mailpit's `--smtp-allowed-recipients`). */
  allowedRecipients?: string;
  /** Ports to reuse (restarting after {@link Mailpit.stop} keeps the same address). */
  smtpPort?: number;
  httpPort?: number;
}

/** A running Mailpit. */
export interface Mailpit {
  /** `smtp://127.0.0.1:PORT` (or `smtps://` with implicit TLS). */
  smtpUrl: string;
  apiUrl: string;
  smtpPort: number;
  /** The self-signed certificate (PEM) the server presents with TLS; null without. */
  caPem: string | null;
  /** Every message, oldest first. */
  messages(): Promise<MailSummary[]>;
  /** One message with its text, HTML and parts. */
  message(id: string): Promise<Record<string, unknown> & { Text: string; HTML: string }>;
  /** The message's headers (name → values). */
  headers(id: string): Promise<Record<string, string[]>>;
  /** The message's raw source. */
  raw(id: string): Promise<string>;
  /** Deletes every message. */
  clear(): Promise<void>;
  /** Stops the server (an outage); {@link restart} brings it back on the same ports. */
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** Stops it for good and deletes its files. */
  close(): Promise<void>;
}

async function selfSignedCert(dir: string): Promise<{ cert: string; key: string }> {
  const cert = `${dir}/cert.pem`;
  const key = `${dir}/key.pem`;
  const out = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "2",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-keyout",
      key,
      "-out",
      cert,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`openssl could not make a test certificate: ${new TextDecoder().decode(out.stderr)}`);
  }
  return { cert, key };
}

async function waitForPort(port: number, exited: () => boolean, output: () => string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (exited()) throw new Error(`mailpit exited before listening:\n${output()}`);
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error(`mailpit did not listen on ${port}:\n${output()}`);
}

/** Starts Mailpit on free loopback ports with its database in a temporary directory. */
export async function startMailpit(options: MailpitOptions = {}): Promise<Mailpit> {
  const bin = findMailpit();
  if (!bin) {
    throw new Error(
      `mailpit ${MAILPIT_VERSION} was not found (MAILPIT_BIN, ${mailpitCacheBin()}, ~/go/bin, PATH). Install it with ` +
        `\`GOBIN=$(dirname ${mailpitCacheBin()}) go install github.com/axllent/mailpit@${MAILPIT_VERSION}\` ` +
        "(or run .ci/run).",
    );
  }
  const dir = await Deno.makeTempDir({ prefix: "mailpit_" });
  const smtpPort = options.smtpPort ?? freePort();
  const httpPort = options.httpPort ?? freePort();
  const tls = options.tls ?? "none";
  const args = [
    "--smtp",
    `127.0.0.1:${smtpPort}`,
    "--listen",
    `127.0.0.1:${httpPort}`,
    "--database",
    `${dir}/mailpit.db`,
    "--max",
    "5000",
    "--quiet",
    "--disable-version-check",
    "--smtp-disable-rdns",
    "--smtp-auth-accept-any",
  ];
  let caPem: string | null = null;
  if (tls !== "none") {
    const { cert, key } = await selfSignedCert(dir);
    caPem = await Deno.readTextFile(cert);
    args.push("--smtp-tls-cert", cert, "--smtp-tls-key", key);
    args.push(tls === "implicit" ? "--smtp-require-tls" : "--smtp-require-starttls");
  } else {
    args.push("--smtp-auth-allow-insecure");
  }
  if (options.allowedRecipients) args.push("--smtp-allowed-recipients", options.allowedRecipients);

  let child: Deno.ChildProcess | null = null;
  let status: Promise<Deno.CommandStatus> = Promise.resolve({ success: true, code: 0, signal: null });
  let text = "";
  const spawn = async () => {
    const proc = new Deno.Command(bin, { args, stdin: "null", stdout: "piped", stderr: "piped" }).spawn();
    child = proc;
    let exited = false;
    const decoder = new TextDecoder();
    const pump = async (s: ReadableStream<Uint8Array>) => {
      for await (const c of s) text += decoder.decode(c, { stream: true });
    };
    const pumps = Promise.all([pump(proc.stdout), pump(proc.stderr)]);
    status = proc.status.then(async (s) => {
      exited = true;
      await pumps;
      return s;
    });
    await waitForPort(smtpPort, () => exited, () => text);
    await waitForPort(httpPort, () => exited, () => text);
  };
  const stop = async () => {
    if (!child) return;
    try {
      (child as Deno.ChildProcess).kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await status;
    child = null;
  };
  await spawn();

  const apiUrl = `http://127.0.0.1:${httpPort}`;
  const api = async (path: string, init?: RequestInit) => {
    const res = await fetch(`${apiUrl}${path}`, init);
    if (!res.ok) throw new Error(`Mailpit ${init?.method ?? "GET"} ${path}: ${res.status} ${await res.text()}`);
    return res;
  };
  return {
    smtpUrl: `${tls === "implicit" ? "smtps" : "smtp"}://127.0.0.1:${smtpPort}`,
    apiUrl,
    smtpPort,
    caPem,
    async messages() {
      const out: MailSummary[] = [];
      for (let start = 0;; start += 500) {
        const page = await (await api(`/api/v1/messages?limit=500&start=${start}`)).json();
        out.push(...page.messages);
        if (out.length >= page.messages_count || page.messages.length === 0) break;
      }
      // The API lists newest first.
      return out.sort((a, b) => a.Created < b.Created ? -1 : a.Created > b.Created ? 1 : 0);
    },
    message: async (id) => await (await api(`/api/v1/message/${id}`)).json(),
    headers: async (id) => await (await api(`/api/v1/message/${id}/headers`)).json(),
    raw: async (id) => await (await api(`/api/v1/message/${id}/raw`)).text(),
    async clear() {
      await (await api(`/api/v1/messages`, { method: "DELETE" })).body?.cancel();
    },
    stop,
    restart: spawn,
    async close() {
      await stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
