// Subscriptions through the npm graphql-ws client: the token in
// connection_init, events as they happen, and the close codes.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { print } from "graphql";

import { httpClient, wsClient } from "../src/client.ts";
import { AddComment, CommentAdded, CreateArticle, Logout, Register } from "../src/operations.ts";
import type { CommentAddedSubscription } from "../src/gql/graphql.ts";
import { type Server, startServer } from "./server.ts";

let server: Server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server.stop();
});

async function signUp(username: string): Promise<string> {
  const registered = await httpClient(server.url)
    .mutation(Register, {
      input: { username, email: `${username}@example.org`, password: "correct horse battery" },
    })
    .toPromise();
  const token = registered.data?.register.token;
  assert.ok(token, registered.error?.message ?? "register gave no token");
  return token;
}

test("a comment reaches a subscriber who signed in through connection_init", async () => {
  const token = await signUp("grace");
  const grace = httpClient(server.url, token);
  const created = await grace
    .mutation(CreateArticle, { input: { title: "Live", description: "Watched", body: "Text." } })
    .toPromise();
  const slug = created.data?.createArticle.article.slug;
  assert.ok(slug);

  const client = wsClient(server.wsUrl, token);
  const events = client.iterate<CommentAddedSubscription>({
    query: print(CommentAdded),
    variables: { slug },
  });
  // The server registers the subscription asynchronously: comment until the
  // first event arrives, each comment numbered.
  const first = events.next();
  let event: Awaited<typeof first> | undefined;
  for (let attempt = 0; attempt < 50 && !event; attempt++) {
    const added = await grace.mutation(AddComment, { slug, body: `Hello #${attempt}` }).toPromise();
    assert.equal(added.error, undefined);
    event = await Promise.race([first, new Promise<undefined>((resolve) => setTimeout(resolve, 100))]);
  }
  assert.ok(event, "no event arrived");
  assert.equal(event.done, false);
  assert.match(event.value?.data?.commentAdded.body ?? "", /^Hello #\d+$/);
  assert.equal(event.value?.data?.commentAdded.author.username, "grace");
  await events.return?.();
  await client.dispose();
});

test("a refused token in connection_init closes the socket with 4403", async () => {
  const client = wsClient(server.wsUrl, "not-a-token");
  const events = client.iterate({ query: print(CommentAdded), variables: { slug: "any" } });
  await assert.rejects(events.next(), (closed: { code?: number }) => {
    assert.equal(closed.code, 4403);
    return true;
  });
  await client.dispose();
});

test("signing out closes the open socket with 4403", async () => {
  const token = await signUp("edsger");
  const edsger = httpClient(server.url, token);
  const created = await edsger
    .mutation(CreateArticle, { input: { title: "Closing", description: "d", body: "b" } })
    .toPromise();
  const slug = created.data?.createArticle.article.slug;
  assert.ok(slug);
  const client = wsClient(server.wsUrl, token);
  const events = client.iterate({ query: print(CommentAdded), variables: { slug } });
  const ended = events.next();
  // Once the socket is up (a comment arrives), the token is revoked.
  let event: Awaited<typeof ended> | undefined;
  for (let attempt = 0; attempt < 50 && !event; attempt++) {
    await edsger.mutation(AddComment, { slug, body: `Before #${attempt}` }).toPromise();
    event = await Promise.race([ended, new Promise<undefined>((resolve) => setTimeout(resolve, 100))]);
  }
  assert.ok(event, "the subscription never started");
  const closing = events.next();
  const revoked = await edsger.mutation(Logout, {}).toPromise();
  assert.equal(revoked.data?.logout.revoked, true);
  await assert.rejects(closing, (closed: { code?: number }) => {
    assert.equal(closed.code, 4403);
    return true;
  });
  await client.dispose();
});

test("a subscription to an article that does not exist fails with NOT_FOUND", async () => {
  const client = wsClient(server.wsUrl);
  const events = client.iterate({ query: print(CommentAdded), variables: { slug: "no-such-article" } });
  const answer = await events.next();
  assert.equal(answer.value?.errors?.[0]?.extensions?.code, "NOT_FOUND", JSON.stringify(answer.value));
  assert.equal((await events.next()).done, true, "the subscription is over");
  await client.dispose();
});
