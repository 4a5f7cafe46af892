/**
 * A real Apache Kafka for development and tests: single node, KRaft (broker and controller in one
 * JVM), on loopback ports. Shared by `deno task kafka` (scripts/kafka.ts) and the test helper
 * (tests/kafka/broker.ts).
 *
 * The jars come from Maven Central through Maven: `org.apache.kafka:kafka_2.13` plus the logging
 * binding its POM leaves out (`ch.qos.reload4j:reload4j`, `org.slf4j:slf4j-reload4j`, the versions
 * the Kafka 3.9.1 distribution ships). They are copied once into a cache directory
 * (`KAFKA_CACHE_DIR`, default `~/.cache/training-booking/kafka-3.9.1`); later starts reuse them.
 * Needs Java 17+ (`java`) and Maven (`mvn`) on PATH.
 */
import { Kafka, logLevel } from "kafkajs";

export const KAFKA_VERSION = "3.9.1";
const SCALA_VERSION = "2.13";
/** Versions in the Apache Kafka 3.9.1 binary distribution's libs/. */
const RELOAD4J_VERSION = "1.2.25";
const SLF4J_VERSION = "1.7.36";
const DEPENDENCY_PLUGIN_VERSION = "3.8.1";

/** Options for {@link startKafkaBroker}. */
export interface KafkaBrokerOptions {
  /** PLAINTEXT port on 127.0.0.1; default: the port stored in `dataDir`, else a free one. */
  port?: number;
  /** Directory for the config, the logs and the topic data; default: a new temporary directory. */
  dataDir?: string;
  /** Where the jars are cached; default `KAFKA_CACHE_DIR` or `~/.cache/training-booking/kafka-3.9.1`. */
  cacheDir?: string;
  /** JVM max heap; default "512m". */
  heap?: string;
  /** Extra JVM options (after the defaults). */
  jvmOptions?: string[];
  /** How long to wait for the broker to answer; default 90 s. */
  startTimeoutMs?: number;
  /** Progress messages (downloads, formatting); default: none. */
  log?: (message: string) => void;
  /**
   * Also listen on a SASL_SSL port (as hosted Kafka does) that accepts these users with PLAIN,
   * SCRAM-SHA-256 and SCRAM-SHA-512, behind a TLS certificate for 127.0.0.1 signed by a CA made
   * here with Java's `keytool` ({@link KafkaBroker.caFile}). Set when the data directory is made.
   */
  saslSsl?: { users: { username: string; password: string }[] };
}

/** A running single-node Kafka. */
export interface KafkaBroker {
  /** `["127.0.0.1:<port>"]`. */
  readonly brokers: string[];
  /** `["127.0.0.1:<port>"]` of the SASL_SSL listener; empty without `saslSsl`. */
  readonly saslSslBrokers: string[];
  /** PEM of the CA that signed the broker's certificate (for clients' `ssl.ca`); null without `saslSsl`. */
  readonly caFile: string | null;
  readonly port: number;
  readonly dataDir: string;
  /** The broker's own log (log4j). */
  readonly logFile: string;
  /** Milliseconds the last start took, from spawning the JVM to a successful admin call. */
  readonly startMs: number;
  /** Whether the JVM is running. */
  readonly running: boolean;
  /** Graceful stop (SIGTERM, then SIGKILL after 30 s). Keeps the data; a no-op when stopped. */
  stop(): Promise<void>;
  /** Crash: SIGKILL. Keeps the data (Kafka recovers its logs on the next start). */
  kill(): Promise<void>;
  /** Starts the JVM again on the same ports and data after `stop()` or `kill()`. */
  restart(): Promise<void>;
  /** Stops the broker and, when the data directory was a temporary one, removes it. */
  close(): Promise<void>;
}

/** Error thrown when Kafka cannot be fetched or started; the message says what to do. */
export class KafkaStartError extends Error {
  override name = "KafkaStartError";
}

/** `~/.cache/training-booking/kafka-<version>`, or `KAFKA_CACHE_DIR`. */
export function defaultCacheDir(): string {
  const fromEnv = Deno.env.get("KAFKA_CACHE_DIR");
  if (fromEnv) return fromEnv;
  const base = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? Deno.cwd()}/.cache`;
  return `${base}/training-booking/kafka-${KAFKA_VERSION}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** Runs a command to completion; throws KafkaStartError with its output when it fails. */
async function run(cmd: string, args: string[], what: string, cwd?: string): Promise<string> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(cmd, { args, cwd, stdin: "null", stdout: "piped", stderr: "piped" }).output();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      const install = cmd === "mvn" ? "maven" : "openjdk-17-jre-headless";
      throw new KafkaStartError(
        `Kafka needs \`${cmd}\` on PATH (not found). Install it, e.g. \`sudo apt-get install ${install}\`.`,
      );
    }
    throw err;
  }
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) {
    throw new KafkaStartError(`${what} failed (exit ${out.code}):\n${text.slice(-4000)}`);
  }
  return text;
}

function pomXml(): string {
  const dep = (g: string, a: string, v: string) =>
    `    <dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></dependency>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by scripts/kafka_lib.ts: the jars of a Kafka ${KAFKA_VERSION} broker. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.training-booking</groupId>
  <artifactId>kafka-broker</artifactId>
  <version>${KAFKA_VERSION}</version>
  <packaging>pom</packaging>
  <dependencies>
${dep("org.apache.kafka", `kafka_${SCALA_VERSION}`, KAFKA_VERSION)}
${dep("ch.qos.reload4j", "reload4j", RELOAD4J_VERSION)}
${dep("org.slf4j", "slf4j-reload4j", SLF4J_VERSION)}
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-dependency-plugin</artifactId>
        <version>${DEPENDENCY_PLUGIN_VERSION}</version>
      </plugin>
    </plugins>
  </build>
</project>
`;
}

/** Takes an exclusive lock file, waiting for another process holding it (stale after 15 min). */
async function withLock<T>(lockPath: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 20 * 60_000;
  while (true) {
    try {
      const file = await Deno.open(lockPath, { createNew: true, write: true });
      await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
      file.close();
      break;
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
      const info = await Deno.stat(lockPath).catch(() => null);
      if (info?.mtime && Date.now() - info.mtime.getTime() > 15 * 60_000) {
        await Deno.remove(lockPath).catch(() => {});
        continue;
      }
      if (Date.now() > deadline) throw new KafkaStartError(`Timed out waiting for the lock ${lockPath}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    await Deno.remove(lockPath).catch(() => {});
  }
}

/**
 * Makes sure the Kafka jars are in `cacheDir/jars` (fetching them with Maven the first time)
 * and returns that directory. Safe to call from several processes at once.
 */
export async function ensureKafkaJars(
  cacheDir = defaultCacheDir(),
  log: (message: string) => void = () => {},
): Promise<string> {
  const jars = `${cacheDir}/jars`;
  const marker = `${jars}/.complete`;
  if (await exists(marker)) return jars;
  await Deno.mkdir(cacheDir, { recursive: true });
  return await withLock(`${cacheDir}/.lock`, async () => {
    if (await exists(marker)) return jars;
    log(`Fetching Kafka ${KAFKA_VERSION} from Maven Central into ${jars} (first run only)…`);
    const staging = `${cacheDir}/jars.tmp-${Deno.pid}`;
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    await Deno.writeTextFile(`${cacheDir}/pom.xml`, pomXml());
    await run(
      "mvn",
      [
        "-q",
        "-B",
        "-f",
        `${cacheDir}/pom.xml`,
        `org.apache.maven.plugins:maven-dependency-plugin:${DEPENDENCY_PLUGIN_VERSION}:copy-dependencies`,
        `-DoutputDirectory=${staging}`,
        "-DincludeScope=runtime",
      ],
      "Fetching the Kafka jars with Maven",
    );
    const names: string[] = [];
    for await (const entry of Deno.readDir(staging)) names.push(entry.name);
    if (!names.some((n) => n.startsWith(`kafka_${SCALA_VERSION}-${KAFKA_VERSION}`))) {
      throw new KafkaStartError(`Maven finished but ${staging} holds no kafka_${SCALA_VERSION} jar`);
    }
    await Deno.writeTextFile(`${staging}/.complete`, `${names.length} jars\n`);
    await Deno.remove(jars, { recursive: true }).catch(() => {});
    await Deno.rename(staging, jars);
    return jars;
  });
}

/** A free TCP port on 127.0.0.1 (free when asked; Kafka binds it moments later). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * A Kafka cluster id: 16 random bytes, URL-safe base64 without padding. Like Kafka's own
 * `Uuid.randomUuid`, it never starts with "-": StorageTool's argument parser would read such an id
 * as an option ("argument --cluster-id/-t: expected one argument"), about 1 start in 64.
 */
export function randomClusterId(): string {
  while (true) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    const id = btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
    if (!id.startsWith("-")) return id;
  }
}

interface BrokerState {
  port: number;
  controllerPort: number;
  clusterId: string;
  /** The SASL_SSL listener, when the broker was made with one. */
  saslSsl?: { port: number; users: { username: string; password: string }[]; storePassword: string };
}

const SCRAM_MECHANISMS = ["SCRAM-SHA-256", "SCRAM-SHA-512"] as const;

function checkUsers(users: { username: string; password: string }[]): true {
  for (const u of users) {
    if (!SAFE_CREDENTIAL.test(u.username) || !SAFE_CREDENTIAL.test(u.password)) {
      throw new Error("SASL test users need names and passwords of letters, digits, '_', '.', '-'");
    }
  }
  return true;
}

/** Test users: plain names and passwords, safe in JAAS, properties and StorageTool's `--add-scram`. */
const SAFE_CREDENTIAL = /^[A-Za-z0-9_.-]{1,64}$/;

function saslSslProperties(dataDir: string, s: NonNullable<BrokerState["saslSsl"]>): string {
  const plainUsers = s.users.map((u) => `user_${u.username}="${u.password}"`).join(" ");
  return `sasl.enabled.mechanisms=PLAIN,${SCRAM_MECHANISMS.join(",")}
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};
${
    SCRAM_MECHANISMS.map((m) =>
      `listener.name.sasl_ssl.${m.toLowerCase()}.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`
    ).join("\n")
  }
ssl.keystore.type=PKCS12
ssl.keystore.location=${dataDir}/tls/broker.p12
ssl.keystore.password=${s.storePassword}
ssl.key.password=${s.storePassword}
`;
}

function serverProperties(dataDir: string, s: BrokerState): string {
  const sasl = s.saslSsl;
  return `# Generated by scripts/kafka_lib.ts: single-node KRaft broker for development and tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${s.controllerPort}
listeners=PLAINTEXT://127.0.0.1:${s.port},${
    sasl ? `SASL_SSL://127.0.0.1:${sasl.port},` : ""
  }CONTROLLER://127.0.0.1:${s.controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${s.port}${sasl ? `,SASL_SSL://127.0.0.1:${sasl.port}` : ""}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,${sasl ? "SASL_SSL:SASL_SSL," : ""}CONTROLLER:PLAINTEXT
${sasl ? saslSslProperties(dataDir, sasl) : ""}controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=${dataDir}/kraft-logs
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
group.initial.rebalance.delay.ms=0
# After a crash (SIGKILL) the restarted broker cannot register until the controller expires the old
# registration (DUPLICATE_BROKER_REGISTRATION): a 3 s session instead of 9 s keeps that wait short.
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=3000
auto.create.topics.enable=false
log.retention.hours=168
`;
}

function log4jProperties(logFile: string): string {
  return `log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=${logFile}
log4j.appender.file.Append=true
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.org.apache.kafka.clients=WARN
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
`;
}

/** Keeps the last `max` characters of a stream (so a failed JVM can be explained). */
function drainTail(stream: ReadableStream<Uint8Array>, max = 8000): { text(): string } {
  let tail = "";
  (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) tail = (tail + decoder.decode(chunk, { stream: true })).slice(-max);
  })().catch(() => {});
  return { text: () => tail };
}

async function fileTail(path: string, max = 4000): Promise<string> {
  try {
    return (await Deno.readTextFile(path)).slice(-max);
  } catch {
    return "";
  }
}

/**
 * A CA and a broker certificate for 127.0.0.1/localhost signed by it, made with Java's `keytool`:
 * `tls/broker.p12` (the broker's keystore, CA included) and `tls/ca.pem` (for clients).
 */
async function makeTlsMaterial(dataDir: string, password: string): Promise<void> {
  const dir = `${dataDir}/tls`;
  await Deno.mkdir(dir, { recursive: true });
  const store = (name: string) => ["-keystore", `${dir}/${name}.p12`, "-storetype", "PKCS12", "-storepass", password];
  const keytool = (args: string[], what: string) => run("keytool", args, `keytool: ${what}`);
  const san = "SAN=ip:127.0.0.1,dns:localhost";
  await keytool(
    ["-genkeypair", "-alias", "ca", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=Kafka test CA"]
      .concat(["-ext", "bc:c", "-validity", "3650", "-keypass", password, ...store("ca")]),
    "CA key pair",
  );
  await keytool(["-exportcert", "-rfc", "-alias", "ca", "-file", `${dir}/ca.pem`, ...store("ca")], "export the CA");
  await keytool(
    ["-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=localhost"]
      .concat(["-ext", san, "-validity", "3650", "-keypass", password, ...store("broker")]),
    "broker key pair",
  );
  await keytool(["-certreq", "-alias", "broker", "-file", `${dir}/broker.csr`, ...store("broker")], "broker CSR");
  await keytool(
    ["-gencert", "-alias", "ca", "-rfc", "-infile", `${dir}/broker.csr`, "-outfile", `${dir}/broker.pem`]
      .concat(["-ext", san, "-validity", "3650", ...store("ca")]),
    "sign the broker certificate",
  );
  await keytool(
    ["-importcert", "-noprompt", "-alias", "ca", "-file", `${dir}/ca.pem`, ...store("broker")],
    "import CA",
  );
  await keytool(["-importcert", "-alias", "broker", "-file", `${dir}/broker.pem`, ...store("broker")], "import cert");
}

/** Resolves when a kafkajs admin client lists topics; throws when `stopped` settles first. */
async function waitUntilReady(brokers: string[], deadline: number, stopped: Promise<unknown>): Promise<void> {
  let exited = false;
  stopped.then(() => exited = true, () => exited = true);
  let lastError: unknown = null;
  while (!exited && Date.now() < deadline) {
    const kafka = new Kafka({
      clientId: "kafka-probe",
      brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1000,
      requestTimeout: 2000,
      retry: { retries: 0 },
    });
    const admin = kafka.admin();
    try {
      await admin.connect();
      await admin.listTopics();
      return;
    } catch (err) {
      lastError = err;
    } finally {
      await admin.disconnect().catch(() => {});
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  if (exited) throw new KafkaStartError("the Kafka JVM exited during startup");
  throw new KafkaStartError(`Kafka did not answer on ${brokers.join(",")} in time (last error: ${lastError})`);
}

/**
 * Starts a single-node KRaft Kafka (fetching the jars first if needed) and resolves once a
 * kafkajs admin client can list topics. Throws {@link KafkaStartError} with the JVM's output when
 * it cannot start. A `dataDir` that already holds a broker is reused with its ports and data.
 */
export async function startKafkaBroker(options: KafkaBrokerOptions = {}): Promise<KafkaBroker> {
  const log = options.log ?? (() => {});
  const jars = await ensureKafkaJars(options.cacheDir ?? defaultCacheDir(), log);
  const tempDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? await Deno.makeTempDir({ prefix: "kafka-" });
  await Deno.mkdir(dataDir, { recursive: true });
  const stateFile = `${dataDir}/broker.json`;
  const previous: BrokerState | null = await Deno.readTextFile(stateFile).then(JSON.parse, () => null);
  const state: BrokerState = {
    port: options.port ?? previous?.port ?? freePort(),
    controllerPort: previous?.controllerPort ?? freePort(),
    clusterId: previous?.clusterId ?? randomClusterId(),
    saslSsl: previous?.saslSsl ??
      (options.saslSsl && checkUsers(options.saslSsl.users)
        ? { port: freePort(), users: options.saslSsl.users, storePassword: crypto.randomUUID() }
        : undefined),
  };
  if (state.saslSsl && !previous?.saslSsl) await makeTlsMaterial(dataDir, state.saslSsl.storePassword);
  const propsFile = `${dataDir}/server.properties`;
  const logFile = `${dataDir}/server.log`;
  await Deno.writeTextFile(propsFile, serverProperties(dataDir, state));
  await Deno.writeTextFile(`${dataDir}/log4j.properties`, log4jProperties(logFile));
  await Deno.writeTextFile(stateFile, JSON.stringify(state, null, 2) + "\n");
  const classpath = `${jars}/*`;
  const jvmBase = [
    "-Xmx" + (options.heap ?? "512m"),
    "-Xms128m",
    "-XX:+UseG1GC",
    "-Djava.awt.headless=true",
    ...options.jvmOptions ?? [],
  ];
  const log4j = `-Dlog4j.configuration=file:${dataDir}/log4j.properties`;

  if (!await exists(`${dataDir}/kraft-logs/meta.properties`)) {
    log(`Formatting ${dataDir}/kraft-logs (cluster ${state.clusterId})…`);
    await run(
      "java",
      [
        ...jvmBase,
        log4j,
        "-cp",
        classpath,
        "kafka.tools.StorageTool",
        "format",
        "-t",
        state.clusterId,
        "-c",
        propsFile,
        // SCRAM credentials live in the metadata log (KRaft): written when the storage is formatted.
        ...(state.saslSsl?.users ?? []).flatMap((u) =>
          SCRAM_MECHANISMS.flatMap((m) => ["--add-scram", `${m}=[name=${u.username},password=${u.password}]`])
        ),
      ],
      "Formatting Kafka storage (kafka.tools.StorageTool format)",
    );
  }

  const brokers = [`127.0.0.1:${state.port}`];
  let child: Deno.ChildProcess | null = null;
  let startMs = 0;

  const spawn = async () => {
    const began = Date.now();
    try {
      child = new Deno.Command("java", {
        args: [...jvmBase, log4j, `-Dkafka.logs.dir=${dataDir}`, "-cp", classpath, "kafka.Kafka", propsFile],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        throw new KafkaStartError(
          "Kafka needs `java` (17+) on PATH. Install it, e.g. `sudo apt-get install openjdk-17-jre-headless`.",
        );
      }
      throw err;
    }
    const proc: Deno.ChildProcess = child;
    const out = drainTail(proc.stdout);
    const err = drainTail(proc.stderr);
    // Notice a JVM that dies on its own (`running` turns false).
    proc.status.then(() => {
      if (child === proc) child = null;
    });
    try {
      await waitUntilReady(brokers, began + (options.startTimeoutMs ?? 90_000), proc.status);
    } catch (e) {
      try {
        proc.kill("SIGKILL");
      } catch { /* already gone */ }
      await proc.status;
      child = null;
      const output = `${out.text()}${err.text()}`.trim();
      throw new KafkaStartError(
        `Kafka ${KAFKA_VERSION} did not start on ${brokers[0]}: ${(e as Error).message}\n` +
          `--- JVM output ---\n${output.slice(-3000)}\n--- ${logFile} (tail) ---\n${await fileTail(logFile)}`,
      );
    }
    startMs = Date.now() - began;
  };

  const halt = async (signal: "SIGTERM" | "SIGKILL") => {
    const proc = child as Deno.ChildProcess | null;
    if (!proc) return;
    try {
      proc.kill(signal);
    } catch { /* already exited */ }
    const timer = setTimeout(() => {
      try {
        proc.kill("SIGKILL");
      } catch { /* already exited */ }
    }, 30_000);
    await proc.status;
    clearTimeout(timer);
    child = null;
  };

  try {
    await spawn();
  } catch (err) {
    if (tempDir) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    throw err;
  }
  return {
    brokers,
    saslSslBrokers: state.saslSsl ? [`127.0.0.1:${state.saslSsl.port}`] : [],
    caFile: state.saslSsl ? `${dataDir}/tls/ca.pem` : null,
    port: state.port,
    dataDir,
    logFile,
    get startMs() {
      return startMs;
    },
    get running() {
      return child !== null;
    },
    stop: () => halt("SIGTERM"),
    kill: () => halt("SIGKILL"),
    async restart() {
      if (child) await halt("SIGTERM");
      await spawn();
    },
    async close() {
      await halt("SIGTERM");
      if (tempDir) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}
