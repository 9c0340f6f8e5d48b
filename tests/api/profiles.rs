//! Follows, profile counts and the feed.

use serde_json::json;

use crate::helpers::{TestApp, assert_error};

const FOLLOW: &str = "mutation($u: String!) { followUser(input: { username: $u }) { user { username viewerIsFollowing followersCount } } }";
const UNFOLLOW: &str = "mutation($u: String!) { unfollowUser(input: { username: $u }) { user { username viewerIsFollowing followersCount } } }";
const FEED: &str = "{ feed(first: 10) { totalCount nodes { slug author { username } } } }";

#[tokio::test]
async fn following_shows_in_counts_and_in_viewer_is_following() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let anne = app.register("anne").await;

    let followed = app
        .graphql_as(&anne.token, FOLLOW, json!({ "u": "jake" }))
        .await;
    assert_eq!(
        followed["data"]["followUser"]["user"],
        json!({ "username": "jake", "viewerIsFollowing": true, "followersCount": 1 }),
        "{followed}"
    );
    let again = app
        .graphql_as(&anne.token, FOLLOW, json!({ "u": "jake" }))
        .await;
    assert_eq!(again["data"]["followUser"]["user"]["followersCount"], 1);

    let profile =
        "{ user(username: \"anne\") { followingCount followersCount viewerIsFollowing } }";
    assert_eq!(
        app.graphql_as(&jake.token, profile, json!({})).await["data"]["user"],
        json!({ "followingCount": 1, "followersCount": 0, "viewerIsFollowing": false })
    );
    let seen_anonymously = app
        .graphql(
            "{ user(username: \"jake\") { viewerIsFollowing followersCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        seen_anonymously["data"]["user"],
        json!({ "viewerIsFollowing": false, "followersCount": 1 })
    );

    let unfollowed = app
        .graphql_as(&anne.token, UNFOLLOW, json!({ "u": "jake" }))
        .await;
    assert_eq!(
        unfollowed["data"]["unfollowUser"]["user"],
        json!({ "username": "jake", "viewerIsFollowing": false, "followersCount": 0 })
    );
}

#[tokio::test]
async fn follow_refuses_anonymous_callers_unknown_users_and_oneself() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    assert_error(
        &app.graphql(FOLLOW, json!({ "u": "jake" })).await,
        "UNAUTHENTICATED",
    );
    assert_error(
        &app.graphql_as(&jake.token, FOLLOW, json!({ "u": "ghost" }))
            .await,
        "NOT_FOUND",
    );
    assert_error(
        &app.graphql_as(&jake.token, UNFOLLOW, json!({ "u": "ghost" }))
            .await,
        "NOT_FOUND",
    );
    assert_error(
        &app.graphql_as(&jake.token, FOLLOW, json!({ "u": "jake" }))
            .await,
        "BAD_USER_INPUT",
    );
}

#[tokio::test]
async fn the_feed_holds_published_articles_of_followed_authors_newest_first() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let anne = app.register("anne").await;
    let carl = app.register("carl").await;
    let older = app.create_article(&jake, "Older", &[], false).await;
    app.create_article(&jake, "Draft", &[], true).await;
    app.create_article(&carl, "Unfollowed", &[], false).await;
    let newer = app.create_article(&jake, "Newer", &[], false).await;
    app.create_article(&anne, "Own", &[], false).await;
    app.graphql_as(&anne.token, FOLLOW, json!({ "u": "jake" }))
        .await;

    let feed = app.graphql_as(&anne.token, FEED, json!({})).await;
    assert_eq!(feed["data"]["feed"]["totalCount"], 2, "{feed}");
    assert_eq!(
        feed["data"]["feed"]["nodes"],
        json!([{ "slug": newer, "author": { "username": "jake" } }, { "slug": older, "author": { "username": "jake" } }])
    );
    assert_error(&app.graphql(FEED, json!({})).await, "UNAUTHENTICATED");
    let empty = app.graphql_as(&carl.token, FEED, json!({})).await;
    assert_eq!(empty["data"]["feed"]["totalCount"], 0);
}
