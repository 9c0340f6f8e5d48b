// Documents are built as graphql-js AST nodes (the same `kind`s, so
// graphql-js tools understand them) and written out by `printDocument`, which,
// unlike graphql-js's `print`, can vary the lexical form: string escapes kept
// as generated (`raw`), block strings, commas, comments and line breaks. The
// text is what is sent; graphql-js always parses that text again rather than
// trusting the AST, so both sides judge the same characters.
import { Kind } from "graphql";

export const name = (value) => ({ kind: Kind.NAME, value });
export const named = (type) => ({ kind: Kind.NAMED_TYPE, name: name(type) });
export const listType = (type) => ({ kind: Kind.LIST_TYPE, type });
export const nonNull = (type) => ({ kind: Kind.NON_NULL_TYPE, type });
export const variable = (n) => ({ kind: Kind.VARIABLE, name: name(n) });

export const field = (fieldName, { alias, args = [], directives = [], selections } = {}) => ({
  kind: Kind.FIELD,
  alias: alias ? name(alias) : undefined,
  name: name(fieldName),
  arguments: args,
  directives,
  selectionSet: selections ? selectionSet(selections) : undefined,
});
export const argument = (n, value) => ({ kind: Kind.ARGUMENT, name: name(n), value });
export const selectionSet = (selections) => ({ kind: Kind.SELECTION_SET, selections });
export const directive = (n, args = []) => ({ kind: Kind.DIRECTIVE, name: name(n), arguments: args });
export const spread = (n, directives = []) => ({ kind: Kind.FRAGMENT_SPREAD, name: name(n), directives });
export const inline = (typeCondition, selections, directives = []) => ({
  kind: Kind.INLINE_FRAGMENT,
  typeCondition: typeCondition ? named(typeCondition) : undefined,
  directives,
  selectionSet: selectionSet(selections),
});
export const fragment = (n, typeCondition, selections, directives = []) => ({
  kind: Kind.FRAGMENT_DEFINITION,
  name: name(n),
  typeCondition: named(typeCondition),
  directives,
  selectionSet: selectionSet(selections),
});
export const operation = (opName, variableDefinitions, selections, directives = []) => ({
  kind: Kind.OPERATION_DEFINITION,
  operation: "query",
  name: opName ? name(opName) : undefined,
  variableDefinitions,
  directives,
  selectionSet: selectionSet(selections),
});
export const variableDefinition = (n, type, defaultValue) => ({
  kind: Kind.VARIABLE_DEFINITION,
  variable: variable(n),
  type,
  defaultValue,
  directives: [],
});
export const documentOf = (definitions) => ({ kind: Kind.DOCUMENT, definitions });

// Values.
export const int = (n) => ({ kind: Kind.INT, value: String(n) });
export const float = (text) => ({ kind: Kind.FLOAT, value: String(text) });
export const str = (value, raw) => ({ kind: Kind.STRING, value, raw });
export const bool = (value) => ({ kind: Kind.BOOLEAN, value });
export const nul = () => ({ kind: Kind.NULL });
export const enumValue = (value) => ({ kind: Kind.ENUM, value });
export const list = (values) => ({ kind: Kind.LIST, values });
export const object = (fields) => ({
  kind: Kind.OBJECT,
  fields: fields.map(([n, value]) => ({ kind: Kind.OBJECT_FIELD, name: name(n), value })),
});

/** A deep copy of an AST (plain data, no cycles). */
export const clone = (node) => structuredClone(node);

/** The name a field answers under. */
export const responseKey = (node) => (node.alias ? node.alias.value : node.name.value);

/** The JSON value a literal without variables stands for (enums as their names). */
export function literalToJson(value) {
  switch (value.kind) {
    case Kind.INT:
      return Number(value.value);
    case Kind.FLOAT:
      return Number(value.value);
    case Kind.STRING:
    case Kind.ENUM:
      return value.value;
    case Kind.BOOLEAN:
      return value.value;
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return value.values.map(literalToJson);
    case Kind.OBJECT:
      return Object.fromEntries(value.fields.map((f) => [f.name.value, literalToJson(f.value)]));
    default:
      throw new Error(`no JSON for ${value.kind}`);
  }
}

// ---------------------------------------------------------------------------
// Printing.

/** A JSON-style escape of a string, as GraphQL writes one. */
export function quote(text) {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0);
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return out + '"';
}

/**
 * The text of `doc`. `style` varies the lexical form without changing the
 * meaning: `commas` puts commas between items (GraphQL ignores them),
 * `newlines` puts each item on a line of its own, `comments` adds `#`
 * comments, `crlf` ends lines with CR LF.
 */
export function printDocument(doc, style = {}) {
  const sep = style.commas ? ", " : " ";
  const nl = style.crlf ? "\r\n" : "\n";
  const indent = (depth) => (style.newlines ? nl + "  ".repeat(depth) : " ");
  const comment = (depth) => (style.comments ? ` # note ${depth}${nl}${"  ".repeat(depth)}` : "");

  const value = (v) => {
    switch (v.kind) {
      case Kind.VARIABLE:
        return `$${v.name.value}`;
      case Kind.INT:
      case Kind.FLOAT:
        return v.value;
      case Kind.STRING:
        if (v.raw !== undefined) return v.raw;
        if (v.block) return `"""${v.value.replace(/"""/g, '\\"""')}"""`;
        return quote(v.value);
      case Kind.BOOLEAN:
        return String(v.value);
      case Kind.NULL:
        return "null";
      case Kind.ENUM:
        return v.value;
      case Kind.LIST:
        return `[${v.values.map(value).join(sep)}]`;
      case Kind.OBJECT:
        return `{${v.fields.map((f) => `${f.name.value}: ${value(f.value)}`).join(sep)}}`;
      default:
        throw new Error(`cannot print value ${v.kind}`);
    }
  };
  const type = (t) =>
    t.kind === Kind.NON_NULL_TYPE ? `${type(t.type)}!` : t.kind === Kind.LIST_TYPE ? `[${type(t.type)}]` : t.name.value;
  const args = (list) => (list?.length ? `(${list.map((a) => `${a.name.value}: ${value(a.value)}`).join(sep)})` : "");
  const directives = (list) => (list?.length ? " " + list.map((d) => `@${d.name.value}${args(d.arguments)}`).join(" ") : "");
  const selections = (set, depth) => {
    const items = set.selections.map((s) => indent(depth + 1) + selection(s, depth + 1));
    return `{${comment(depth + 1)}${items.join(style.commas ? "," : "")}${indent(depth)}}`;
  };
  const selection = (s, depth) => {
    switch (s.kind) {
      case Kind.FIELD:
        return (
          (s.alias ? `${s.alias.value}: ` : "") +
          s.name.value +
          args(s.arguments) +
          directives(s.directives) +
          (s.selectionSet ? " " + selections(s.selectionSet, depth) : "")
        );
      case Kind.FRAGMENT_SPREAD:
        return `...${s.name.value}${directives(s.directives)}`;
      case Kind.INLINE_FRAGMENT:
        return `...${s.typeCondition ? ` on ${s.typeCondition.name.value}` : ""}${directives(s.directives)} ${selections(s.selectionSet, depth)}`;
      default:
        throw new Error(`cannot print selection ${s.kind}`);
    }
  };
  const definition = (d) => {
    if (d.kind === Kind.FRAGMENT_DEFINITION) {
      return `fragment ${d.name.value} on ${d.typeCondition.name.value}${directives(d.directives)} ${selections(d.selectionSet, 0)}`;
    }
    const vars = d.variableDefinitions?.length
      ? `(${d.variableDefinitions
          .map((v) => `$${v.variable.name.value}: ${type(v.type)}${v.defaultValue ? ` = ${value(v.defaultValue)}` : ""}${directives(v.directives)}`)
          .join(sep)})`
      : "";
    const head = d.name || vars || d.directives?.length || style.keyword ? `query${d.name ? ` ${d.name.value}` : ""}${vars}${directives(d.directives)} ` : "";
    return head + selections(d.selectionSet, 0);
  };
  const text = doc.definitions.map(definition).join(nl + nl);
  return (style.bom ? "\uFEFF" : "") + text;
}
