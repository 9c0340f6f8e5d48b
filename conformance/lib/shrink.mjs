// Shrinks a case while a disagreement persists: one at a time, it tries
// removing a definition, a selection, an argument, a directive, a variable
// definition, a default value, an alias, a list item or input field, a
// variable's value, an inline fragment's type condition, or unwrapping an
// inline fragment into its parent; a change is kept when the same kind of
// disagreement (its signature) is still found. Passes repeat until none
// helps, or the attempts run out.
import { Kind } from "graphql";

const REMOVABLE_LISTS = new Set(["definitions", "selections", "arguments", "directives", "variableDefinitions", "fields", "values"]);

/** The edits that can be tried on `c`, each a function returning a new case. */
function edits(c) {
  const out = [];
  const walk = (node, path) => {
    for (const [key, value] of Object.entries(node)) {
      if (Array.isArray(value)) {
        value.forEach((item, i) => {
          if (REMOVABLE_LISTS.has(key) && !(key === "selections" && value.length === 1)) {
            out.push((doc) => at(doc, path)[key].splice(i, 1));
          }
          if (key === "selections" && item.kind === Kind.INLINE_FRAGMENT) {
            out.push((doc) => {
              const list = at(doc, path)[key];
              list.splice(i, 1, ...list[i].selectionSet.selections);
            });
          }
          if (item && typeof item === "object") walk(item, [...path, key, i]);
        });
      } else if (value && typeof value === "object") {
        if (key === "alias" || key === "defaultValue" || (key === "typeCondition" && node.kind === Kind.INLINE_FRAGMENT)) {
          out.push((doc) => delete at(doc, path)[key]);
        }
        walk(value, [...path, key]);
      }
    }
  };
  walk(c.doc, []);
  const before = usage(c.doc);
  const candidates = out.map((edit) => () => {
    const doc = structuredClone(c.doc);
    edit(doc);
    return tidy({ ...c, doc, text: undefined }, before);
  });
  // Variable values, the operation name, the lexical style.
  for (const name of Object.keys(c.variables ?? {})) {
    candidates.push(() => {
      const variables = { ...c.variables };
      delete variables[name];
      return { ...c, variables, text: undefined };
    });
  }
  if (c.operationName) candidates.push(() => ({ ...c, operationName: null, text: undefined }));
  if (c.style && Object.values(c.style).some(Boolean)) candidates.push(() => ({ ...c, style: {}, text: undefined }));
  return candidates;
}

/** The variables and fragments a document uses (not counting their definitions). */
function usage(doc) {
  const vars = new Set();
  const fragments = new Set();
  const walk = (node) => {
    if (!node || typeof node !== "object") return;
    if (node.kind === Kind.VARIABLE) vars.add(node.name.value);
    if (node.kind === Kind.FRAGMENT_SPREAD) fragments.add(node.name.value);
    for (const [key, value] of Object.entries(node)) {
      if (key === "variableDefinitions") continue;
      if (Array.isArray(value)) value.forEach(walk);
      else if (value && typeof value === "object") walk(value);
    }
  };
  walk(doc);
  return { vars, fragments };
}

/**
 * Removes what an edit left unused: variable definitions (and values) and
 * fragment definitions that were used before it. What was unused already
 * stays, since it may be what the disagreement is about.
 */
function tidy(c, before) {
  for (let round = 0; round < 10; round++) {
    const now = usage(c.doc);
    const lostVars = [...before.vars].filter((v) => !now.vars.has(v));
    const lostFragments = [...before.fragments].filter((f) => !now.fragments.has(f));
    let changed = false;
    for (const def of c.doc.definitions) {
      if (def.kind !== Kind.OPERATION_DEFINITION) continue;
      const kept = def.variableDefinitions.filter((v) => !lostVars.includes(v.variable.name.value));
      if (kept.length !== def.variableDefinitions.length) {
        def.variableDefinitions = kept;
        changed = true;
      }
    }
    const definitions = c.doc.definitions.filter((d) => !(d.kind === Kind.FRAGMENT_DEFINITION && lostFragments.includes(d.name.value)));
    if (definitions.length !== c.doc.definitions.length) {
      c.doc.definitions = definitions;
      changed = true;
    }
    if (c.variables && lostVars.some((v) => v in c.variables)) {
      c.variables = Object.fromEntries(Object.entries(c.variables).filter(([k]) => !lostVars.includes(k)));
    }
    if (!changed) break;
  }
  return c;
}

function at(doc, path) {
  return path.reduce((node, key) => node[key], doc);
}

/**
 * Shrinks `c` while `holds(case)` resolves true. `budget` caps the attempts.
 * Returns { case, attempts }.
 */
export async function shrink(c, holds, budget = 250) {
  let current = c;
  let attempts = 0;
  let improved = true;
  while (improved && attempts < budget) {
    improved = false;
    let index = 0;
    for (;;) {
      const candidates = edits(current);
      if (index >= candidates.length || attempts >= budget) break;
      const candidate = candidates[index]();
      attempts++;
      let ok = false;
      try {
        ok = await holds(candidate);
      } catch {
        ok = false;
      }
      if (ok) {
        current = candidate;
        improved = true;
        // The same index now names the next edit of the smaller case.
      } else {
        index++;
      }
    }
  }
  return { case: current, attempts };
}
