/**
 * Parent side of the load-generator process (bench/load_client.ts): starts it with network
 * access only, hands it a job, and lets the caller start the clock when the client is ready.
 */
import { type ClientJob, type ClientReport, lines } from "./load_client.ts";

const CLIENT = new URL("./load_client.ts", import.meta.url);

/** A started client process waiting for `go`. */
export interface ReadyClient<R = ClientReport> {
  /** Starts the load and resolves with the client's report. */
  go(): Promise<R>;
  /** Kills the process (when the run is abandoned). */
  kill(): void;
}

/**
 * Spawns the load generator and waits until it is set up. `script` is another client speaking the
 * same protocol (bench/users_client.ts); the process may reach the job's servers only.
 */
export async function startClient<R = ClientReport, J extends Pick<ClientJob, "baseUrl" | "alsoBaseUrls"> = ClientJob>(
  job: J,
  script: URL = CLIENT,
): Promise<ReadyClient<R>> {
  const hosts = [job.baseUrl, ...(job.alsoBaseUrls ?? [])].map((u) => new URL(u).host).join(",");
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", `--allow-net=${hosts}`, script.pathname],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  const replies = lines(child.stdout);
  const send = (x: unknown) => writer.write(new TextEncoder().encode(JSON.stringify(x) + "\n"));
  const reply = async <T>(): Promise<T> => {
    const r = await replies.next();
    if (r.done) {
      const status = await child.status;
      throw new Error(`load client exited (code ${status.code}) without answering`);
    }
    return JSON.parse(r.value) as T;
  };
  await send(job);
  await reply<{ ready: true }>();
  return {
    async go() {
      await send({ go: true });
      const report = await reply<R>();
      await writer.close();
      await child.status;
      await replies.return(undefined);
      return report;
    },
    kill() {
      try {
        child.kill();
      } catch { /* already gone */ }
    },
  };
}
