// The GraphQL conformance suite: starts the real server, seeds it, runs the
// fixed regression cases (regressions.json), then generated documents, and
// checks each against graphql-js (see lib/check.mjs for what is checked).
// Disagreements are grouped by kind, one case of each kind is shrunk to a
// minimal document, and the run exits non-zero if there is any.
//
// Environment:
//   CONFORMANCE_SEED         seed of the generated cases (default: random; always printed)
//   CONFORMANCE_CASES        how many generated cases (default 2000)
//   CONFORMANCE_CONCURRENCY  cases in flight at once (default 4)
//   CONFORMANCE_SHRINK_SECONDS  time for shrinking, all kinds together (default 60; 0: none)
//   CONFORMANCE_DATABASE_URL / CONFORMANCE_REDIS_URL  the backend (lib/server.mjs)
//   CONFORMANCE_REPORT       a file to write the results to, as JSON
//   CONFORMANCE_ONLY         case numbers (e.g. "12,40") to run alone, printing every answer
//   CONDUIT_BIN              the server binary (default target/debug/conduit)
import { execFileSync } from "node:child_process";
import { randomInt } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { buildSchema } from "graphql";

import { runCase, verdict } from "./lib/check.mjs";
import { caseText, generateCase } from "./lib/generate.mjs";
import { seed as seedData } from "./lib/seed.mjs";
import { backendName, binary, startServer } from "./lib/server.mjs";
import { shrink } from "./lib/shrink.mjs";
import { SocketPool } from "./lib/transport.mjs";

const env = process.env;
const SEED = env.CONFORMANCE_SEED ? Number(env.CONFORMANCE_SEED) >>> 0 : randomInt(2 ** 31);
const CASES = Number(env.CONFORMANCE_CASES ?? 2000);
const CONCURRENCY = Math.max(1, Number(env.CONFORMANCE_CONCURRENCY ?? 4));
const SHRINK_SECONDS = Number(env.CONFORMANCE_SHRINK_SECONDS ?? 60);
const backend = backendName();

const log = (line = "") => process.stdout.write(`${line}\n`);
const indent = (text, by = "      ") => String(text).replace(/^/gm, by);
const short = (value, max = 1500) => {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
};

/**
 * The schema the documents are generated from and checked against: the
 * repository's schema.graphql, which a test keeps equal to `conduit schema`;
 * if the binary prints another (it was built from other sources), the
 * binary's own is used, since that is what the server runs.
 */
function loadSchema() {
  const file = readFileSync(new URL("../schema.graphql", import.meta.url), "utf8");
  let printed = file;
  try {
    printed = execFileSync(binary, ["schema"], { encoding: "utf8", env: { ...env, RUST_LOG: "error" } });
  } catch (err) {
    log(`note: \`${binary} schema\` failed (${err.message.split("\n")[0]}); using schema.graphql`);
  }
  if (printed.trim() !== file.trim()) log("note: the binary's schema differs from schema.graphql; using the binary's");
  return buildSchema(printed);
}

/** Runs `work(i)` for i in [0, n) with `limit` in flight. */
async function pool(n, limit, work) {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, n) }, async () => {
    while (next < n) await work(next++);
  });
  await Promise.all(workers);
}

/**
 * Runs one regression entry (`repeat` times, for answers that change from
 * one run to the next); returns the ways it failed (none when it passed).
 */
async function runRegression(ctx, entry) {
  let last;
  for (let i = 0; i < (entry.repeat ?? 1); i++) {
    last = await runRegressionOnce(ctx, entry);
    if (last.failures.length) return last;
  }
  return last;
}

async function runRegressionOnce(ctx, entry) {
  const c = { text: entry.query, variables: entry.variables, operationName: entry.operationName, anonymous: entry.anonymous };
  const outcome = await runCase(ctx, c);
  const failures = [];
  const expectAccept = entry.expect === "accept";
  if (outcome.ref.accept !== expectAccept) {
    failures.push(`the entry is wrong: graphql-js ${outcome.ref.accept ? "accepts" : "refuses"} it (${outcome.ref.messages[0] ?? ""})`);
  }
  const server = verdict(outcome.post);
  if (server === "limit") failures.push("the server answers LIMIT_EXCEEDED");
  else if ((server === "accept") !== expectAccept) failures.push(`the server ${server === "accept" ? "runs" : "refuses"} it`);
  for (const d of outcome.disagreements) if (d.category !== "validation") failures.push(`${d.category}: ${d.signature}`);
  if (entry.data !== undefined && server === "accept" && JSON.stringify(outcome.post.data) !== JSON.stringify(entry.data)) {
    failures.push(`data is not ${JSON.stringify(entry.data)}`);
  }
  if (entry.noErrors && server === "accept" && outcome.post.errors?.length) failures.push("the answer has errors");
  return { failures, outcome };
}

/** The answers of a case (those of GET and WebSocket when they differ from POST's, or all), and graphql-js's verdict. */
function describeOutcome(outcome, { all = false, max = 1500 } = {}) {
  const lines = [];
  lines.push(`server (POST): ${short(outcome.post, max)}`);
  for (const [path, body] of Object.entries(outcome.answers ?? {})) {
    if (all || JSON.stringify(body) !== JSON.stringify(outcome.post)) lines.push(`server (${path}): ${short(body, max)}`);
  }
  if (!outcome.ref.accept) lines.push(`graphql-js: refuses (${outcome.ref.stage}): ${outcome.ref.messages.slice(0, 3).join(" | ")}`);
  else {
    const shape = outcome.disagreements.find((d) => d.category === "shape");
    lines.push(`graphql-js: accepts${shape ? `; data must be ${short(shape.detail.expected)}` : ""}`);
  }
  for (const d of outcome.disagreements) {
    if (d.detail?.at) lines.push(`${d.category}: ${d.signature}, at ${JSON.stringify(d.detail.at)}`);
  }
  return lines.join("\n");
}

async function main() {
  const started = Date.now();
  log(`conformance on ${backend}: seed ${SEED}, ${CASES} cases, ${CONCURRENCY} in flight, server ${binary}`);
  log(`(repeat with CONFORMANCE_SEED=${SEED})`);
  const schema = loadSchema();
  const server = await startServer();
  const sockets = new SocketPool(server.wsUrl, 2);
  const report = { backend, seed: SEED, cases: CASES, regressions: [], counts: {}, kinds: [] };
  let failed = 0;
  try {
    const seeded = await seedData(server.url);
    const ctx = { schema, url: server.url, token: seeded.token, sockets };
    log(`seeded in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    // Fixed regression cases first.
    const entries = JSON.parse(readFileSync(new URL("./regressions.json", import.meta.url), "utf8"));
    let passed = 0;
    for (const entry of entries) {
      const { failures, outcome } = await runRegression(ctx, entry);
      report.regressions.push({ name: entry.name, failures });
      if (!failures.length) {
        passed++;
        continue;
      }
      log(`  FAIL regression ${entry.name}: ${failures.join("; ")}`);
      log(indent(entry.query));
      if (entry.variables) log(indent(`variables: ${JSON.stringify(entry.variables)}`));
      log(indent(describeOutcome(outcome)));
    }
    log(`regressions: ${passed} passed, ${entries.length - passed} failed`);
    failed += entries.length - passed;

    if (env.CONFORMANCE_ONLY) {
      // Replays chosen cases of the seed, with every answer.
      for (const i of env.CONFORMANCE_ONLY.split(",").map(Number)) {
        const c = generateCase(schema, seeded.pools, SEED, i);
        const outcome = await runCase(ctx, c);
        log(`\n#${i}: ${outcome.status}${c.anonymous ? " (without a token)" : ""}`);
        log(indent(outcome.text));
        if (outcome.request.variables) log(indent(`variables: ${JSON.stringify(outcome.request.variables)}`));
        if (outcome.request.operationName) log(indent(`operationName: ${outcome.request.operationName}`));
        log(indent(describeOutcome(outcome, { all: true, max: Infinity })));
      }
      return 0;
    }

    // Generated cases.
    const counts = { cases: CASES, acceptedBoth: 0, refusedBoth: 0, validation: 0, paths: 0, shape: 0, outOfLimits: 0, getSkipped: 0, shapeNotJudged: 0, errors: 0 };
    const kinds = new Map();
    const generatedAt = Date.now();
    await pool(CASES, CONCURRENCY, async (i) => {
      const c = generateCase(schema, seeded.pools, SEED, i);
      let outcome;
      try {
        outcome = await runCase(ctx, c);
      } catch (err) {
        outcome = { status: "disagree", disagreements: [{ category: "paths", signature: `transport failure: ${err.message.slice(0, 120)}`, detail: {} }], ref: { accept: null, messages: [] }, post: null, text: caseText(c) };
        counts.errors++;
      }
      if (outcome.getSkipped) counts.getSkipped++;
      if (outcome.oracleSkipped) counts.shapeNotJudged++;
      if (outcome.status === "limit") counts.outOfLimits++;
      const serverAccepts = outcome.post && verdict(outcome.post) === "accept";
      if (outcome.ref.accept && serverAccepts) counts.acceptedBoth++;
      if (outcome.ref.accept === false && outcome.post && verdict(outcome.post) === "refuse") counts.refusedBoth++;
      for (const category of new Set(outcome.disagreements.map((d) => d.category))) counts[category]++;
      for (const d of outcome.disagreements) {
        const key = `${d.category}\0${d.signature}`;
        if (!kinds.has(key)) kinds.set(key, { category: d.category, signature: d.signature, cases: [] });
        kinds.get(key).cases.push({ c, text: outcome.text, detail: d.detail, stage: outcome.ref.stage });
      }
    });
    const seconds = (Date.now() - generatedAt) / 1000;
    report.counts = counts;
    log(`generated cases (${seconds.toFixed(1)} s):`);
    log(`  cases:                       ${CASES}`);
    log(`  accepted by both:            ${counts.acceptedBoth}`);
    log(`  refused by both:             ${counts.refusedBoth}`);
    log(`  validation disagreements:    ${counts.validation}`);
    log(`  path disagreements:          ${counts.paths}`);
    log(`  order/shape disagreements:   ${counts.shape}`);
    log(`  out of limits:               ${counts.outOfLimits}`);
    log(`  GET not sent (URL over 8000 characters): ${counts.getSkipped}`);
    log(`  shape not judged (an abstract object without __typename): ${counts.shapeNotJudged}`);
    if (counts.errors) log(`  transport failures:          ${counts.errors}`);

    // One minimal case for each kind of disagreement.
    const sorted = [...kinds.values()].sort((a, b) => b.cases.length - a.cases.length);
    const deadline = Date.now() + SHRINK_SECONDS * 1000;
    if (sorted.length) log(`\n${sorted.length} kinds of disagreement:`);
    for (const [n, kind] of sorted.entries()) {
      const first = kind.cases.slice(0, 12).sort((a, b) => a.text.length - b.text.length)[0];
      let minimal = { ...first.c, text: first.text };
      let attempts = 0;
      if (Date.now() < deadline) {
        const holds = async (candidate) => {
          if (Date.now() > deadline) return false;
          const o = await runCase(ctx, candidate, { categories: [kind.category] });
          // The same kind, graphql-js's verdict at the same stage (a refused
          // document does not shrink into one that does not parse), and no
          // rule broken that the original did not break.
          if (o.ref.stage !== first.stage) return false;
          const rules = first.detail?.rules;
          return o.disagreements.some(
            (d) => d.category === kind.category && d.signature === kind.signature && (!rules || d.detail.rules.every((r) => rules.includes(r))),
          );
        };
        const shrunk = await shrink({ ...first.c, text: undefined }, holds);
        minimal = shrunk.case;
        attempts = shrunk.attempts;
      }
      const final = await runCase(ctx, minimal);
      const ids = kind.cases.slice(0, 6).map((k) => `#${k.c.index}`).join(", ");
      log(`\n[${n + 1}] ${kind.category}: ${kind.signature}`);
      log(`    ${kind.cases.length} case(s), e.g. ${ids}${attempts ? `; shrunk in ${attempts} attempts` : ""}`);
      log(indent(final.text.replace(/\r\n?/g, "\n")));
      if (/\r/.test(final.text)) log(indent("(its lines end with CR LF)"));
      if (final.request.variables) log(indent(`variables: ${JSON.stringify(final.request.variables)}`));
      if (final.request.operationName) log(indent(`operationName: ${final.request.operationName}`));
      if (minimal.anonymous) log(indent("(sent without a token)"));
      log(indent(describeOutcome(final)));
      if (!final.disagreements.some((d) => d.category === kind.category && d.signature === kind.signature)) {
        log(indent("(not seen again on this last run: this disagreement comes and goes)"));
      }
      report.kinds.push({
        category: kind.category,
        signature: kind.signature,
        count: kind.cases.length,
        cases: kind.cases.map((k) => k.c.index),
        minimal: { query: final.text, variables: final.request.variables, operationName: final.request.operationName, anonymous: minimal.anonymous || undefined, expect: final.ref.accept ? "accept" : "refuse" },
        server: final.post,
        reference: final.ref.accept ? "accept" : `refuse (${final.ref.stage}): ${final.ref.messages[0]}`,
      });
    }
    const disagreeing = new Set(sorted.flatMap((k) => k.cases.map((x) => x.c.index))).size;
    failed += disagreeing;
    log(`\nconformance on ${backend} (seed ${SEED}) took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    log(`conformance: ${CASES - disagreeing + passed} passed, ${failed} failed`);
  } finally {
    sockets.close();
    await server.stop();
    if (env.CONFORMANCE_REPORT) writeFileSync(env.CONFORMANCE_REPORT, JSON.stringify(report, null, 2));
  }
  return failed;
}

main().then(
  (failed) => process.exit(failed ? 1 : 0),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);
