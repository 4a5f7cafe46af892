/**
 * Parent side of the load-generator process (bench/load_client.ts): starts it with network
 * access only, hands it a job, and lets the caller start the clock when the client is ready.
 */
import { type ClientJob, type ClientReport, lines } from "./load_client.ts";

const CLIENT = new URL("./load_client.ts", import.meta.url);

/** A started client process waiting for `go`. */
export interface ReadyClient {
  /** Starts the load and resolves with the client's report. */
  go(): Promise<ClientReport>;
  /** Kills the process (when the run is abandoned). */
  kill(): void;
}

/** Spawns the load generator and waits until it is set up. */
export async function startClient(job: ClientJob): Promise<ReadyClient> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      `--allow-net=${[job.baseUrl, ...(job.alsoBaseUrls ?? [])].map((u) => new URL(u).host).join(",")}`,
      CLIENT.pathname,
    ],
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
      const report = await reply<ClientReport>();
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
