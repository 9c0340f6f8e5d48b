// Types and typed documents for every operation in src/, generated from the
// server's checked-in schema, plus the trusted-documents manifest
// (persisted-documents.json: sha256 hash -> document) that the server loads
// with TRUSTED_DOCUMENTS.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../../schema.graphql",
  documents: ["src/**/*.ts", "!src/gql/**/*"],
  ignoreNoDocuments: false,
  // Node runs the TypeScript sources directly, so imports name the .ts files.
  importExtension: ".ts",
  generates: {
    "./src/gql/": {
      preset: "client",
      presetConfig: {
        fragmentMasking: false,
        persistedDocuments: { hashAlgorithm: "sha256", mode: "embedHashInDocument" },
      },
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { DateTime: "string", ID: "string" },
      },
    },
  },
};

export default config;
