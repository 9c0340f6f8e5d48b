// Seeds the fresh database over GraphQL, as a client would: a few users who
// follow each other, published articles with tags, a draft each, favorites
// and comments, so that nested connections (articles → author → articles,
// comments → author, feed, favorites…) return several items. Returns the
// viewer's token and the pools of values the generator writes into
// arguments: usernames, slugs, tags, global ids and cursors, each with a few
// that match nothing.
import { post } from "./transport.mjs";

const USERS = ["alice", "bob", "carol", "dave"];
const TAGS = ["dragons", "training", "rust", "graphql", "cooking", "drachen-🐉"];
const FOLLOWS = [
  ["alice", "bob"],
  ["alice", "carol"],
  ["bob", "alice"],
  ["carol", "bob"],
  ["dave", "alice"],
  ["dave", "bob"],
];

async function call(url, token, query, variables) {
  const { body } = await post(url, token, { query, variables });
  if (body.errors?.length || !body.data) {
    throw new Error(`seeding failed: ${JSON.stringify(body)}\nfor ${query}`);
  }
  return body.data;
}

export async function seed(url) {
  const tokens = {};
  for (const name of USERS) {
    const data = await call(
      url,
      null,
      `mutation($input: RegisterInput!) { register(input: $input) { token } }`,
      { input: { username: name, email: `${name}@example.org`, password: "correct horse battery" } },
    );
    tokens[name] = data.register.token;
  }
  for (const [who, whom] of FOLLOWS) {
    await call(url, tokens[who], `mutation($u: String!) { followUser(input: { username: $u }) { user { id } } }`, { u: whom });
  }
  const articles = [];
  const drafts = [];
  let n = 0;
  for (const name of USERS) {
    for (let i = 0; i < 4; i++) {
      n++;
      const draft = i === 3;
      const tags = draft ? ["dragons"] : [TAGS[n % TAGS.length], TAGS[(n * 3 + 1) % TAGS.length]];
      const data = await call(
        url,
        tokens[name],
        `mutation($input: CreateArticleInput!) { createArticle(input: $input) { article { id slug } } }`,
        {
          input: {
            title: `${draft ? "Draft" : "Article"} ${n} by ${name}`,
            description: `Summary ${n}`,
            body: `Body of article ${n}, by ${name}.`,
            tags: [...new Set(tags)],
            draft,
          },
        },
      );
      (draft ? drafts : articles).push({ ...data.createArticle.article, author: name });
    }
  }
  // Everyone favorites a few articles by the others.
  for (const [u, name] of USERS.entries()) {
    const others = articles.filter((a) => a.author !== name);
    for (let k = 0; k < 4; k++) {
      const article = others[(u * 5 + k * 3) % others.length];
      await call(url, tokens[name], `mutation($s: String!) { favoriteArticle(input: { slug: $s }) { article { id } } }`, {
        s: article.slug,
      });
    }
  }
  // Two or three comments on each published article, by different users.
  const comments = [];
  for (const [i, article] of articles.entries()) {
    for (let k = 0; k < 2 + (i % 2); k++) {
      const name = USERS[(i + k + 1) % USERS.length];
      const data = await call(
        url,
        tokens[name],
        `mutation($input: AddCommentInput!) { addComment(input: $input) { comment { id } } }`,
        { input: { articleSlug: article.slug, body: `Comment ${k + 1} by ${name} on ${article.slug}` } },
      );
      comments.push(data.addComment.comment.id);
    }
  }
  // Alice is the viewer: she can see her own draft, not the others'.
  const viewer = "alice";
  const pages = await call(
    url,
    tokens[viewer],
    `{ users: articles(first: 6) { edges { cursor node { author { id } } } }
       more: articles(first: 3, after: null) { pageInfo { endCursor } }
       a: article(slug: "${articles[0].slug}") { comments(first: 3) { edges { cursor } } } }`,
  );
  const userIds = [...new Set(pages.users.edges.map((e) => e.node.author.id))];
  const cursors = [
    ...pages.users.edges.map((e) => e.cursor),
    pages.more.pageInfo.endCursor,
    ...pages.a.comments.edges.map((e) => e.cursor),
  ].filter(Boolean);
  const pools = {
    usernames: [...USERS, "Alice", "nobody"],
    slugs: [...articles.map((a) => a.slug), ...drafts.map((d) => d.slug), "no-such-article"],
    tags: [...TAGS, "nope"],
    ids: [
      ...articles.map((a) => a.id),
      ...drafts.map((d) => d.id),
      ...userIds,
      ...comments.slice(0, 8),
      "QXJ0aWNsZTo5OTk5",
      "not-an-id",
    ],
    cursors: [...cursors, "not-a-cursor"],
  };
  return { token: tokens[viewer], tokens, pools };
}
