// A rule for graphql-schema-linter: every mutation takes one argument, `input`,
// of an input type named `...Input` (or none at all, like `logout`), and returns
// a non-null `...Payload` object, so fields can be added to both without
// breaking clients (the Relay convention).
"use strict";

const { ValidationError } = require("graphql-schema-linter/lib/validation_error");

function namedType(type) {
  return type.kind === "NonNullType" || type.kind === "ListType" ? namedType(type.type) : type;
}

function MutationInputAndPayload(context) {
  const mutationType = context.getSchema().getMutationType();
  return {
    ObjectTypeDefinition(node) {
      if (!mutationType || node.name.value !== mutationType.name) {
        return;
      }
      for (const field of node.fields || []) {
        const name = field.name.value;
        const args = field.arguments || [];
        const input = args.find((arg) => arg.name.value === "input");
        if (args.length > 1 || (args.length === 1 && !input)) {
          context.reportError(
            new ValidationError(
              "mutation-input-and-payload",
              `The mutation \`${name}\` must take one argument, \`input\`, or none.`,
              [field],
            ),
          );
        } else if (input && !namedType(input.type).name.value.endsWith("Input")) {
          context.reportError(
            new ValidationError(
              "mutation-input-and-payload",
              `The \`input\` of \`${name}\` must be an input type named \`...Input\`.`,
              [input],
            ),
          );
        }
        if (field.type.kind !== "NonNullType" || !namedType(field.type).name.value.endsWith("Payload")) {
          context.reportError(
            new ValidationError(
              "mutation-input-and-payload",
              `The mutation \`${name}\` must return a non-null \`...Payload\` object.`,
              [field],
            ),
          );
        }
      }
    },
  };
}

module.exports = { MutationInputAndPayload };
