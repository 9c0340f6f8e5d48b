// GraphiQL in a real browser: headless Chromium (Debian's package, driven by
// playwright-core) opens GET /graphql with every request to another host
// refused, runs a query, then a subscription that receives an event; and its
// documentation explorer loads the schema by introspection and finds
// `Article`. Screenshots of the page go to artifacts/graphiql.png and
// artifacts/graphiql-docs.png.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";

import { httpClient } from "../src/client.ts";
import { AddComment, CreateArticle, Register } from "../src/operations.ts";
import { type Server, startServer } from "./server.ts";

const artifacts = fileURLToPath(new URL("../artifacts/", import.meta.url));

let server: Server;
let browser: Browser;
before(async () => {
  // Production defaults (limits included), with GraphiQL and the
  // introspection it loads the schema with switched on.
  server = await startServer({ GRAPHIQL: "true", INTROSPECTION: "true" });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Replaces the query editor's text and presses the run button. */
async function run(page: Page, query: string): Promise<void> {
  await page.evaluate((text) => {
    const editor = document.querySelector(".graphiql-query-editor .CodeMirror") as unknown as {
      CodeMirror: { setValue(value: string): void };
    };
    editor.CodeMirror.setValue(text);
  }, query);
  // GraphiQL parses the editor's text after a short pause, and decides from
  // that parse whether to use the WebSocket.
  await page.waitForTimeout(1_000);
  await page.click(".graphiql-execute-button");
}

/** GraphiQL open on a page that may ask nothing of other hosts. */
interface Opened {
  page: Page;
  /** Requests the page made to other hosts (refused). */
  elsewhere: string[];
  /** Exceptions the page threw. */
  errors: string[];
  /** The answers to the introspection queries GraphiQL sent. */
  introspections: Promise<{ data?: unknown; errors?: unknown }>[];
}

/** Opens GraphiQL on a page that may ask nothing of other hosts. */
async function openGraphiql(): Promise<Opened> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const elsewhere: string[] = [];
  await page.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "127.0.0.1") {
      return route.continue();
    }
    elsewhere.push(url.toString());
    return route.abort();
  });
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  const introspections: Opened["introspections"] = [];
  page.on("response", (response) => {
    if ((response.request().postData() ?? "").includes("__schema")) {
      introspections.push(response.json().catch((error: Error) => ({ errors: `not JSON: ${error.message}` })));
    }
  });
  await page.goto(server.url, { waitUntil: "load" });
  await page.waitForSelector(".graphiql-query-editor .CodeMirror", { timeout: 15_000 });
  return { page, elsewhere, errors, introspections };
}

/** Waits until the response pane shows `text`. */
async function responseShows(page: Page, text: string, timeout = 10_000): Promise<void> {
  await page.waitForFunction(
    (expected) => {
      const pane = document.querySelector(".graphiql-response .CodeMirror") as unknown as {
        CodeMirror: { getValue(): string };
      } | null;
      return pane?.CodeMirror.getValue().includes(expected) ?? false;
    },
    text,
    { timeout },
  );
}

test("GraphiQL runs a query and a subscription with no access to other hosts", async () => {
  const anonymous = httpClient(server.url);
  const registered = await anonymous
    .mutation(Register, {
      input: { username: "alan", email: "alan@example.org", password: "correct horse battery" },
    })
    .toPromise();
  const token = registered.data?.register.token;
  assert.ok(token);
  const alan = httpClient(server.url, token);
  const created = await alan
    .mutation(CreateArticle, { input: { title: "In the browser", description: "d", body: "b", tags: ["web"] } })
    .toPromise();
  const slug = created.data?.createArticle.article.slug;
  assert.ok(slug);

  const { page, elsewhere, errors } = await openGraphiql();

  await run(page, "{ tags { name articleCount } }");
  await responseShows(page, '"name": "web"');

  await run(page, `subscription WatchComments { commentAdded(articleSlug: "${slug}") { body author { username } } }`);
  // The subscription is registered asynchronously: comment until one shows.
  let shown = false;
  for (let attempt = 0; attempt < 30 && !shown; attempt++) {
    await alan.mutation(AddComment, { slug, body: `Seen in GraphiQL #${attempt}` }).toPromise();
    shown = await responseShows(page, "Seen in GraphiQL #", 500).then(
      () => true,
      () => false,
    );
  }
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: `${artifacts}graphiql.png` });
  const pane = await page.evaluate(
    () =>
      (document.querySelector(".graphiql-response .CodeMirror") as unknown as {
        CodeMirror: { getValue(): string };
      }).CodeMirror.getValue(),
  );
  assert.ok(shown, `the subscription's event never showed; the response pane has: ${pane}`);
  assert.deepEqual(elsewhere, [], "GraphiQL asked another host for something");
  assert.deepEqual(errors, [], "the page threw");
  await page.close();
});

test("GraphiQL's documentation explorer loads the schema and finds Article", async () => {
  const { page, elsewhere, errors, introspections } = await openGraphiql();
  await page.getByRole("button", { name: "Show Documentation Explorer" }).click();
  const explorer = page.locator(".graphiql-doc-explorer");
  // The explorer lists the query root (whatever its name), or the error
  // that kept it from loading the schema.
  const loaded = explorer.locator(".graphiql-doc-explorer-root-type", { hasText: "query" });
  const failed = explorer.locator(".graphiql-doc-explorer-error");
  await loaded.or(failed).first().waitFor({ timeout: 15_000 });
  // GraphiQL introspects with graphql-js's full introspection query, deeper
  // than the data depth limit: introspection is measured by limits of its own.
  assert.ok(introspections.length > 0, "GraphiQL sent no introspection query");
  for (const answer of await Promise.all(introspections)) {
    assert.equal(answer.errors, undefined, `the introspection query was refused: ${JSON.stringify(answer.errors)}`);
  }
  assert.equal(await failed.count(), 0, `the explorer shows an error: ${await failed.allTextContents()}`);
  assert.equal(await loaded.count(), 1);

  // Search for Article, and open the type.
  await explorer.locator('[data-cy="doc-explorer-input"]').fill("Article");
  await page.locator('[data-cy="doc-explorer-option"]').filter({ hasText: /^Article$/ }).click();
  await explorer.locator(".graphiql-doc-explorer-title", { hasText: /^Article$/ }).waitFor({ timeout: 10_000 });
  await explorer.locator(".graphiql-doc-explorer-field-name", { hasText: /^slug$/ }).first().waitFor();

  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: `${artifacts}graphiql-docs.png` });
  assert.equal(await explorer.locator(".graphiql-doc-explorer-title").textContent(), "Article");
  assert.deepEqual(elsewhere, [], "GraphiQL asked another host for something");
  assert.deepEqual(errors, [], "the page threw");
  await page.close();
});
