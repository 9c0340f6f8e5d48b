// Generates query documents from the schema with a seeded PRNG.
//
// Every case is a QUERY (repeatable on the same data). A case covers, at
// random: named fragments and spreads, inline fragments on object types, on
// the interface `Node` and on its implementations, with and without a type
// condition; aliases; the same field repeated with the same or different
// sub-selections; response keys shared by different fields or arguments
// (mostly invalid, some valid under disjoint types); @skip/@include with
// literal conditions, variables, and variables with defaults; `__typename`,
// aliased and under directives; nested connections with small `first`s;
// variables of the argument types (scalars, enums, input objects, lists,
// non-null), sent, omitted, defaulted; string values written with escapes
// (including surrogate pairs), block strings; lexical variants (commas,
// comments, line breaks, CR LF, a byte order mark). About one case in five is
// made invalid on purpose in one of the ways listed in INVALID_KINDS.
//
// Selections on an abstract type always start with an unconditional
// `__typename`: the reference execution (check.mjs) reads each object's type
// from it.
import {
  getNamedType,
  isAbstractType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  GraphQLNonNull,
  OverlappingFieldsCanBeMergedRule,
  validate,
} from "graphql";

import * as A from "./ast.mjs";
import { measure, withinLimits } from "./measure.mjs";
import { mix, Rng } from "./rng.mjs";

/** The ways a case is made invalid on purpose, with their weights. */
export const INVALID_KINDS = {
  unknownField: 3,
  unknownArgument: 2,
  wrongArgumentType: 4,
  missingRequiredArgument: 2,
  unusedVariable: 3,
  undefinedVariable: 3,
  unusedFragment: 2,
  fragmentOnWrongType: 3,
  unknownType: 1,
  leafWithSelection: 2,
  compositeWithoutSelection: 2,
  variableInWrongPosition: 3,
  nonInputVariable: 1,
  duplicateArgument: 1,
  duplicateFragmentName: 1,
  duplicateVariable: 1,
  anonymousWithOthers: 1,
  unknownOperationName: 1,
  unknownDirective: 2,
  directiveWrongLocation: 2,
  repeatedDirective: 2,
  fragmentCycle: 1,
  badVariableValue: 6,
  missingVariableValue: 3,
  syntaxError: 1,
  loneSurrogate: 1,
};

const ALIASES = ["a", "b", "x", "y", "first", "node", "id", "title", "username", "name", "slug", "body"];

/** A Value AST of a type without variables: the type for AST variable definitions. */
function typeAst(type) {
  if (isNonNullType(type)) return A.nonNull(typeAst(type.ofType));
  if (isListType(type)) return A.listType(typeAst(type.ofType));
  return A.named(type.name);
}

function nullable(type) {
  return isNonNullType(type) ? type.ofType : type;
}

/** Every input type in the schema, with list and non-null wrappings, for variable declarations. */
function inputTypes(schema) {
  const out = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith("__")) continue;
    if (isScalarType(type) || isEnumType(type) || isInputObjectType(type)) out.push(type);
  }
  return out;
}

class CaseBuilder {
  constructor(schema, pools, rng, size) {
    this.schema = schema;
    this.pools = pools;
    this.rng = rng;
    this.size = size;
    this.varDefs = [];
    this.variables = {};
    this.fragments = []; // { name, type, def, height }
    this.sets = []; // { selections, type, depth } for the invalid injections
    this.fieldsLeft = size.fields;
    this.counter = 0;
    this.booleanVars = []; // names of variables usable where Boolean! is expected
    this.extraDefinitions = []; // definitions the invalid kinds add
  }

  fresh(prefix) {
    return `${prefix}${++this.counter}`;
  }

  // -------------------------------------------------------------------------
  // Values.

  /**
   * A string literal for `value`: plain, with escapes (short ones like \/
   * and \t, \uXXXX, surrogate pairs for characters outside the BMP, braced
   * \u{...}), or as a block string (on one line, or indented on lines of its
   * own, which the block string's dedent takes away).
   */
  stringLiteral(value) {
    const rng = this.rng;
    const blockable = /^[^\n\r"\\]*$/.test(value) && value.trim() === value && value !== "";
    const style = rng.weighted([
      ["plain", 10],
      ["escapes", 3],
      ["surrogates", /[\u{10000}-\u{10FFFF}]/u.test(value) ? 6 : 0],
      ["braced", 1],
      ["block", blockable ? 1 : 0],
      ["indentedBlock", blockable ? 1 : 0],
    ]);
    if (style === "plain") return A.str(value);
    if (style === "block") return A.str(value, `"""${value}"""`);
    if (style === "indentedBlock") return A.str(value, `"""\n      ${value}\n    """`);
    const SHORT = { '"': '\\"', "\\": "\\\\", "/": "\\/", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t" };
    let raw = '"';
    for (const ch of value) {
      const code = ch.codePointAt(0);
      if (code > 0xffff) {
        // A character outside the BMP: a surrogate pair of escapes, or one braced escape.
        if (style === "braced") raw += `\\u{${code.toString(16).toUpperCase()}}`;
        else {
          const hi = Math.floor((code - 0x10000) / 0x400) + 0xd800;
          const lo = ((code - 0x10000) % 0x400) + 0xdc00;
          raw += `\\u${hi.toString(16).toUpperCase()}\\u${lo.toString(16).toUpperCase()}`;
        }
      } else if (ch in SHORT && (ch !== "/" || rng.chance(0.5))) raw += SHORT[ch];
      else if (code < 0x20) raw += `\\u${code.toString(16).padStart(4, "0")}`;
      else if (style === "braced" && rng.chance(0.3)) raw += `\\u{${code.toString(16)}}`;
      else if (rng.chance(0.3)) raw += `\\u${code.toString(16).padStart(4, "0")}`;
      else raw += ch;
    }
    return A.str(value, raw + '"');
  }

  /** A string from the pool that fits where the value goes (by argument or input field name). */
  stringFor(hint) {
    const { pools, rng } = this;
    switch (hint) {
      case "username":
      case "author":
      case "favoritedBy":
        return rng.pick(pools.usernames);
      case "slug":
      case "articleSlug":
        return rng.pick(pools.slugs);
      case "tag":
        return rng.chance(0.9) ? rng.pick(pools.tags) : rng.pick(["a/b", "tab\tand\nline", 'say "hi"', "back\\slash", "café"]);
      case "after":
      case "before":
        return rng.pick(pools.cursors);
      default:
        return rng.pick(["x", "hello", "drachen-🐉", "", "a/b", "tab\tand\nline", 'say "hi"', "back\\slash", "café"]);
    }
  }

  intFor(hint) {
    const rng = this.rng;
    if (hint === "first" || hint === "last") {
      return rng.weighted([
        [1, 30],
        [2, 35],
        [3, 25],
        [0, 1],
        [-1, 1],
        [101, 1],
      ]);
    }
    return rng.pick([0, 1, 2, 5, 60]);
  }

  /** A literal of `type` (no variables in it). */
  literal(type, hint, depth = 0) {
    const rng = this.rng;
    if (isNonNullType(type)) return this.nonNullLiteral(type.ofType, hint, depth);
    if (rng.chance(0.04)) return A.nul();
    return this.nonNullLiteral(type, hint, depth);
  }

  nonNullLiteral(type, hint, depth) {
    const rng = this.rng;
    if (isListType(type)) {
      // A single item stands for a list of one (input coercion).
      if (rng.chance(0.2)) return this.literal(type.ofType, hint, depth + 1);
      const n = hint === "ids" ? 1 + rng.int(3) : rng.int(3);
      return A.list(Array.from({ length: n }, () => this.literal(type.ofType, hint === "ids" ? "id" : hint, depth + 1)));
    }
    if (isEnumType(type)) return A.enumValue(rng.pick(type.getValues()).name);
    if (isInputObjectType(type)) return A.object(this.inputFields(type, depth, (t, h) => this.literal(t, h, depth + 1)));
    switch (type.name) {
      case "Int":
        return A.int(this.intFor(hint));
      case "Float":
        return A.float("1.5");
      case "Boolean":
        return A.bool(rng.chance(0.5));
      case "ID":
        // IDs accept integer literals as well as strings.
        return rng.chance(0.1) ? A.int(rng.int(100)) : this.stringLiteral(rng.pick(this.pools.ids));
      case "DateTime":
        return A.str("2024-01-02T03:04:05Z");
      default:
        return this.stringLiteral(this.stringFor(hint));
    }
  }

  /** Fields of an input object: every required one, some of the others. */
  inputFields(type, depth, valueOf) {
    const out = [];
    for (const f of Object.values(type.getFields())) {
      const required = isNonNullType(f.type) && f.defaultValue === undefined;
      if (required || this.rng.chance(0.5)) out.push([f.name, valueOf(f.type, f.name)]);
    }
    return this.rng.chance(0.3) ? this.rng.shuffle(out) : out;
  }

  /** The value of an argument or input field: a literal, a variable, or a literal holding variables. */
  value(type, hint, depth = 0, locationDefault = undefined) {
    const rng = this.rng;
    const named = getNamedType(type);
    if (depth < 3 && rng.chance(depth === 0 ? 0.3 : 0.15)) return this.variableFor(type, hint, locationDefault);
    if (isInputObjectType(named) && !isListType(nullable(type)) && rng.chance(0.7)) {
      if (!isNonNullType(type) && rng.chance(0.04)) return A.nul();
      return A.object(this.inputFields(named, depth, (t, h) => this.value(t, h, depth + 1)));
    }
    if (isListType(nullable(type)) && rng.chance(0.5)) {
      const n = hint === "ids" ? 1 + rng.int(3) : rng.int(3);
      const itemHint = hint === "ids" ? "id" : hint;
      return A.list(Array.from({ length: n }, () => this.value(nullable(type).ofType, itemHint, depth + 1)));
    }
    return this.literal(type, hint);
  }

  /** A new variable for a location of type `type`, declared, and (usually) given a value. */
  variableFor(type, hint, locationDefault) {
    const rng = this.rng;
    const name = this.fresh("v");
    const json = () => A.literalToJson(this.literal(type, hint));
    let declared = type;
    let defaultValue;
    let send = true;
    const mode = rng.weighted([
      ["exact", 50],
      ["omitted", isNonNullType(type) ? 0 : 8],
      ["default", 14],
      ["defaultAndSent", 6],
      ["stricter", isNonNullType(type) ? 0 : 8],
      ["looserWithDefault", isNonNullType(type) ? 6 : 0],
      ["looserAtDefaultedLocation", isNonNullType(type) && locationDefault !== undefined ? 6 : 0],
      ["explicitNull", isNonNullType(type) ? 0 : 4],
    ]);
    const literal = () => {
      let value;
      do value = this.literal(type, hint);
      while (value.kind === "NullValue");
      return value;
    };
    switch (mode) {
      case "omitted":
        send = false;
        break;
      case "default":
        defaultValue = literal();
        send = false;
        break;
      case "defaultAndSent":
        defaultValue = literal();
        break;
      case "stricter":
        declared = new GraphQLNonNull(type);
        break;
      case "looserWithDefault":
        // A nullable variable with a default may stand where non-null is expected.
        declared = type.ofType;
        defaultValue = literal();
        send = false;
        break;
      case "looserAtDefaultedLocation":
        // ... and so may one without a default, where the argument has a default.
        declared = type.ofType;
        send = false;
        break;
      case "explicitNull":
        this.variables[name] = null;
        send = false;
        break;
    }
    this.varDefs.push(A.variableDefinition(name, typeAst(declared), defaultValue));
    if (send) {
      let value = json();
      if (isNonNullType(declared)) while (value === null) value = json();
      this.variables[name] = value;
    }
    return A.variable(name);
  }

  /** The condition of a @skip or @include: a literal, or a variable sent or defaulted. */
  condition() {
    const rng = this.rng;
    const mode = rng.weighted([
      ["literal", 40],
      ["sent", 22],
      ["default", 15],
      ["nonNullDefault", 5],
      ["defaultAndSent", 5],
      ["reuse", this.booleanVars.length ? 13 : 0],
    ]);
    if (mode === "literal") return A.bool(rng.chance(0.5));
    if (mode === "reuse") return A.variable(rng.pick(this.booleanVars));
    const name = this.fresh("b");
    const type = mode === "sent" || mode === "nonNullDefault" ? A.nonNull(A.named("Boolean")) : A.named("Boolean");
    const defaultValue = mode === "sent" ? undefined : A.bool(rng.chance(0.5));
    this.varDefs.push(A.variableDefinition(name, type, defaultValue));
    if (mode === "sent" || mode === "defaultAndSent") this.variables[name] = rng.chance(0.5);
    this.booleanVars.push(name);
    return A.variable(name);
  }

  /** Sometimes @skip or @include (or both) for a selection. */
  directives(p = 0.12) {
    const rng = this.rng;
    if (!rng.chance(p)) return [];
    const one = () => A.directive(rng.pick(["skip", "include"]), [A.argument("if", this.condition())]);
    if (rng.chance(0.15)) {
      return rng.shuffle([A.directive("skip", [A.argument("if", this.condition())]), A.directive("include", [A.argument("if", this.condition())])]);
    }
    return [one()];
  }

  // -------------------------------------------------------------------------
  // Selections.

  /** Arguments for a field: required ones always, small pages mostly. */
  args(fieldDef, mult) {
    const rng = this.rng;
    const out = [];
    const has = (n) => fieldDef.args.some((a) => a.name === n);
    const paged = has("first") && has("last");
    for (const arg of fieldDef.args) {
      const required = isNonNullType(arg.type) && arg.defaultValue === undefined;
      let p;
      if (arg.name === "first") p = paged ? 0.9 : 0.5;
      else if (arg.name === "last") p = paged ? 0.04 : 0.3;
      else if (arg.name === "after" || arg.name === "before") p = 0.1;
      else p = required ? 1 : 0.3;
      if (!rng.chance(p)) continue;
      // A big page under a big page would leave the cost limit behind.
      if ((arg.name === "first" || arg.name === "last") && mult > 30) {
        out.push(A.argument(arg.name, A.int(1)));
        continue;
      }
      out.push(A.argument(arg.name, this.value(arg.type, arg.name, 0, arg.defaultValue)));
    }
    return rng.chance(0.2) ? rng.shuffle(out) : out;
  }

  /** How many times a field's children count toward the cost, given its arguments. */
  multiplier(fieldDef, args) {
    const get = (n) => args.find((a) => a.name.value === n)?.value;
    const page = get("first") ?? get("last");
    const number = (v) => {
      if (!v) return null;
      if (v.kind === "IntValue") return Number(v.value);
      if (v.kind === "Variable") {
        const sent = this.variables[v.name.value];
        if (typeof sent === "number") return sent;
        const def = this.varDefs.find((d) => d.variable.name.value === v.name.value)?.defaultValue;
        return def?.kind === "IntValue" ? Number(def.value) : null;
      }
      return null;
    };
    if (get("ids")) return 3;
    const isPaged = fieldDef.args.some((a) => a.name === "first");
    return isPaged ? Math.max(1, number(page) ?? 20) : 1;
  }

  alias(p = 0.12) {
    return this.rng.chance(p) ? this.rng.pick(ALIASES) : undefined;
  }

  /** The fields of a composite type that the generator may select. */
  fieldsOf(type) {
    return Object.values(type.getFields());
  }

  /** A field selection on `type` at `depth`. */
  fieldSelection(type, depth, mult, { fieldDef, alias } = {}) {
    const rng = this.rng;
    const fields = this.fieldsOf(type);
    const deep = depth < this.size.depth && this.fieldsLeft > 0;
    if (!fieldDef) {
      fieldDef = rng.weighted(
        fields.map((f) => {
          const composite = isCompositeType(getNamedType(f.type));
          // `email` of another user is FORBIDDEN, and its null climbs to the nearest nullable parent.
          const weight = f.name === "email" ? 0.4 : composite ? ((deep || depth === 1) && mult <= 60 ? 2.5 : 0) : 2;
          return [f, weight];
        }),
      );
      // Nothing fits (a type of composite fields only, too deep): its type name.
      if (!fieldDef) return A.field("__typename", { directives: this.directives() });
    }
    this.fieldsLeft--;
    const args = this.args(fieldDef, mult);
    const named = getNamedType(fieldDef.type);
    const options = { alias: alias ?? this.alias(), args, directives: this.directives() };
    if (isLeafType(named)) return A.field(fieldDef.name, options);
    const childMult = mult * this.multiplier(fieldDef, args);
    return A.field(fieldDef.name, { ...options, selections: this.selections(named, depth + 1, childMult) });
  }

  /** Type conditions that apply within a selection on `type`. */
  conditionsFor(type) {
    if (isAbstractType(type)) return [type.name, ...this.schema.getPossibleTypes(type).map((t) => t.name)];
    return [type.name, ...type.getInterfaces().map((i) => i.name)];
  }

  /** A selection set's items on `type`, its fields at `depth` (root fields are at 1). */
  selections(type, depth, mult) {
    const rng = this.rng;
    const out = [];
    this.sets.push({ selections: out, type, depth });
    if (isAbstractType(type)) out.push(A.field("__typename"));
    const count = this.fieldsLeft <= 0 ? 1 : 1 + rng.int(depth === 1 ? 3 : 4);
    for (let i = 0; i < count; i++) {
      const lastField = [...out].reverse().find((s) => s.kind === "Field" && s.name.value !== "__typename");
      const kind = rng.weighted([
        ["field", isAbstractType(type) ? 1.5 : 6],
        ["typename", 0.8],
        ["inline", 1.2],
        ["spread", 1.2],
        ["repeat", lastField ? 1 : 0],
        ["conflict", lastField ? 0.12 : 0],
        ["disjoint", isAbstractType(type) ? 0.4 : 0],
      ]);
      switch (kind) {
        case "field":
          out.push(this.fieldSelection(type, depth, mult));
          break;
        case "typename":
          out.push(A.field("__typename", { alias: this.alias(0.3), directives: this.directives(0.3) }));
          break;
        case "inline": {
          const condition = rng.chance(0.25) ? null : rng.pick(this.conditionsFor(type));
          const inner = condition ? this.schema.getType(condition) : type;
          out.push(A.inline(condition, this.selections(inner, depth, mult), this.directives(0.2)));
          break;
        }
        case "spread":
          out.push(this.spreadOn(type, depth, mult));
          break;
        case "repeat":
          out.push(this.repeat(type, lastField, depth, mult));
          break;
        case "conflict":
          out.push(this.conflict(type, lastField, depth, mult));
          break;
        case "disjoint":
          out.push(...this.disjoint(type));
          break;
      }
    }
    return out;
  }

  /** A spread of a fragment that applies here: one defined before, or a new one. */
  spreadOn(type, depth, mult) {
    const rng = this.rng;
    const conditions = this.conditionsFor(type);
    const reusable = this.fragments.filter((f) => conditions.includes(f.type) && depth - 1 + f.height <= this.size.depth);
    let fragment;
    if (reusable.length && rng.chance(0.4)) {
      fragment = rng.pick(reusable);
    } else {
      const condition = rng.pick(conditions);
      const name = this.fresh("F");
      const selections = this.selections(this.schema.getType(condition), depth, mult);
      const def = A.fragment(name, condition, selections);
      fragment = { name, type: condition, def, height: heightOf(selections, this.fragments) };
      this.fragments.push(fragment);
    }
    return A.spread(fragment.name, this.directives(0.2));
  }

  /** The same field again, under the same response key: same or other sub-selection, other directives. */
  repeat(type, previous, depth, mult) {
    const rng = this.rng;
    const copy = A.clone(previous);
    copy.directives = rng.chance(0.3) ? this.directives(1) : A.clone(previous.directives);
    if (copy.selectionSet && rng.chance(0.6)) {
      const fieldDef = type.getFields()[previous.name.value];
      const childMult = mult * this.multiplier(fieldDef, previous.arguments);
      copy.selectionSet = A.selectionSet(this.selections(getNamedType(fieldDef.type), depth + 1, childMult));
    }
    return rng.chance(0.3) ? A.inline(rng.chance(0.5) ? null : type.name, [copy]) : copy;
  }

  /**
   * A field that takes the response key of `previous`: another field, or the
   * same field with other arguments, or the same field whose sub-selection
   * gives one of its keys to another field. Nearly all of these are invalid
   * (OverlappingFieldsCanBeMerged); sometimes the newcomer sits in an inline fragment.
   */
  conflict(type, previous, depth, mult) {
    const rng = this.rng;
    const key = A.responseKey(previous);
    const fieldDef = type.getFields()[previous.name.value];
    const kinds = [["otherField", 3]];
    if (fieldDef.args.length) kinds.push(["otherArguments", 2]);
    if (previous.selectionSet) kinds.push(["nested", 2]);
    const kind = rng.weighted(kinds);
    let node;
    if (kind === "otherField") {
      const others = this.fieldsOf(type).filter((f) => f.name !== previous.name.value && isLeafType(getNamedType(f.type)));
      node = this.fieldSelection(type, depth, mult, { fieldDef: rng.pick(others), alias: key });
    } else if (kind === "otherArguments") {
      node = A.clone(previous);
      const first = fieldDef.args.find((a) => a.name === "first");
      const current = node.arguments.find((a) => a.name.value === "first");
      if (first && current?.value.kind === "IntValue") current.value = A.int(Number(current.value.value) + 1);
      else if (first && !current) node.arguments.push(A.argument("first", A.int(1)));
      else {
        const arg = rng.pick(fieldDef.args);
        node.arguments = node.arguments.filter((a) => a.name.value !== arg.name);
        node.arguments.push(A.argument(arg.name, this.literal(arg.type, arg.name)));
      }
      if (!node.alias) node.alias = A.name(key);
    } else {
      node = A.clone(previous);
      const inner = getNamedType(fieldDef.type);
      const keys = previous.selectionSet.selections.filter((s) => s.kind === "Field");
      const target = keys.length ? rng.pick(keys) : null;
      const leafs = isAbstractType(inner) ? [] : this.fieldsOf(inner).filter((f) => isLeafType(getNamedType(f.type)) && f.name !== target?.name.value);
      if (target && leafs.length) {
        node.selectionSet = A.selectionSet([A.field(rng.pick(leafs).name, { alias: A.responseKey(target) })]);
      } else {
        node.selectionSet = A.selectionSet([A.field("__typename", { alias: "id" }), A.field("__typename")]);
      }
    }
    node.intended = true;
    return rng.chance(0.35) ? A.inline(rng.chance(0.5) ? null : type.name, [node]) : node;
  }

  /**
   * Under an abstract type: one response key given to fields of two different
   * implementations. Valid when both fields have the same type (the parents
   * never meet), invalid otherwise.
   */
  disjoint(type) {
    const rng = this.rng;
    const [t1, t2] = rng.shuffle(this.schema.getPossibleTypes(type));
    const leafs = (t) => this.fieldsOf(t).filter((f) => isLeafType(getNamedType(f.type)) && !f.args.length);
    const f1 = rng.pick(leafs(t1));
    const same = leafs(t2).filter((f) => String(f.type) === String(f1.type));
    const f2 = rng.chance(0.7) && same.length ? rng.pick(same) : rng.pick(leafs(t2));
    const key = rng.pick(["k", "value", f1.name]);
    const one = A.field(f1.name, { alias: key });
    const two = A.field(f2.name, { alias: key });
    one.intended = two.intended = true;
    return [A.inline(t1.name, [one]), A.inline(t2.name, [two])];
  }

  /**
   * Random fields meet each other by chance (the same connection with other
   * pages in two fragments, an alias that is another field's name). Such
   * conflicts are resolved by giving one of the fields an alias of its own,
   * unless one of them was put there to conflict on purpose.
   */
  resolveChanceConflicts(doc) {
    for (let round = 0; round < 30; round++) {
      const errors = validate(this.schema, doc, [OverlappingFieldsCanBeMergedRule]).filter(
        (e) => !e.nodes.some((n) => n.intended),
      );
      if (!errors.length) return;
      for (const error of errors) {
        const last = error.nodes[error.nodes.length - 1];
        if (!last.alias?.value.startsWith("r")) last.alias = A.name(this.fresh("r"));
      }
    }
  }

  // -------------------------------------------------------------------------
  // The document.

  build() {
    const rng = this.rng;
    const root = this.schema.getQueryType();
    const selections = this.selections(root, 1, 1);
    const named = rng.chance(0.4);
    const name = named ? this.fresh("Q") : undefined;
    const op = A.operation(name, this.varDefs, selections);
    const definitions = [op];
    // Fragments go before or after the operation, in any order.
    for (const f of rng.shuffle(this.fragments)) {
      if (rng.chance(0.5)) definitions.push(f.def);
      else definitions.unshift(f.def);
    }
    let operationName = null;
    if (named && rng.chance(0.15)) {
      // A second operation: the request names the one to run.
      const other = A.operation(this.fresh("Other"), [], [A.field("__typename")]);
      rng.chance(0.5) ? definitions.push(other) : definitions.unshift(other);
      operationName = name;
    } else if (named && rng.chance(0.3)) {
      operationName = name;
    }
    const style = {
      commas: rng.chance(0.15),
      newlines: rng.chance(0.5),
      comments: rng.chance(0.05),
      crlf: rng.chance(0.05),
      bom: rng.chance(0.01),
      keyword: rng.chance(0.3),
    };
    const doc = A.documentOf(definitions);
    this.resolveChanceConflicts(doc);
    return { doc, variables: this.variables, operationName, style };
  }
}

/** How deep the fields of `selections` reach, counting fragments spread in them. */
function heightOf(selections, fragments) {
  let best = 0;
  for (const s of selections) {
    if (s.kind === "Field") best = Math.max(best, 1 + (s.selectionSet ? heightOf(s.selectionSet.selections, fragments) : 0));
    else if (s.kind === "InlineFragment") best = Math.max(best, heightOf(s.selectionSet.selections, fragments));
    else best = Math.max(best, fragments.find((f) => f.name === s.name.value)?.height ?? 0);
  }
  return best;
}

// ---------------------------------------------------------------------------
// Invalid documents: each function changes a built case so that graphql-js
// refuses it (parse, validation or variable coercion). Each returns false when
// the case has nothing it can change that way.

/** The fields of the generated selection sets (`__typename` only when there is nothing else). */
function allFields(b) {
  const out = [];
  const typenames = [];
  for (const set of b.sets) {
    for (const s of set.selections) {
      if (s.kind !== "Field") continue;
      (s.name.value === "__typename" ? typenames : out).push({ node: s, type: set.type, set });
    }
  }
  return out.length ? out : typenames;
}

function fieldDefOf(type, node) {
  return isObjectType(type) || isInterfaceType(type) ? type.getFields()[node.name.value] : undefined;
}

const INVALID = {
  unknownField(b, c) {
    const set = b.rng.pick(b.sets);
    set.selections.push(A.field(b.rng.pick(["nope", "titel", "userName", "totalcount"])));
  },
  unknownArgument(b) {
    const { node } = b.rng.pick(allFields(b));
    node.arguments = [...node.arguments, A.argument(b.rng.pick(["limit", "firstt", "where"]), A.int(1))];
  },
  wrongArgumentType(b) {
    const withArgs = allFields(b).filter((f) => f.node.arguments?.length);
    if (!withArgs.length) {
      b.sets[0].selections.push(A.field("tags", { args: [A.argument("first", A.str("two"))], selections: [A.field("name")] }));
      return;
    }
    const { node, type } = b.rng.pick(withArgs);
    const arg = b.rng.pick(node.arguments);
    const def = fieldDefOf(type, node).args.find((a) => a.name === arg.name.value);
    const named = getNamedType(def.type);
    const rng = b.rng;
    if (isListType(nullable(def.type)) && rng.chance(0.5)) arg.value = A.list([A.nul()]);
    else if (isEnumType(named)) arg.value = rng.chance(0.5) ? A.str("DRAFT") : A.enumValue("draft");
    else if (isInputObjectType(named))
      arg.value = rng.pick([A.int(1), A.object([["nope", A.int(1)]]), A.object([["status", A.str("DRAFT")]]), A.object([["field", A.nul()]])]);
    else if (named.name === "Int") arg.value = rng.pick([A.str("two"), A.float("1.5"), A.int(2147483648), A.bool(true)]);
    else if (named.name === "ID") arg.value = rng.pick([A.float("1.5"), A.bool(true), A.object([])]);
    else arg.value = rng.pick([A.int(5), A.bool(false), A.enumValue("DRAFT"), A.list([A.int(1)])]);
    if (isNonNullType(def.type) && rng.chance(0.2)) arg.value = A.nul();
  },
  missingRequiredArgument(b) {
    const candidates = allFields(b).filter((f) => fieldDefOf(f.type, f.node)?.args.some((a) => isNonNullType(a.type) && a.defaultValue === undefined));
    if (!candidates.length) {
      b.sets[0].selections.push(A.field(b.rng.pick(["user", "article"]), { selections: [A.field("id")] }));
      return;
    }
    const { node, type } = b.rng.pick(candidates);
    const required = fieldDefOf(type, node).args.filter((a) => isNonNullType(a.type) && a.defaultValue === undefined).map((a) => a.name);
    node.arguments = node.arguments.filter((a) => !required.includes(a.name.value));
  },
  unusedVariable(b) {
    let type = b.rng.pick(inputTypes(b.schema));
    let ast = A.named(type.name);
    if (b.rng.chance(0.3)) ast = A.listType(b.rng.chance(0.5) ? A.nonNull(ast) : ast);
    if (b.rng.chance(0.3)) ast = A.nonNull(ast);
    const name = b.fresh("unused");
    b.varDefs.push(A.variableDefinition(name, ast));
    if (b.rng.chance(0.5) && (isScalarType(type) || isEnumType(type))) {
      b.variables[name] = A.literalToJson(b.literal(type, name));
    }
  },
  undefinedVariable(b) {
    const withArgs = allFields(b).filter((f) => f.node.arguments?.length);
    if (withArgs.length && b.rng.chance(0.6)) {
      const arg = b.rng.pick(b.rng.pick(withArgs).node.arguments);
      arg.value = A.variable("undeclared");
    } else {
      const { node } = b.rng.pick(allFields(b).length ? allFields(b) : [{ node: b.sets[0].selections[0] }]);
      node.directives = [...(node.directives ?? []), A.directive("include", [A.argument("if", A.variable("undeclared"))])];
    }
  },
  unusedFragment(b) {
    const type = b.rng.pick(["User", "Article", "Comment", "Node", "Tag", b.schema.getQueryType().name]);
    b.extraDefinitions.push(A.fragment(b.fresh("Unused"), type, [A.field("__typename")]));
  },
  fragmentOnWrongType(b) {
    const objectSets = b.sets.filter((s) => isObjectType(s.type));
    const set = b.rng.pick(objectSets);
    const wrong = ["User", "Article", "Comment", "Tag", "PageInfo"].filter((t) => t !== set.type.name && !b.conditionsFor(set.type).includes(t));
    const target = b.rng.pick(wrong);
    if (b.rng.chance(0.5)) set.selections.push(A.inline(target, [A.field("__typename")]));
    else {
      const name = b.fresh("Wrong");
      b.extraDefinitions.push(A.fragment(name, target, [A.field("__typename")]));
      set.selections.push(A.spread(name));
    }
  },
  unknownType(b) {
    const set = b.rng.pick(b.sets);
    if (b.rng.chance(0.5)) set.selections.push(A.inline("Nope", [A.field("__typename")]));
    else b.varDefs.push(A.variableDefinition(b.fresh("v"), A.named("Nope")));
  },
  leafWithSelection(b) {
    const set = b.rng.pick(b.sets.filter((s) => isObjectType(s.type)));
    const leaf = b.fieldsOf(set.type).find((f) => isLeafType(getNamedType(f.type)) && !f.args.length);
    set.selections.push(A.field(b.rng.chance(0.3) || !leaf ? "__typename" : leaf.name, { selections: [A.field("x")] }));
  },
  compositeWithoutSelection(b) {
    const set = b.rng.pick(b.sets.filter((s) => isObjectType(s.type) && b.fieldsOf(s.type).some((f) => isCompositeType(getNamedType(f.type)))));
    if (!set) return false;
    const composite = b.fieldsOf(set.type).filter((f) => isCompositeType(getNamedType(f.type)) && !f.args.some((a) => isNonNullType(a.type) && a.defaultValue === undefined));
    if (!composite.length) return false;
    set.selections.push(A.field(b.rng.pick(composite).name));
  },
  variableInWrongPosition(b) {
    const name = b.fresh("w");
    const set = b.sets[0];
    const rng = b.rng;
    const choice = rng.pick(["stringForInt", "nullableBooleanForIf", "listOfNullableIds", "intForString"]);
    if (choice === "stringForInt") {
      b.varDefs.push(A.variableDefinition(name, A.named("String")));
      set.selections.push(A.field("articles", { args: [A.argument("first", A.variable(name))], selections: [A.field("totalCount")] }));
    } else if (choice === "nullableBooleanForIf") {
      b.varDefs.push(A.variableDefinition(name, A.named("Boolean")));
      set.selections.push(A.field("__typename", { alias: "t", directives: [A.directive("skip", [A.argument("if", A.variable(name))])] }));
      b.variables[name] = false;
    } else if (choice === "listOfNullableIds") {
      b.varDefs.push(A.variableDefinition(name, A.listType(A.named("ID"))));
      set.selections.push(A.field("nodes", { args: [A.argument("ids", A.variable(name))], selections: [A.field("__typename")] }));
      b.variables[name] = [rng.pick(b.pools.ids)];
    } else {
      b.varDefs.push(A.variableDefinition(name, A.named("Int")));
      set.selections.push(A.field("user", { args: [A.argument("username", A.variable(name))], selections: [A.field("id")] }));
    }
  },
  nonInputVariable(b) {
    b.varDefs.push(A.variableDefinition(b.fresh("v"), A.named(b.rng.pick(["User", "Article", "Node", "ArticleConnection"]))));
  },
  duplicateArgument(b) {
    const withArgs = allFields(b).filter((f) => f.node.arguments?.length);
    if (!withArgs.length) return false;
    const { node } = b.rng.pick(withArgs);
    node.arguments = [...node.arguments, A.clone(b.rng.pick(node.arguments))];
  },
  duplicateFragmentName(b) {
    if (!b.fragments.length) return false;
    const f = b.rng.pick(b.fragments);
    b.extraDefinitions.push(A.fragment(f.name, f.type, [A.field("__typename")]));
  },
  duplicateVariable(b) {
    if (!b.varDefs.length) return false;
    b.varDefs.push(A.clone(b.rng.pick(b.varDefs)));
  },
  anonymousWithOthers(b) {
    b.anonymousWithOthers = true;
  },
  unknownOperationName(b) {
    b.unknownOperationName = true;
  },
  unknownDirective(b) {
    const { node } = b.rng.pick(allFields(b));
    const rng = b.rng;
    const bad = rng.pick([
      A.directive("nope"),
      A.directive("skip"),
      A.directive("include", [A.argument("if", A.str("yes"))]),
      A.directive("skip", [A.argument("iff", A.bool(true))]),
      A.directive("skip", [A.argument("if", A.nul())]),
      A.directive("deprecated"),
      A.directive("specifiedBy", [A.argument("url", A.str("x"))]),
    ]);
    node.directives = [...(node.directives ?? []), bad];
  },
  directiveWrongLocation(b) {
    b.wrongLocationDirective = A.directive(b.rng.pick(["skip", "include"]), [A.argument("if", A.bool(false))]);
    b.wrongLocation = b.rng.pick(["operation", "fragment", "variable"]);
    if (b.wrongLocation === "fragment" && !b.fragments.length) b.wrongLocation = "operation";
    if (b.wrongLocation === "variable" && !b.varDefs.length) b.wrongLocation = "operation";
  },
  repeatedDirective(b) {
    const { node } = b.rng.pick(allFields(b));
    const d = b.rng.pick(["skip", "include"]);
    node.directives = [A.directive(d, [A.argument("if", A.bool(false))]), A.directive(d, [A.argument("if", A.bool(true))])];
  },
  fragmentCycle(b) {
    const set = b.rng.pick(b.sets.filter((s) => s.type.name === "User" || s.type.name === "Article")) ?? null;
    const type = set ? set.type.name : b.schema.getQueryType().name;
    const one = b.fresh("Cycle");
    const two = b.fresh("Cycle");
    b.extraDefinitions.push(A.fragment(one, type, [A.field("__typename"), A.spread(two)]), A.fragment(two, type, [A.spread(one)]));
    (set ?? b.sets[0]).selections.push(A.spread(one));
  },
  badVariableValue(b) {
    const sent = b.varDefs.filter((d) => d.variable.name.value in b.variables);
    if (!sent.length) return false;
    const def = b.rng.pick(sent);
    const type = b.schema.getType(namedOf(def.type));
    const rng = b.rng;
    const list = isListType(def.type.kind === "NonNullType" ? def.type.type : def.type);
    let bad;
    if (list && rng.chance(0.4)) bad = [null];
    else if (isEnumType(type)) bad = rng.pick(["nope", "draft", 1]);
    else if (isInputObjectType(type)) bad = rng.pick([{ nope: 1 }, { field: null }, "x", { status: "nope" }, { tag: 5 }]);
    else if (type.name === "Int") bad = rng.pick(["x", 1.5, 2147483648, true, "1"]);
    else if (type.name === "Boolean") bad = rng.pick(["true", 1, "yes"]);
    else if (type.name === "ID") bad = rng.pick([true, 1.5, { id: 1 }]);
    else bad = rng.pick([5, true, { s: "x" }, ["x"]]);
    if (def.type.kind === "NonNullType" && rng.chance(0.2)) bad = null;
    b.variables[def.variable.name.value] = bad;
  },
  missingVariableValue(b) {
    const name = b.fresh("req");
    b.varDefs.push(A.variableDefinition(name, A.nonNull(A.named("Int"))));
    b.sets[0].selections.push(A.field("tags", { args: [A.argument("first", A.variable(name))], selections: [A.field("name")] }));
  },
  syntaxError(b) {
    b.mangle = b.rng.pick(["dropBrace", "strayBrace", "emptySelection", "badName"]);
  },
  loneSurrogate(b) {
    b.sets[0].selections.push(A.field("article", { args: [A.argument("slug", A.str("\uD83D", '"\\uD83D"'))], selections: [A.field("id")] }));
  },
};

function namedOf(typeNode) {
  return typeNode.kind === "NamedType" ? typeNode.name.value : namedOf(typeNode.type);
}

/** The text a case sends: the document printed in its style, then mangled if the case asks. */
export function caseText(c) {
  let text = A.printDocument(c.doc, c.style);
  switch (c.mangle) {
    case "dropBrace":
      text = text.replace(/\}\s*$/, "");
      break;
    case "strayBrace":
      text += " }";
      break;
    case "emptySelection":
      text = text.replace(/\{/, "{ viewer { } ");
      break;
    case "badName":
      text = text.replace(/\{/, "{ 1viewer ");
      break;
  }
  return text;
}

/**
 * Generates case number `index` of the run seeded with `seed`. Returns
 * { doc, variables, operationName, style, mangle, anonymous, invalid, measured }.
 */
export function generateCase(schema, pools, seed, index) {
  const rng = new Rng(mix(seed, index));
  const anonymous = rng.chance(0.1);
  const invalid = rng.chance(0.2) ? rng.weighted(Object.entries(INVALID_KINDS)) : null;
  for (let attempt = 0; ; attempt++) {
    const shrink = Math.max(1, 4 - attempt);
    const depth = rng.weighted([[2, 1], [3, 2], [4, 3], [5, 3], [6, 2], [7, 2], [8, 1]]);
    const size = { depth: Math.min(depth, 2 + shrink * 2), fields: 4 + rng.int(6 * shrink) };
    const b = new CaseBuilder(schema, pools, rng, size);
    const c = b.build();
    if (invalid) {
      if (INVALID[invalid](b, c) === false) INVALID.unknownField(b, c);
      applyInvalidShape(b, c);
    }
    c.measured = measure(c.doc, c.variables, c.operationName);
    if (withinLimits(c.measured) || attempt >= 12) {
      return { ...c, anonymous, invalid, index };
    }
  }
}

/** Applies the changes of the invalid kinds that act on the document as a whole. */
function applyInvalidShape(b, c) {
  const defs = c.doc.definitions;
  defs.push(...b.extraDefinitions);
  const op = defs.find((d) => d.kind === "OperationDefinition" && d.variableDefinitions === b.varDefs) ?? defs.find((d) => d.kind === "OperationDefinition");
  if (b.anonymousWithOthers) {
    op.name = undefined;
    c.operationName = null;
    if (!defs.some((d) => d.kind === "OperationDefinition" && d !== op)) defs.push(A.operation("Another", [], [A.field("__typename")]));
  }
  if (b.unknownOperationName) c.operationName = "NoSuchOperation";
  if (b.wrongLocation === "operation") op.directives = [b.wrongLocationDirective];
  if (b.wrongLocation === "fragment") b.fragments[0].def.directives = [b.wrongLocationDirective];
  if (b.wrongLocation === "variable") b.varDefs[0].directives = [b.wrongLocationDirective];
  c.mangle = b.mangle;
}
