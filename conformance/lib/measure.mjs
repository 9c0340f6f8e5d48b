// An estimate of the measures the server limits (README "Limits"): depth,
// cost, aliases, root fields, directives and list lengths. The generator
// uses it to stay well inside the production limits, so that a case answered
// LIMIT_EXCEEDED is rare; the server's own measure decides, and such cases
// are counted as "out of limits" rather than judged.
import { Kind } from "graphql";

/** The production limits, with some room left below each. */
export const GENERATOR_LIMITS = {
  depth: 10, // MAX_DEPTH 12
  cost: 12000, // MAX_COST 20000
  aliases: 24, // MAX_ALIASES 30
  rootFields: 14, // MAX_ROOT_FIELDS 20
  directives: 40, // MAX_DIRECTIVES 50
  listLength: 50, // MAX_LIST_LENGTH 100
};

function longestList(value) {
  if (Array.isArray(value)) return Math.max(value.length, ...value.map(longestList));
  if (value && typeof value === "object") return Math.max(0, ...Object.values(value).map(longestList));
  return 0;
}

function longestLiteralList(node) {
  if (!node || typeof node !== "object") return 0;
  let best = node.kind === Kind.LIST ? node.values.length : 0;
  for (const child of Object.values(node)) {
    if (Array.isArray(child)) for (const item of child) best = Math.max(best, longestLiteralList(item));
    else if (child && typeof child === "object") best = Math.max(best, longestLiteralList(child));
  }
  return best;
}

export function measure(doc, variables = {}, operationName) {
  let aliases = 0;
  let directives = 0;
  const countAll = (node) => {
    if (!node || typeof node !== "object") return;
    if (node.kind === Kind.FIELD && node.alias) aliases++;
    if (node.kind === Kind.DIRECTIVE) directives++;
    for (const child of Object.values(node)) {
      if (Array.isArray(child)) child.forEach(countAll);
      else if (child && typeof child === "object") countAll(child);
    }
  };
  countAll(doc);
  const fragments = new Map(doc.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
  const operations = doc.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const op = operations.find((o) => o.name?.value === operationName) ?? operations[0];
  const defaults = Object.fromEntries(
    (op?.variableDefinitions ?? []).filter((v) => v.defaultValue).map((v) => [v.variable.name.value, v.defaultValue]),
  );
  const numberOf = (value) => {
    if (!value) return null;
    if (value.kind === Kind.INT) return Number(value.value);
    if (value.kind === Kind.VARIABLE) {
      const n = value.name.value;
      if (variables[n] !== undefined) return typeof variables[n] === "number" ? variables[n] : null;
      return numberOf(defaults[n]);
    }
    return null;
  };
  const countOf = (value) => {
    if (!value) return 1;
    if (value.kind === Kind.LIST) return value.values.length;
    if (value.kind === Kind.VARIABLE) {
      const v = variables[value.name.value];
      return Array.isArray(v) ? v.length : 1;
    }
    return 1;
  };
  const open = new Set();
  // Returns { depth, cost, fields } of a selection set, fragments expanded.
  const set = (selectionSet) => {
    const size = { depth: 0, cost: 0, fields: 0 };
    for (const s of selectionSet?.selections ?? []) {
      let child;
      if (s.kind === Kind.FIELD) {
        const sub = s.selectionSet ? set(s.selectionSet) : { depth: 0, cost: 0 };
        const arg = (name) => s.arguments?.find((a) => a.name.value === name)?.value;
        const page = numberOf(arg("first")) ?? numberOf(arg("last"));
        const isConnection = s.selectionSet?.selections.some((c) => c.kind === Kind.FIELD && ["edges", "nodes"].includes(c.name.value));
        let times = page ?? (isConnection ? 20 : 1);
        if (arg("ids")) times = countOf(arg("ids"));
        child = { depth: sub.depth + 1, cost: 1 + Math.max(times, 0) * sub.cost, fields: 1 };
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        child = set(s.selectionSet);
      } else {
        const name = s.name.value;
        if (open.has(name) || !fragments.has(name)) continue;
        open.add(name);
        child = set(fragments.get(name).selectionSet);
        open.delete(name);
      }
      size.depth = Math.max(size.depth, child.depth);
      size.cost += child.cost;
      size.fields += child.fields;
    }
    return size;
  };
  const root = op ? set(op.selectionSet) : { depth: 0, cost: 0, fields: 0 };
  return {
    depth: root.depth,
    cost: root.cost,
    rootFields: root.fields,
    aliases,
    directives,
    listLength: Math.max(longestLiteralList(doc), longestList(variables)),
  };
}

export function withinLimits(measured, limits = GENERATOR_LIMITS) {
  return Object.entries(limits).every(([name, max]) => measured[name] <= max);
}
