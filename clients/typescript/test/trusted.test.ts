// The manifest GraphQL Code Generator emits (src/gql/persisted-documents.json)
// is what the server's trusted mode loads: the client's operations run by
// hash, and nothing else runs.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";

import { runTrusted } from "../src/client.ts";
import { CreateArticle, HomePage, Register } from "../src/operations.ts";
import { type Server, startServer } from "./server.ts";

const manifest = fileURLToPath(new URL("../src/gql/persisted-documents.json", import.meta.url));

let server: Server;
before(async () => {
  server = await startServer({ TRUSTED_DOCUMENTS: manifest, TRUSTED_DOCUMENTS_ONLY: "true" });
});
after(async () => {
  await server.stop();
});

test("the generated operations run by hash against a server in trusted mode", async () => {
  const registered = await runTrusted(server.url, Register, {
    input: { username: "linus", email: "linus@example.org", password: "correct horse battery" },
  });
  assert.equal(registered.errors, undefined, JSON.stringify(registered.errors));
  const token = registered.data?.register.token;
  assert.ok(token);
  const created = await runTrusted(
    server.url,
    CreateArticle,
    { input: { title: "Trusted", description: "By hash", body: "Only these run." } },
    token,
  );
  assert.equal(created.data?.createArticle.article.title, "Trusted");
  const home = await runTrusted(server.url, HomePage, { first: 3 });
  assert.equal(home.data?.articles.edges[0]?.node.title, "Trusted");
});

test("a document outside the manifest is refused with DOCUMENT_NOT_TRUSTED", async () => {
  const response = await fetch(server.url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: "{ tags { name } }" }),
  });
  const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
  assert.equal(body.errors?.[0]?.extensions?.code, "DOCUMENT_NOT_TRUSTED");
});
