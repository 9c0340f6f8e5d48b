"""The page shapes bench/run sends to the gateway and to PostGraphile.

    python3 bench/workloads.py DIR TAG SLUG USERNAME VIEWER_ID [NAME...]

Writes, for each workload named (all when none is), DIR/NAME with the
gateway's request body and DIR/postgraphile_NAME with PostGraphile's, one
JSON body a line as bench/wrk/graphql.lua reads them.

    python3 bench/workloads.py --signed-in

prints the names of the workloads sent with the viewer's token.

Each pair asks for the same data: the same lists, page sizes and order, and
the same nested fields, written in the same order so that bench/equivalent.py
can compare the answers item by item. What the gateway's schema says in one
field PostGraphile says with its relations, on the same tables:

| gateway | PostGraphile |
|---|---|
| `articles(...)` (published only, newest first) | `allArticles(orderBy: [CREATED_AT_DESC, ROW_ID_DESC], filter: { publishedAt: { isNull: false } })` |
| `filter: { tag: T }` | `filter: { articleTagsByArticleId: { some: { tagByTagId: { name: { equalTo: T } } } } }` (postgraphile-plugin-connection-filter) |
| `article(slug:)`, `user(username:)` | `articleBySlug`, `userByUsername` |
| `author` | `userByAuthorId` |
| `tags` (names) | `articleTagsByArticleId { nodes { tagByTagId { name } } }` |
| `favoritesCount`, `commentCount` | `favoritesByArticleId { totalCount }`, `commentsByArticleId { totalCount }` |
| `followersCount` | `followsByFolloweeId { totalCount }` |
| `viewerHasFavorited` | `favoritesByArticleId(condition: { userId: VIEWER }) { totalCount }` (0 or 1) |
| `viewerIsFollowing` | `followsByFolloweeId(condition: { followerId: VIEWER }) { totalCount }` (0 or 1) |
| `comments(first: n)` (oldest first) | `commentsByArticleId(first: n, orderBy: [CREATED_AT_ASC, ROW_ID_ASC])` |
| `user { articles(first: n) }` (published, newest first) | `articlesByAuthorId(first: n, orderBy: [CREATED_AT_DESC, ROW_ID_DESC], filter: { publishedAt: { isNull: false } })` |
| `tags(first: n) { name articleCount }` (most used first) | `allTags(first: n, orderBy: ARTICLE_TAGS_BY_TAG_ID_COUNT_DESC) { nodes { name articleTagsByTagId(filter: published) { totalCount } } }` (@graphile/pg-aggregates) |

PostGraphile knows no viewer: the viewer's id is written into its query,
where the gateway reads it from the token.
"""

import json
import sys
from pathlib import Path

CARD = "slug title description createdAt tags favoritesCount commentCount author { username image }"
PG_TAGS = "articleTagsByArticleId { nodes { tagByTagId { name } } }"
PG_CARD = (f"slug title description createdAt {PG_TAGS} favoritesByArticleId {{ totalCount }} "
           "commentsByArticleId { totalCount } userByAuthorId { username image }")
PUBLISHED = "publishedAt: { isNull: false }"
NEWEST = "orderBy: [CREATED_AT_DESC, ROW_ID_DESC]"
OLDEST = "orderBy: [CREATED_AT_ASC, ROW_ID_ASC]"


def tagged(tag: str) -> str:
    return f"{PUBLISHED}, articleTagsByArticleId: {{ some: {{ tagByTagId: {{ name: {{ equalTo: {json.dumps(tag)} }} }} }} }}"


def pg_tags(first: int) -> str:
    return (f"allTags(first: {first}, orderBy: ARTICLE_TAGS_BY_TAG_ID_COUNT_DESC) {{ nodes {{ name "
            f"articleTagsByTagId(filter: {{ articleByArticleId: {{ {PUBLISHED} }} }}) {{ totalCount }} }} }}")


def home(tag: str, viewer: str | None) -> tuple[str, str]:
    """The README's `Home` query, on tag T (the README's "dragons" is not in the seeded data)."""
    favorited, following = ("viewerHasFavorited ", "viewerIsFollowing ") if viewer else ("", "")
    gateway = (
        "query Home($after: String) { "
        f"articles(first: 20, after: $after, filter: {{ tag: {json.dumps(tag)} }}) {{ "
        "totalCount pageInfo { hasNextPage endCursor } edges { cursor node { "
        f"slug title description createdAt tags favoritesCount {favorited}commentCount "
        f"author {{ username image {following}}} }} }} }} "
        "tags(first: 10) { name articleCount } }"
    )
    pg_favorited = f"viewerFavorites: favoritesByArticleId(condition: {{ userId: {json.dumps(viewer)} }}) {{ totalCount }} " if viewer else ""
    pg_following = f"viewerFollows: followsByFolloweeId(condition: {{ followerId: {json.dumps(viewer)} }}) {{ totalCount }} " if viewer else ""
    postgraphile = (
        "query Home($after: Cursor) { "
        f"allArticles(first: 20, after: $after, {NEWEST}, filter: {{ {tagged(tag)} }}) {{ "
        "totalCount pageInfo { hasNextPage endCursor } edges { cursor node { "
        f"slug title description createdAt {PG_TAGS} favoritesByArticleId {{ totalCount }} {pg_favorited}"
        "commentsByArticleId { totalCount } "
        f"userByAuthorId {{ username image {pg_following}}} }} }} }} "
        f"{pg_tags(10)} }}"
    )
    return gateway, postgraphile


def workloads(tag: str, slug: str, username: str, viewer: str) -> dict[str, tuple[str, str]]:
    profile = "username bio image followersCount"
    pg_profile = "username bio image followsByFolloweeId { totalCount }"
    return {
        "home_signed_in": home(tag, viewer),
        "home_anonymous": home(tag, None),
        "article_comments": (
            f"{{ article(slug: {json.dumps(slug)}) {{ slug title body createdAt tags favoritesCount "
            f"author {{ {profile} }} comments(first: 20) {{ totalCount nodes {{ body createdAt "
            f"author {{ {profile} }} }} }} }} }}",
            f"{{ articleBySlug(slug: {json.dumps(slug)}) {{ slug title body createdAt {PG_TAGS} "
            f"favoritesByArticleId {{ totalCount }} userByAuthorId {{ {pg_profile} }} "
            f"commentsByArticleId(first: 20, {OLDEST}) {{ totalCount nodes {{ body createdAt "
            f"userByAuthorId {{ {pg_profile} }} }} }} }} }}",
        ),
        "profile_nested": (
            f"{{ user(username: {json.dumps(username)}) {{ {profile} articles(first: 10) {{ totalCount "
            "nodes { slug title createdAt favoritesCount comments(first: 5) { totalCount "
            "nodes { body createdAt author { username } } } } } } }",
            f"{{ userByUsername(username: {json.dumps(username)}) {{ {pg_profile} "
            f"articlesByAuthorId(first: 10, {NEWEST}, filter: {{ {PUBLISHED} }}) {{ totalCount "
            f"nodes {{ slug title createdAt favoritesByArticleId {{ totalCount }} "
            f"commentsByArticleId(first: 5, {OLDEST}) {{ totalCount "
            "nodes { body createdAt userByAuthorId { username } } } } } } }",
        ),
        "tag_page": (
            f"{{ articles(first: 20, filter: {{ tag: {json.dumps(tag)} }}) {{ totalCount nodes {{ {CARD} }} }} }}",
            f"{{ allArticles(first: 20, {NEWEST}, filter: {{ {tagged(tag)} }}) {{ totalCount nodes {{ {PG_CARD} }} }} }}",
        ),
        "nested_comments": (
            "{ articles(first: 20) { nodes { slug title author { username } "
            "comments(first: 3) { nodes { body createdAt author { username image } } } } } }",
            f"{{ allArticles(first: 20, {NEWEST}, filter: {{ {PUBLISHED} }}) {{ nodes {{ slug title "
            f"userByAuthorId {{ username }} commentsByArticleId(first: 3, {OLDEST}) {{ nodes {{ body createdAt "
            "userByAuthorId { username image } } } } } }",
        ),
        "nested_author_articles": (
            f"{{ articles(first: 50, filter: {{ tag: {json.dumps(tag)} }}) {{ totalCount nodes {{ slug "
            "author { username articles(first: 2) { nodes { slug } } } } } }",
            f"{{ allArticles(first: 50, {NEWEST}, filter: {{ {tagged(tag)} }}) {{ totalCount nodes {{ slug "
            f"userByAuthorId {{ username articlesByAuthorId(first: 2, {NEWEST}, filter: {{ {PUBLISHED} }}) "
            "{ nodes { slug } } } } } }",
        ),
        "profile_comments": (
            f"{{ user(username: {json.dumps(username)}) {{ articles(first: 10) {{ nodes {{ slug favoritesCount "
            "comments(first: 5) { totalCount nodes { body author { username } } } } } } }",
            f"{{ userByUsername(username: {json.dumps(username)}) {{ "
            f"articlesByAuthorId(first: 10, {NEWEST}, filter: {{ {PUBLISHED} }}) {{ nodes {{ slug "
            f"favoritesByArticleId {{ totalCount }} commentsByArticleId(first: 5, {OLDEST}) {{ totalCount "
            "nodes { body userByAuthorId { username } } } } } } }",
        ),
        "tags_popular": (
            "{ tags(first: 10) { name articleCount } }",
            f"{{ {pg_tags(10)} }}",
        ),
        "articles_total": (
            "{ articles(first: 20) { totalCount } }",
            f"{{ allArticles(first: 20, {NEWEST}, filter: {{ {PUBLISHED} }}) {{ totalCount }} }}",
        ),
    }


SIGNED_IN = ["home_signed_in"]


def main() -> None:
    if sys.argv[1:] == ["--signed-in"]:
        print(" ".join(SIGNED_IN))
        return
    folder, tag, slug, username, viewer, *names = sys.argv[1:]
    every = workloads(tag, slug, username, viewer)
    for name in names or every:
        gateway, postgraphile = every[name]
        (Path(folder) / name).write_text(json.dumps({"query": gateway}) + "\n")
        (Path(folder) / f"postgraphile_{name}").write_text(json.dumps({"query": postgraphile}) + "\n")


if __name__ == "__main__":
    main()
