// Starts the real `conduit serve` for a test: its own SQLite database in a
// temporary directory, on a free port, stopped (and its directory removed)
// by `stop()`. CONDUIT_BIN names the binary; the workspace's debug build by default.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export interface Server {
  /** http://127.0.0.1:<port>/graphql */
  url: string;
  /** ws://127.0.0.1:<port>/graphql */
  wsUrl: string;
  /** Everything the server wrote to stderr so far. */
  log(): string;
  stop(): Promise<void>;
}

const binary =
  process.env.CONDUIT_BIN ?? fileURLToPath(new URL("../../../target/debug/conduit", import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** Starts a server with `env` added to the production defaults. */
export async function startServer(env: Record<string, string> = {}): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), "conduit-client-"));
  const port = await freePort();
  const base = `127.0.0.1:${port}`;
  let output = "";
  const child = spawn(binary, ["serve"], {
    env: { ...process.env, DATA_DIR: dir, BIND: base, LOG_FORMAT: "json", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const stop = async () => {
    child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  for (let attempt = 0; attempt < 120; attempt++) {
    if (child.exitCode !== null) {
      break;
    }
    try {
      const ready = await fetch(`http://${base}/readyz`);
      if (ready.ok) {
        return { url: `http://${base}/graphql`, wsUrl: `ws://${base}/graphql`, log: () => output, stop };
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await stop();
  throw new Error(`the server did not start:\n${output}`);
}
