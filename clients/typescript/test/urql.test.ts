// Queries and mutations through urql with the Bearer token, typed by the
// generated documents.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { httpClient } from "../src/client.ts";
import { CreateArticle, FavoriteArticle, HomePage, Register } from "../src/operations.ts";
import { type Server, startServer } from "./server.ts";

let server: Server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server.stop();
});

test("a new user signs up, writes, favorites and sees it on the home page", async () => {
  const anonymous = httpClient(server.url);
  const registered = await anonymous
    .mutation(Register, {
      input: { username: "ada", email: "ada@example.org", password: "correct horse battery" },
    })
    .toPromise();
  assert.equal(registered.error, undefined);
  const token = registered.data?.register.token;
  assert.ok(token, "register returns a token");
  assert.equal(registered.data?.register.user.username, "ada");

  const ada = httpClient(server.url, token);
  const created = await ada
    .mutation(CreateArticle, {
      input: { title: "Typed clients", description: "From the schema", body: "Generated.", tags: ["ts"] },
    })
    .toPromise();
  assert.equal(created.error, undefined);
  const slug = created.data?.createArticle.article.slug;
  assert.ok(slug);
  assert.deepEqual(created.data?.createArticle.article.tags, ["ts"]);

  const favorited = await ada.mutation(FavoriteArticle, { slug }).toPromise();
  assert.equal(favorited.data?.favoriteArticle.article.favoritesCount, 1);

  const home = await ada.query(HomePage, { first: 5 }).toPromise();
  assert.equal(home.error, undefined);
  const card = home.data?.articles.edges[0]?.node;
  assert.equal(card?.slug, slug);
  assert.equal(card?.viewerHasFavorited, true);
  assert.equal(card?.author.username, "ada");
  assert.equal(home.data?.articles.totalCount, 1);

  // The same page anonymously: nobody's favorite.
  const seen = await anonymous.query(HomePage, { first: 5 }).toPromise();
  assert.equal(seen.data?.articles.edges[0]?.node.viewerHasFavorited, false);
});

test("a mutation without a token is refused with UNAUTHENTICATED", async () => {
  const refused = await httpClient(server.url)
    .mutation(CreateArticle, { input: { title: "No", description: "No", body: "No" } })
    .toPromise();
  assert.equal(refused.data?.createArticle ?? null, null);
  assert.equal(refused.error?.graphQLErrors[0]?.extensions.code, "UNAUTHENTICATED");
});
