// What is checked for one case, against the server and graphql-js.
//
// 1. Validation agreement. graphql-js decides whether the request can run:
//    the text parses, `validate(schema, document)` finds nothing, the
//    operation to run is known, and `getVariableValues` coerces the variables
//    sent. The server "refuses" a request when it answers with errors and no
//    `data`, or with `data: null` and errors none of which has a `path` (a
//    request error: parse, validation, variables). An answer with
//    LIMIT_EXCEEDED is counted as "out of limits" and not judged.
//    Both must accept, or both refuse.
// 2. Paths agree. A request both accept is also sent as an HTTP GET and over
//    a WebSocket (graphql-transport-ws); each answer, parsed and written out
//    again with JSON.stringify (so key order counts), must be the POST's. A
//    request both refuse must be refused on those paths too.
// 3. Collected order and shape. graphql-js `execute` runs the same document
//    and variables over the schema, each field resolved to the value under
//    its response key in the server's own POST answer, and `Node` resolved to
//    the type its `__typename` names. What graphql-js answers is what the
//    spec's execution makes of those values: fields in collected order,
//    skipped and included by the coerced variables (defaults too), nulls
//    propagated to the nearest nullable parent, `{}` for an empty selection.
//    The server's `data` must be that, as JSON text.
import {
  executeSync,
  getOperationAST,
  getVariableValues,
  parse,
  specifiedRules,
  validate,
} from "graphql";

import { caseText } from "./generate.mjs";
import { get, getUrl, post } from "./transport.mjs";

/** What graphql-js makes of a request: { accept, stage, messages, document, operation }. */
export function reference(schema, text, variables, operationName) {
  let document;
  try {
    document = parse(text);
  } catch (err) {
    return { accept: false, stage: "parse", messages: [err.message] };
  }
  const errors = validate(schema, document);
  if (errors.length) return { accept: false, stage: "validation", messages: errors.map((e) => e.message), document };
  const operation = getOperationAST(document, operationName ?? undefined);
  if (!operation) {
    const message = operationName ? `Unknown operation named "${operationName}".` : "Must provide operation name if query contains multiple operations.";
    return { accept: false, stage: "operation", messages: [message], document };
  }
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {}, { maxErrors: 5 });
  if (coerced.errors) return { accept: false, stage: "variables", messages: coerced.errors.map((e) => e.message), document };
  return { accept: true, stage: "ok", messages: [], document, operation };
}

/** Which specified validation rules a document breaks (for naming a disagreement). */
export function brokenRules(schema, document) {
  return specifiedRules.filter((rule) => validate(schema, document, [rule]).length).map((rule) => rule.name.replace(/Rule$/, ""));
}

/** How the server answered: "accept", "refuse" or "limit". */
export function verdict(body) {
  const errors = Array.isArray(body?.errors) ? body.errors : [];
  if (errors.some((e) => e?.extensions?.code === "LIMIT_EXCEEDED")) return "limit";
  if (!("data" in body) && errors.length) return "refuse";
  if (body.data === null && errors.length && errors.every((e) => !e.path)) return "refuse";
  return "accept";
}

/**
 * The body as compared across paths. Dropped: `extensions.requestId` of an
 * error, which names the one request that failed (a new one each time) so
 * that it can be found in the server's log. Nothing else is dropped (with
 * rate limiting off no answer carries rate-limit extensions).
 */
export function comparable(body) {
  if (!Array.isArray(body?.errors)) return body;
  return {
    ...body,
    errors: body.errors.map((e) => {
      if (!e?.extensions || !("requestId" in e.extensions)) return e;
      const { requestId, ...rest } = e.extensions;
      return { ...e, extensions: rest };
    }),
  };
}

/** Runs graphql-js over the server's data: the answer the spec calls for, given those values. */
export function expectedData(schema, document, serverData, variables, operationName) {
  let unresolvedType = false;
  const missing = [];
  const result = executeSync({
    schema,
    document,
    rootValue: serverData ?? null,
    variableValues: variables ?? {},
    operationName: operationName ?? undefined,
    fieldResolver: (source, _args, _context, info) => {
      if (source == null) return undefined;
      // A field graphql-js executes whose key the server's object lacks.
      if (!(info.path.key in source)) missing.push(pathOf(info.path));
      return source[info.path.key];
    },
    typeResolver: (value) => {
      if (typeof value?.__typename !== "string") unresolvedType = true;
      return value?.__typename;
    },
  });
  return { data: result.data, errors: result.errors ?? [], unresolvedType, missing };
}

function pathOf(path) {
  const out = [];
  for (let p = path; p; p = p.prev) out.unshift(p.key);
  return out;
}

const startsWith = (path, prefix) => prefix.every((key, i) => path[i] === key);

/**
 * What kind of shape disagreement the server's data has, given graphql-js's
 * answer over the same values.
 */
function shapeKind(expected, serverBody) {
  const data = serverBody.data;
  const serverErrors = Array.isArray(serverBody.errors) ? serverBody.errors : [];
  if (data === null && !serverErrors.length) return { kind: "data: null without errors", at: [] };
  if (expected.missing.length) return { kind: "a selected field is missing", at: expected.missing[0] };
  // graphql-js met a null where the schema says non-null: either the server
  // raised an error there and kept the parent (no null propagation), or it
  // answered null without any error (e.g. an object whose every field was
  // skipped, which is `{}`).
  const nonNull = expected.errors.find((e) => /non-nullable/.test(e.message) && e.path);
  if (nonNull) {
    const raised = serverErrors.some((e) => Array.isArray(e.path) && startsWith(e.path, nonNull.path));
    return raised
      ? { kind: "null not propagated to the nearest nullable parent", at: nonNull.path }
      : { kind: "null for a non-null field, without an error", at: nonNull.path };
  }
  const d = firstDifference(expected.data, data);
  return { kind: d.kind, at: d.path };
}

/**
 * Where a syntax error points, for naming the kind of refusal: the string
 * literal at that place (and which escapes it uses), or the character.
 */
function lexicalHint(text, error) {
  const loc = error?.locations?.[0];
  if (!loc || !/-->|syntax|expected/.test(error.message ?? "")) return "";
  const line = text.split(/\r\n|\r|\n/)[loc.line - 1];
  if (line === undefined) return "";
  const rest = [...line].slice(loc.column - 1).join("");
  if (rest.startsWith('"')) {
    const literal = rest.startsWith('"""') ? rest : (rest.match(/^"(?:[^"\\]|\\.)*"/)?.[0] ?? rest);
    const features = [];
    if (literal.startsWith('"""')) features.push("a block string");
    if (/\\u\{/.test(literal)) features.push("a braced \\u{…} escape");
    if (/\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F]/.test(literal)) features.push("an escaped surrogate pair");
    if (/\\[\/bf]/.test(literal)) features.push("a \\/, \\b or \\f escape");
    return ` (at a string with ${features.join(" and ") || "no unusual escape"})`;
  }
  const ch = rest.codePointAt(0);
  return ch === undefined ? " (at the end of a line)" : ` (at U+${ch.toString(16).toUpperCase().padStart(4, "0")})`;
}

/**
 * The first place two JSON values differ, described without the data:
 * { kind, path }. Kinds: "key order", "missing key", "extra key",
 * "null where a value was expected", "value where null was expected",
 * "list length", "value".
 */
export function firstDifference(expected, actual, path = []) {
  if (JSON.stringify(expected) === JSON.stringify(actual)) return null;
  if (expected === undefined) return { kind: "extra entry", path };
  if (actual === undefined) return { kind: "missing entry", path };
  if (expected === null) return { kind: "value where null was expected", path };
  if (actual === null) {
    const empty = typeof expected === "object" && !Array.isArray(expected) && Object.keys(expected).length === 0;
    return { kind: empty ? "null where {} was expected" : "null where a value was expected", path };
  }
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length !== actual.length) return { kind: "list length", path };
    for (let i = 0; i < expected.length; i++) {
      const d = firstDifference(expected[i], actual[i], [...path, i]);
      if (d) return d;
    }
  }
  if (typeof expected === "object" && typeof actual === "object" && !Array.isArray(expected) && !Array.isArray(actual)) {
    const ek = Object.keys(expected);
    const ak = Object.keys(actual);
    const missing = ek.find((k) => !(k in actual));
    if (missing !== undefined) return { kind: "missing key", path: [...path, missing] };
    const extra = ak.find((k) => !(k in expected));
    if (extra !== undefined) return { kind: "extra key", path: [...path, extra] };
    for (const k of ek) {
      const d = firstDifference(expected[k], actual[k], [...path, k]);
      if (d) return d;
    }
    if (ek.join("\0") !== ak.join("\0")) return { kind: "key order", path };
  }
  return { kind: "value", path };
}

/** A message with its particulars (names, numbers) blanked, to group disagreements by kind. */
export function normalizeMessage(message) {
  return String(message)
    .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
    .replace(/`[^`]*`/g, "`…`")
    .replace(/\$\w+/g, "$…")
    .replace(/\b\d+\b/g, "N")
    .replace(/\s+/g, " ")
    .slice(0, 160);
}

function describeServerRefusal(body, text) {
  const first = body.errors?.[0];
  let message = first?.message ?? "";
  // The parser's own format quotes the offending line of the document.
  if (/^\s*-->/.test(message)) {
    const expected = message.match(/\n\s*= (.*)$/);
    message = `syntax error (the message quotes the document): ${expected ? expected[1] : "(cut)"}`;
  }
  return `${first?.extensions?.code ?? "?"}: ${normalizeMessage(message)}${lexicalHint(text, first)}`;
}

/**
 * Runs every check on one case. `paths` limits which paths are tried
 * ("POST" always runs). Returns an outcome:
 * { text, request, ref, post, status: "accept"|"refuse"|"limit"|"disagree", disagreements: [...], getSkipped, oracleSkipped }
 * Each disagreement: { category: "validation"|"paths"|"shape", signature, detail }.
 */
export async function runCase(ctx, c, { categories = ["validation", "paths", "shape"] } = {}) {
  const text = c.text ?? caseText(c);
  const hasVariables = c.variables && Object.keys(c.variables).length > 0;
  const request = { query: text, variables: hasVariables ? c.variables : undefined, operationName: c.operationName ?? undefined };
  const token = c.anonymous ? null : ctx.token;
  const ref = reference(ctx.schema, text, request.variables, request.operationName);
  const answer = await post(ctx.url, token, request);
  const outcome = { text, request, ref, post: answer.body, disagreements: [], getSkipped: false, oracleSkipped: false, answers: {} };
  const server = verdict(answer.body);
  if (server === "limit") {
    outcome.status = "limit";
    return outcome;
  }
  const add = (category, signature, detail) => outcome.disagreements.push({ category, signature, detail });

  // 1. Validation agreement.
  if (ref.accept !== (server === "accept")) {
    if (categories.includes("validation")) {
      if (ref.accept) {
        add("validation", `server refuses, graphql-js accepts — ${describeServerRefusal(answer.body, text)}`, {});
      } else if (ref.stage === "validation") {
        // The server missed every rule the document breaks: one kind each.
        const rules = brokenRules(ctx.schema, ref.document);
        for (const rule of rules.length ? rules : ["?"]) {
          add("validation", `graphql-js refuses (validation: ${rule}), server runs it`, { rules });
        }
      } else {
        add("validation", `graphql-js refuses (${ref.stage}: ${normalizeMessage(ref.messages[0])}), server runs it`, {});
      }
    }
    outcome.status = "disagree";
    return outcome;
  }

  // 2. Paths agree.
  if (categories.includes("paths")) {
    const expected = JSON.stringify(comparable(answer.body));
    const url = getUrl(ctx.url, request);
    const others = [];
    if (url) others.push(["GET", () => get(url, token)]);
    else outcome.getSkipped = true;
    others.push(["WebSocket", () => ctx.sockets.run(token, request)]);
    for (const [path, send] of others) {
      let body;
      let messages;
      try {
        ({ body, messages } = await send());
      } catch (err) {
        add("paths", `${path} failed: ${normalizeMessage(err.message)}`, { path, error: err.message });
        continue;
      }
      outcome.answers[path] = body;
      if (server === "refuse") {
        // A refusal is the same on every path: the same errors (a `data`
        // entry aside), and over graphql-transport-ws an `error` message.
        if (verdict(body) !== "refuse") {
          add("paths", `${path} runs what POST refuses`, { path, body });
          continue;
        }
        const mine = comparable({ errors: answer.body.errors }).errors ?? [];
        const theirs = comparable({ errors: body.errors }).errors ?? [];
        const d = firstDifference(mine, theirs, ["errors"]);
        const sorted = (list) => JSON.stringify(list.map((e) => JSON.stringify(e)).sort());
        if (d && sorted(mine) === sorted(theirs)) add("paths", `${path} refuses with the same errors as POST in another order`, { path, body });
        else if (d) add("paths", `${path} refuses with other errors than POST: ${d.kind}`, { path, body, at: d.path });
        if (messages && messages[0] !== "error") {
          add("paths", `${path} answers a request error with ${messages.join("/")}, not an \`error\` message`, { path, body });
        }
      } else if (JSON.stringify(comparable(body)) !== expected) {
        const d = firstDifference(comparable(answer.body), comparable(body));
        const kind = verdict(body) === "refuse" ? "refuses what POST runs" : `differs from POST: ${d.kind}`;
        add("paths", `${path} ${kind}`, { path, body, at: d.path });
      }
    }
  }

  // 3. Collected order and shape, by graphql-js over the server's values.
  if (server === "accept" && categories.includes("shape")) {
    const data = answer.body.data;
    if (data === undefined) {
      add("shape", "answer without data and without errors", {});
    } else {
      const expected = expectedData(ctx.schema, ref.document, data, request.variables, request.operationName);
      if (expected.unresolvedType) {
        outcome.oracleSkipped = true;
      } else if (JSON.stringify(expected.data) !== JSON.stringify(data)) {
        const { kind, at } = shapeKind(expected, answer.body);
        add("shape", kind, { expected: expected.data, at });
      }
    }
  }
  outcome.status = outcome.disagreements.length ? "disagree" : server;
  return outcome;
}
