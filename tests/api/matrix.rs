//! The authorization matrix: every mutation and every private read against every
//! kind of caller, from one table. A mutation in the schema without a row fails.

use std::collections::BTreeSet;
use std::time::Duration;

use conduit::auth::keys::{Keyring, KeyringFile};
use conduit::auth::{Claims, Role, TokenKeys};
use conduit::graphql::node::parse_global_id;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, WsClient};

/// What a caller gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// The operation succeeds.
    D,
    /// FORBIDDEN.
    F,
    /// UNAUTHENTICATED.
    U,
    /// NOT_FOUND, or null where the API answers absent things with null.
    N,
}
use Expect::*;

/// The callers, in column order.
const CALLERS: [&str; 14] = [
    "anonymous",
    "another user",
    "owner",
    "moderator",
    "admin",
    "banned user",
    "owner, read-only token",
    "owner, token narrowed to another article",
    "expired token",
    "token of an ended session",
    "logged-out token",
    "tampered signature",
    "unknown key",
    "rotated-out key",
];

/// Every token that must never work, whatever the operation.
const BAD: [Expect; 6] = [U; 6];

struct Row {
    operation: &'static str,
    /// anonymous, another user, owner, moderator, admin, banned, read-only, narrowed
    cells: [Expect; 8],
    bad_tokens: [Expect; 6],
}

const fn row(operation: &'static str, cells: [Expect; 8]) -> Row {
    Row {
        operation,
        cells,
        bad_tokens: BAD,
    }
}

/// The table. Mutations are named as in the schema; private reads as `Type.field`.
const TABLE: &[Row] = &[
    //                                 anon other owner mod admin banned r/o narrowed
    row("register", /*             */ [D, D, D, D, D, U, D, D]),
    row("login", /*                */ [D, D, D, D, D, U, D, D]),
    row("updateViewer", /*         */ [U, D, D, D, D, U, F, F]),
    row("followUser", /*           */ [U, D, D, D, D, U, F, F]),
    row("unfollowUser", /*         */ [U, D, D, D, D, U, F, F]),
    row("createArticle", /*        */ [U, D, D, D, D, U, F, F]),
    row("updateArticle", /*        */ [U, F, D, F, F, U, F, F]),
    row("publishArticle", /*       */ [N, N, D, N, N, U, F, N]),
    row("unpublishArticle", /*     */ [U, F, D, D, D, U, F, F]),
    row("deleteArticle", /*        */ [U, F, D, D, D, U, F, F]),
    row("favoriteArticle", /*      */ [U, D, D, D, D, U, F, F]),
    row("unfavoriteArticle", /*    */ [U, D, D, D, D, U, F, F]),
    row("addComment", /*           */ [U, D, D, D, D, U, F, F]),
    row("deleteComment", /*        */ [U, F, D, D, D, U, F, F]),
    row("logout", /*               */ [U, D, D, D, D, U, D, D]),
    row("revokeAllSessions", /*    */ [U, D, D, D, D, U, F, F]),
    row("revokeToken", /*          */ [U, F, D, F, D, U, F, F]),
    row("banUser", /*              */ [U, F, F, F, D, U, F, F]),
    row("unbanUser", /*            */ [U, F, F, F, D, U, F, F]),
    row("grantRole", /*            */ [U, F, F, F, D, U, F, F]),
    row("attenuateToken", /*       */ [U, D, D, D, D, U, D, F]),
    row("User.email", /*           */ [U, F, D, F, F, U, D, F]),
    row("Query.feed", /*           */ [U, D, D, D, D, U, D, F]),
    row("draft by slug", /*        */ [N, N, D, N, N, U, D, N]),
    row("draft by node", /*        */ [N, N, D, N, N, U, D, N]),
    row("drafts list", /*          */ [U, D, D, D, D, U, D, F]),
];

/// The people and tokens the matrix uses.
struct World {
    owner: i64,
    other: i64,
    moderator: i64,
    admin: i64,
    banned: i64,
    decoy_article: String,
    stranger_keys: TokenKeys,
    retired_keys: TokenKeys,
    next: u32,
}

async fn user_id(user: &TestUser) -> i64 {
    parse_global_id(&user.id).expect("global id").1
}

async fn claims(app: &TestApp, user_id: i64) -> Claims {
    use sea_orm::EntityTrait;
    let row = entity::user::Entity::find_by_id(user_id)
        .one(&app.state.db)
        .await
        .expect("query")
        .expect("user");
    Claims {
        user_id,
        role: Role::parse(&row.role).expect("role"),
        session_epoch: row.session_epoch,
    }
}

async fn fresh_token(app: &TestApp, user_id: i64) -> String {
    app.tokens.mint(claims(app, user_id).await).expect("mint")
}

async fn attenuated(app: &TestApp, token: &str, input: Value) -> String {
    let body = app
        .graphql_as(
            token,
            "mutation($i: AttenuateTokenInput!) { attenuateToken(input: $i) { token } }",
            json!({ "i": input }),
        )
        .await;
    body["data"]["attenuateToken"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned()
}

/// The token a caller column sends; `None` for anonymous.
async fn token_for(app: &TestApp, world: &World, column: usize) -> Option<String> {
    let owner = world.owner;
    let token = match column {
        0 => return None,
        1 => fresh_token(app, world.other).await,
        2 => fresh_token(app, owner).await,
        3 => fresh_token(app, world.moderator).await,
        4 => fresh_token(app, world.admin).await,
        5 => fresh_token(app, world.banned).await,
        6 => {
            attenuated(
                app,
                &fresh_token(app, owner).await,
                json!({ "readOnly": true }),
            )
            .await
        }
        7 => {
            attenuated(
                app,
                &fresh_token(app, owner).await,
                json!({ "articleSlugs": [world.decoy_article] }),
            )
            .await
        }
        8 => app
            .tokens
            .mint_until(
                claims(app, owner).await,
                chrono::Utc::now() - chrono::Duration::seconds(5),
            )
            .expect("mint"),
        9 => {
            let mut old = claims(app, owner).await;
            old.session_epoch -= 1;
            app.tokens.mint(old).expect("mint")
        }
        10 => {
            let token = fresh_token(app, owner).await;
            let out = app
                .graphql_as(&token, "mutation { logout { revoked } }", json!({}))
                .await;
            assert_eq!(out["data"]["logout"]["revoked"], true, "{out}");
            token
        }
        11 => {
            let mut bytes = fresh_token(app, owner).await.into_bytes();
            let at = bytes.len() - 10;
            bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
            String::from_utf8(bytes).expect("ascii")
        }
        12 => world
            .stranger_keys
            .mint(claims(app, owner).await)
            .expect("mint"),
        _ => world
            .retired_keys
            .mint(claims(app, owner).await)
            .expect("mint"),
    };
    Some(token)
}

/// Builds what one cell runs: fresh objects owned by the owner, so no cell
/// depends on another.
async fn operation(app: &TestApp, world: &mut World, name: &str) -> (String, Value) {
    world.next += 1;
    let n = world.next;
    let owner = fresh_token(app, world.owner).await;
    let owner_user = TestUser {
        token: owner.clone(),
        id: String::new(),
    };
    let (article_title, draft_title) = (format!("Article {n}"), format!("Draft {n}"));
    let article = || app.create_article(&owner_user, &article_title, &["matrix"], false);
    let draft = || app.create_article(&owner_user, &draft_title, &["matrix"], true);
    let target = format!("target{n}");
    let register_target = || async { app.register(&target).await };
    let (query, vars) = match name {
        "register" => (
            "mutation($i: RegisterInput!) { register(input: $i) { user { username } } }",
            json!({ "i": { "username": format!("new{n}"), "email": format!("new{n}@example.org"), "password": "long enough password" } }),
        ),
        "login" => (
            "mutation { login(input: { email: \"owner@example.org\", password: \"correct horse battery\" }) { token } }",
            json!({}),
        ),
        "updateViewer" => (
            "mutation { updateViewer(input: { bio: \"changed\" }) { user { bio } } }",
            json!({}),
        ),
        "followUser" => {
            register_target().await;
            (
                "mutation($u: String!) { followUser(input: { username: $u }) { user { username } } }",
                json!({ "u": target }),
            )
        }
        "unfollowUser" => {
            register_target().await;
            (
                "mutation($u: String!) { unfollowUser(input: { username: $u }) { user { username } } }",
                json!({ "u": target }),
            )
        }
        "createArticle" => (
            "mutation { createArticle(input: { title: \"New\", description: \"d\", body: \"b\" }) { article { slug } } }",
            json!({}),
        ),
        "updateArticle" => (
            "mutation($s: String!) { updateArticle(input: { slug: $s, body: \"edited\" }) { article { body } } }",
            json!({ "s": article().await }),
        ),
        "publishArticle" => (
            "mutation($s: String!) { publishArticle(input: { slug: $s }) { article { status } } }",
            json!({ "s": draft().await }),
        ),
        "unpublishArticle" => (
            "mutation($s: String!) { unpublishArticle(input: { slug: $s }) { article { status } } }",
            json!({ "s": article().await }),
        ),
        "deleteArticle" => (
            "mutation($s: String!) { deleteArticle(input: { slug: $s }) { deletedArticleId } }",
            json!({ "s": article().await }),
        ),
        "favoriteArticle" => (
            "mutation($s: String!) { favoriteArticle(input: { slug: $s }) { article { favoritesCount } } }",
            json!({ "s": article().await }),
        ),
        "unfavoriteArticle" => (
            "mutation($s: String!) { unfavoriteArticle(input: { slug: $s }) { article { favoritesCount } } }",
            json!({ "s": article().await }),
        ),
        "addComment" => (
            "mutation($s: String!) { addComment(input: { articleSlug: $s, body: \"hi\" }) { comment { body } } }",
            json!({ "s": article().await }),
        ),
        "deleteComment" => {
            let slug = article().await;
            let added = app
                .graphql_as(&owner, "mutation($s: String!) { addComment(input: { articleSlug: $s, body: \"mine\" }) { comment { id } } }", json!({ "s": slug }))
                .await;
            let id = added["data"]["addComment"]["comment"]["id"].clone();
            (
                "mutation($id: ID!) { deleteComment(input: { id: $id }) { deletedCommentId } }",
                json!({ "id": id }),
            )
        }
        "logout" => ("mutation { logout { revoked } }", json!({})),
        "revokeAllSessions" => (
            "mutation { revokeAllSessions { user { username } } }",
            json!({}),
        ),
        "revokeToken" => (
            "mutation($t: String!) { revokeToken(input: { token: $t }) { revoked } }",
            json!({ "t": fresh_token(app, world.owner).await }),
        ),
        "banUser" => {
            register_target().await;
            (
                "mutation($u: String!) { banUser(input: { username: $u }) { banned } }",
                json!({ "u": target }),
            )
        }
        "unbanUser" => {
            register_target().await;
            (
                "mutation($u: String!) { unbanUser(input: { username: $u }) { banned } }",
                json!({ "u": target }),
            )
        }
        "grantRole" => {
            register_target().await;
            (
                "mutation($u: String!) { grantRole(input: { username: $u, role: MODERATOR }) { user { role } } }",
                json!({ "u": target }),
            )
        }
        "attenuateToken" => (
            "mutation { attenuateToken(input: { readOnly: true }) { token } }",
            json!({}),
        ),
        "User.email" => ("{ user(username: \"owner\") { email } }", json!({})),
        "Query.feed" => ("{ feed { totalCount } }", json!({})),
        "draft by slug" => (
            "query($s: String!) { article(slug: $s) { title } }",
            json!({ "s": draft().await }),
        ),
        "draft by node" => {
            let slug = draft().await;
            let read = app
                .graphql_as(
                    &owner,
                    "query($s: String!) { article(slug: $s) { id } }",
                    json!({ "s": slug }),
                )
                .await;
            (
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": read["data"]["article"]["id"] }),
            )
        }
        "drafts list" => (
            "{ articles(filter: { status: DRAFT }) { totalCount } }",
            json!({}),
        ),
        other => panic!("no operation named {other}"),
    };
    (query.to_owned(), vars)
}

/// What a response amounts to.
fn outcome(body: &Value) -> Expect {
    let code = body["errors"][0]["extensions"]["code"].as_str();
    match code {
        Some("FORBIDDEN") => F,
        Some("UNAUTHENTICATED") => U,
        Some("NOT_FOUND") => N,
        Some(other) => panic!("unexpected error {other}: {body}"),
        None => {
            let data = body["data"].as_object().expect("data");
            let value = data.values().next().expect("a root field");
            let hidden = value.is_null()
                || value
                    .as_object()
                    .is_some_and(|o| o.values().all(Value::is_null));
            if hidden { N } else { D }
        }
    }
}

/// How a cell's operation reaches the server.
#[derive(Clone, Copy, Debug)]
enum Transport {
    /// One POST per operation.
    Http,
    /// A WebSocket per operation: the token in `connection_init`, the
    /// operation in `subscribe`.
    WebSocket,
}

/// Runs `query` over a fresh WebSocket as the holder of `token`, and returns
/// what the response amounts to in HTTP's shape: a refused `connection_init`
/// (close 4403) becomes UNAUTHENTICATED.
async fn over_websocket(app: &TestApp, token: Option<&str>, query: &str, vars: Value) -> Value {
    let mut client = WsClient::connect(app, "graphql-transport-ws").await;
    let payload = token.map_or(
        json!({}),
        |t| json!({ "Authorization": format!("Bearer {t}") }),
    );
    client
        .send(json!({ "type": "connection_init", "payload": payload }))
        .await;
    let ack = client.next().await.expect("an answer to connection_init");
    if ack["close"] == 4403 {
        return json!({ "errors": [{ "message": ack["reason"], "extensions": { "code": "UNAUTHENTICATED" } }] });
    }
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    client
        .send(json!({ "id": "1", "type": "subscribe", "payload": { "query": query, "variables": vars } }))
        .await;
    let message = client.next().await.expect("a result");
    match message["type"].as_str() {
        Some("next") => message["payload"].clone(),
        Some("error") => json!({ "errors": message["payload"] }),
        _ => panic!("unexpected message: {message}"),
    }
}

/// A server whose key ring has a retired key, and the people the table needs.
async fn world() -> (TestApp, World) {
    // A key ring whose first key has been rotated out and retired.
    let mut ring = KeyringFile::new();
    let ttl = Duration::from_secs(3600);
    let retired_keys = TokenKeys::new(
        Keyring::from_file(&ring).expect("ring"),
        ttl,
        Default::default(),
    );
    let retired = ring.current;
    ring.rotate();
    ring.retire(retired).expect("retire");
    let app = TestApp::spawn_with_keys(TokenKeys::new(
        Keyring::from_file(&ring).expect("ring"),
        ttl,
        Default::default(),
    ))
    .await;

    let owner = app.register("owner").await;
    let other = app.register("other").await;
    let moderator = app.register("moderator").await;
    let admin = app.admin("admin").await;
    let banned = app.register("banned").await;
    let decoy_article = app.create_article(&owner, "Decoy", &[], false).await;
    app.graphql_as(&admin.token, "mutation { grantRole(input: { username: \"moderator\", role: MODERATOR }) { user { role } } }", json!({}))
        .await;
    app.graphql_as(
        &admin.token,
        "mutation { banUser(input: { username: \"banned\" }) { banned } }",
        json!({}),
    )
    .await;
    // End one session of the owner so that a token of an older epoch exists.
    app.graphql_as(
        &owner.token,
        "mutation { revokeAllSessions { user { username } } }",
        json!({}),
    )
    .await;
    let world = World {
        owner: user_id(&owner).await,
        other: user_id(&other).await,
        moderator: user_id(&moderator).await,
        admin: user_id(&admin).await,
        banned: user_id(&banned).await,
        decoy_article,
        stranger_keys: TokenKeys::generate(ttl, Default::default()),
        retired_keys,
        next: 0,
    };
    (app, world)
}

/// Runs every cell of the table over `transport`; asserts each answers as
/// the table says.
async fn assert_the_table_holds(transport: Transport) {
    let (app, mut world) = world().await;
    let mut mismatches = Vec::new();
    for row in TABLE {
        let expected: Vec<Expect> = row
            .cells
            .iter()
            .chain(row.bad_tokens.iter())
            .copied()
            .collect();
        for (column, want) in expected.iter().enumerate() {
            let (query, vars) = operation(&app, &mut world, row.operation).await;
            let token = token_for(&app, &world, column).await;
            let body = match (transport, &token) {
                (Transport::Http, Some(token)) => app.graphql_as(token, &query, vars).await,
                (Transport::Http, None) => app.graphql(&query, vars).await,
                (Transport::WebSocket, token) => {
                    over_websocket(&app, token.as_deref(), &query, vars).await
                }
            };
            let got = outcome(&body);
            if got != *want {
                mismatches.push(format!(
                    "{} by {} over {transport:?}: expected {want:?}, got {got:?}: {body}",
                    row.operation, CALLERS[column]
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} cells differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[tokio::test]
async fn every_operation_answers_every_caller_as_the_table_says() {
    assert_the_table_holds(Transport::Http).await;
}

#[tokio::test]
async fn every_operation_answers_every_caller_as_the_table_says_over_websocket() {
    assert_the_table_holds(Transport::WebSocket).await;
}

#[tokio::test]
async fn every_mutation_has_a_row_in_the_table() {
    let app = TestApp::spawn().await;
    let body = app
        .graphql(
            "{ __type(name: \"Mutation\") { fields { name } } }",
            json!({}),
        )
        .await;
    let mutations: BTreeSet<String> = body["data"]["__type"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["name"].as_str().expect("name").to_owned())
        .collect();
    let rows: BTreeSet<String> = TABLE.iter().map(|r| r.operation.to_owned()).collect();
    let missing: Vec<&String> = mutations.difference(&rows).collect();
    assert!(
        missing.is_empty(),
        "mutations without rows in the authorization matrix: {missing:?}"
    );
}
