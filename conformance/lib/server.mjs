// Starts the real `conduit serve` for one run of the suite, on a free port,
// with production defaults except for the rate limits (switched off, so the
// thousands of requests of a run are never refused and every path answers
// alike) and the sign-in attempt budget (raised, for the seeding).
//
// The backend comes from the environment:
// - default: SQLite in a temporary DATA_DIR;
// - CONFORMANCE_DATABASE_URL (postgres://… or mysql://…): a fresh database
//   named conduit_t_<random hex> is created on that server with psql or the
//   mariadb client, used through DATABASE_URL and dropped at the end;
// - CONFORMANCE_REDIS_URL: passed as REDIS_URL, with a REDIS_PREFIX of the
//   run's own so that runs sharing one Redis never see each other's keys.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const binary =
  process.env.CONDUIT_BIN || fileURLToPath(new URL("../../target/debug/conduit", import.meta.url));

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** A fresh database on the server `url` names; returns its URL and how to drop it. */
function createDatabase(url) {
  const name = `conduit_t_${randomBytes(12).toString("hex")}`;
  const parsed = new URL(url);
  const scheme = parsed.protocol.replace(/:$/, "");
  let drop;
  if (scheme === "postgres" || scheme === "postgresql") {
    execFileSync("psql", [url, "-qAtc", `CREATE DATABASE "${name}"`], { stdio: "pipe" });
    drop = () => execFileSync("psql", [url, "-qAtc", `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`], { stdio: "pipe" });
  } else if (scheme === "mysql" || scheme === "mariadb") {
    const args = ["-h", parsed.hostname || "127.0.0.1", "-P", parsed.port || "3306", "-u", decodeURIComponent(parsed.username || "root")];
    if (parsed.password) args.push(`-p${decodeURIComponent(parsed.password)}`);
    execFileSync("mariadb", [...args, "-e", `CREATE DATABASE \`${name}\``], { stdio: "pipe" });
    drop = () => execFileSync("mariadb", [...args, "-e", `DROP DATABASE IF EXISTS \`${name}\``], { stdio: "pipe" });
  } else {
    throw new Error(`CONFORMANCE_DATABASE_URL: unsupported scheme ${scheme}`);
  }
  // Replace the database name: the path of the URL, keeping any query string.
  parsed.pathname = `/${name}`;
  return { url: parsed.toString(), name, drop };
}

/** Describes the backend the environment asks for, for the report. */
export function backendName() {
  const db = process.env.CONFORMANCE_DATABASE_URL;
  const scheme = db ? new URL(db).protocol.replace(/:$/, "") : "sqlite";
  const kind = { postgresql: "postgres", mariadb: "mysql" }[scheme] ?? scheme;
  return process.env.CONFORMANCE_REDIS_URL ? `${kind}+redis` : kind;
}

/** Starts the server; resolves to { url, wsUrl, base, log(), stop() }. */
export async function startServer() {
  const dir = mkdtempSync(join(tmpdir(), "conduit-conformance-"));
  const port = await freePort();
  const base = `127.0.0.1:${port}`;
  const env = {
    ...process.env,
    DATA_DIR: dir,
    BIND: base,
    LOG_FORMAT: "json",
    RUST_LOG: process.env.RUST_LOG ?? "warn",
    ENVIRONMENT: "production",
    RATE_LIMIT_ENABLED: "false",
    AUTH_RATE_LIMIT_ATTEMPTS: "1000000",
  };
  // The suite's own variables are not the server's.
  for (const name of Object.keys(env)) {
    if (name.startsWith("CONFORMANCE_")) delete env[name];
  }
  let database = null;
  if (process.env.CONFORMANCE_DATABASE_URL) {
    database = createDatabase(process.env.CONFORMANCE_DATABASE_URL);
    env.DATABASE_URL = database.url;
  } else {
    delete env.DATABASE_URL;
  }
  if (process.env.CONFORMANCE_REDIS_URL) {
    env.REDIS_URL = process.env.CONFORMANCE_REDIS_URL;
    env.REDIS_PREFIX = `conduit_t_${randomBytes(8).toString("hex")}`;
  } else {
    delete env.REDIS_URL;
  }
  let output = "";
  const child = spawn(binary, ["serve"], { env, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.on("exit", resolve));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null) child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
    if (database) {
      try {
        database.drop();
      } catch (err) {
        console.error(`could not drop ${database.name}: ${err.message}`);
      }
    }
  };
  for (let attempt = 0; attempt < 240; attempt++) {
    if (child.exitCode !== null) break;
    try {
      const ready = await fetch(`http://${base}/readyz`);
      if (ready.ok) {
        return {
          url: `http://${base}/graphql`,
          wsUrl: `ws://${base}/graphql`,
          base,
          database: database?.name ?? null,
          log: () => output,
          stop,
        };
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await stop();
  throw new Error(`the server did not start:\n${output}`);
}
