//! Sign-up, sign-in, `viewer`, `user` and `updateViewer`.

use serde_json::json;

use crate::helpers::{PASSWORD, REGISTER, TestApp, assert_error};

const LOGIN: &str =
    "mutation($input: LoginInput!) { login(input: $input) { token user { username email } } }";
const VIEWER: &str = "{ viewer { id username email bio image isViewer } }";
const USER: &str =
    "query($username: String!) { user(username: $username) { username bio image isViewer email } }";
const UPDATE_VIEWER: &str = "mutation($input: UpdateViewerInput!) { updateViewer(input: $input) { user { username email bio image } token } }";

#[tokio::test]
async fn register_returns_a_token_that_signs_the_new_user_in() {
    let app = TestApp::spawn().await;
    let body = app
        .graphql(REGISTER, json!({ "input": { "username": "jake", "email": "Jake@Example.org", "password": PASSWORD } }))
        .await;
    assert_eq!(body["data"]["register"]["user"]["username"], "jake");
    assert_eq!(
        body["data"]["register"]["user"]["email"],
        "Jake@Example.org"
    );
    let token = body["data"]["register"]["token"].as_str().expect("token");

    let me = app.graphql_as(token, VIEWER, json!({})).await;
    assert_eq!(me["data"]["viewer"]["username"], "jake");
    assert_eq!(me["data"]["viewer"]["email"], "Jake@Example.org");
    assert_eq!(me["data"]["viewer"]["isViewer"], true);
}

#[tokio::test]
async fn register_refuses_a_taken_username_or_an_email_taken_in_another_case() {
    let app = TestApp::spawn().await;
    app.register("jake").await;

    let same_name = app
        .graphql(REGISTER, json!({ "input": { "username": "jake", "email": "other@example.org", "password": PASSWORD } }))
        .await;
    assert_error(&same_name, "CONFLICT");
    assert_eq!(same_name["errors"][0]["extensions"]["field"], "username");
    assert!(same_name["data"].is_null());

    let same_email = app
        .graphql(REGISTER, json!({ "input": { "username": "jacob", "email": "JAKE@example.org", "password": PASSWORD } }))
        .await;
    assert_error(&same_email, "CONFLICT");
    assert_eq!(same_email["errors"][0]["extensions"]["field"], "email");
}

#[tokio::test]
async fn register_reports_every_invalid_field_at_once() {
    let app = TestApp::spawn().await;
    let body = app
        .graphql(REGISTER, json!({ "input": { "username": "no spaces", "email": "not-an-email", "password": "short" } }))
        .await;
    assert_error(&body, "BAD_USER_INPUT");
    let fields: Vec<&str> = body["errors"][0]["extensions"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["field"].as_str().expect("name"))
        .collect();
    assert_eq!(fields, ["username", "email", "password"]);
    // Nothing was written.
    let login = app
        .graphql(
            LOGIN,
            json!({ "input": { "email": "not-an-email", "password": "short" } }),
        )
        .await;
    assert_error(&login, "UNAUTHENTICATED");
}

#[tokio::test]
async fn login_accepts_the_right_password_in_any_email_case() {
    let app = TestApp::spawn().await;
    app.register("jake").await;
    let body = app
        .graphql(
            LOGIN,
            json!({ "input": { "email": "JAKE@example.org", "password": PASSWORD } }),
        )
        .await;
    assert_eq!(body["data"]["login"]["user"]["username"], "jake");
    assert_eq!(body["data"]["login"]["user"]["email"], "jake@example.org");
    let token = body["data"]["login"]["token"].as_str().expect("token");
    let me = app.graphql_as(token, VIEWER, json!({})).await;
    assert_eq!(me["data"]["viewer"]["username"], "jake");
}

#[tokio::test]
async fn login_gives_the_same_answer_for_a_wrong_password_and_an_unknown_email() {
    let app = TestApp::spawn().await;
    app.register("jake").await;
    let wrong = app
        .graphql(
            LOGIN,
            json!({ "input": { "email": "jake@example.org", "password": "wrong password" } }),
        )
        .await;
    let unknown = app
        .graphql(
            LOGIN,
            json!({ "input": { "email": "nobody@example.org", "password": PASSWORD } }),
        )
        .await;
    assert_error(&wrong, "UNAUTHENTICATED");
    assert_error(&unknown, "UNAUTHENTICATED");
    assert_eq!(
        wrong["errors"][0]["message"],
        unknown["errors"][0]["message"]
    );
}

#[tokio::test]
async fn viewer_is_null_without_a_token() {
    let app = TestApp::spawn().await;
    let body = app.graphql(VIEWER, json!({})).await;
    assert!(body["errors"].is_null(), "{body}");
    assert!(body["data"]["viewer"].is_null());
}

#[tokio::test]
async fn a_public_profile_hides_the_email_from_everyone_but_its_owner() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let anne = app.register("anne").await;

    let anonymous = app.graphql(USER, json!({ "username": "jake" })).await;
    assert_eq!(anonymous["data"]["user"]["username"], "jake");
    assert!(anonymous["data"]["user"]["email"].is_null());
    assert_error(&anonymous, "UNAUTHENTICATED");

    let other = app
        .graphql_as(&anne.token, USER, json!({ "username": "jake" }))
        .await;
    assert_error(&other, "FORBIDDEN");
    assert_eq!(other["data"]["user"]["isViewer"], false);

    let own = app
        .graphql_as(&jake.token, USER, json!({ "username": "jake" }))
        .await;
    assert!(own["errors"].is_null(), "{own}");
    assert_eq!(own["data"]["user"]["email"], "jake@example.org");
    assert_eq!(own["data"]["user"]["isViewer"], true);

    let public = app
        .graphql(
            "query($u: String!) { user(username: $u) { username bio } }",
            json!({ "u": "jake" }),
        )
        .await;
    assert!(public["errors"].is_null());
}

#[tokio::test]
async fn an_unknown_username_is_null() {
    let app = TestApp::spawn().await;
    let body = app.graphql(USER, json!({ "username": "ghost" })).await;
    assert!(body["data"]["user"].is_null());
    assert!(body["errors"].is_null());
}

#[tokio::test]
async fn update_viewer_changes_the_profile_and_the_password() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let body = app
        .graphql_as(
            &jake.token,
            UPDATE_VIEWER,
            json!({ "input": { "username": "jacob", "email": "jacob@example.org", "bio": "I work at statefarm", "image": "https://example.org/jake.png", "password": "a new password", "currentPassword": PASSWORD } }),
        )
        .await;
    let token = body["data"]["updateViewer"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("a new token: {body}"))
        .to_owned();
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(
        body["data"]["updateViewer"]["user"],
        json!({ "username": "jacob", "email": "jacob@example.org", "bio": "I work at statefarm", "image": "https://example.org/jake.png" })
    );
    let old = app
        .graphql(
            LOGIN,
            json!({ "input": { "email": "jacob@example.org", "password": PASSWORD } }),
        )
        .await;
    assert_error(&old, "UNAUTHENTICATED");
    let new = app
        .graphql(
            LOGIN,
            json!({ "input": { "email": "jacob@example.org", "password": "a new password" } }),
        )
        .await;
    assert_eq!(new["data"]["login"]["user"]["username"], "jacob");

    let cleared = app
        .graphql_as(&token, UPDATE_VIEWER, json!({ "input": { "image": "" } }))
        .await;
    assert!(cleared["data"]["updateViewer"]["user"]["image"].is_null());
    assert!(
        cleared["data"]["updateViewer"]["token"].is_null(),
        "the profile alone ends no session"
    );
}

#[tokio::test]
async fn update_viewer_needs_a_token_and_valid_unique_values() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    app.register("anne").await;

    let anonymous = app
        .graphql(UPDATE_VIEWER, json!({ "input": { "bio": "x" } }))
        .await;
    assert_error(&anonymous, "UNAUTHENTICATED");

    let taken = app
        .graphql_as(
            &jake.token,
            UPDATE_VIEWER,
            json!({ "input": { "username": "anne" } }),
        )
        .await;
    assert_error(&taken, "CONFLICT");

    let invalid = app
        .graphql_as(
            &jake.token,
            UPDATE_VIEWER,
            json!({ "input": { "email": "nope", "image": "ftp://x", "password": "short" } }),
        )
        .await;
    assert_error(&invalid, "BAD_USER_INPUT");
    assert_eq!(
        invalid["errors"][0]["extensions"]["fields"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );

    // Keeping one's own email in another case is not a conflict.
    let same = app
        .graphql_as(
            &jake.token,
            UPDATE_VIEWER,
            json!({ "input": { "email": "JAKE@example.org", "currentPassword": PASSWORD } }),
        )
        .await;
    assert!(same["errors"].is_null(), "{same}");
}

#[tokio::test]
async fn changing_credentials_needs_the_current_password_and_ends_every_other_session() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let other_session = app
        .graphql(
            LOGIN,
            json!({ "input": { "email": "jake@example.org", "password": PASSWORD } }),
        )
        .await["data"]["login"]["token"]
        .as_str()
        .expect("a second session")
        .to_owned();
    app.register("anne").await;
    for (input, message) in [
        (
            json!({ "email": "new@example.org" }),
            "is needed to change the email or password",
        ),
        // A taken address is not told before the password is shown.
        (
            json!({ "email": "anne@example.org" }),
            "is needed to change the email or password",
        ),
        (
            json!({ "password": "a new password", "currentPassword": "not the password" }),
            "is incorrect",
        ),
    ] {
        let refused = app
            .graphql_as(&jake.token, UPDATE_VIEWER, json!({ "input": input }))
            .await;
        assert_error(&refused, "BAD_USER_INPUT");
        let field = &refused["errors"][0]["extensions"]["fields"][0];
        assert_eq!(field["field"], "currentPassword", "{refused}");
        assert_eq!(field["message"], message, "{refused}");
    }
    // Nothing changed, and both sessions still work.
    for token in [&jake.token, &other_session] {
        let viewer = app.graphql_as(token, VIEWER, json!({})).await;
        assert_eq!(
            viewer["data"]["viewer"]["email"], "jake@example.org",
            "{viewer}"
        );
    }

    let changed = app
        .graphql_as(
            &jake.token,
            UPDATE_VIEWER,
            json!({ "input": { "password": "a new password", "currentPassword": PASSWORD } }),
        )
        .await;
    let token = changed["data"]["updateViewer"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("a new token: {changed}"));
    for ended in [&jake.token, &other_session] {
        assert_error(
            &app.graphql_as(ended, VIEWER, json!({})).await,
            "UNAUTHENTICATED",
        );
    }
    let viewer = app.graphql_as(token, VIEWER, json!({})).await;
    assert_eq!(viewer["data"]["viewer"]["username"], "jake", "{viewer}");
}

#[tokio::test]
async fn usernames_and_emails_are_unique_ignoring_case_and_lookalikes() {
    let app = TestApp::spawn().await;
    app.register("Jake").await;
    let register = |username: &str, email: &str| json!({ "input": { "username": username, "email": email, "password": PASSWORD } });
    let same_name = app
        .graphql(REGISTER, register("jake", "other@example.org"))
        .await;
    assert_error(&same_name, "CONFLICT");
    assert_eq!(same_name["errors"][0]["extensions"]["field"], "username");
    // The same address in full-width letters and another case.
    let same_email = app
        .graphql(REGISTER, register("jacob", "ＪＡＫＥ@example.org"))
        .await;
    assert_error(&same_email, "CONFLICT");
    assert_eq!(same_email["errors"][0]["extensions"]["field"], "email");
    for hidden in ["ja\u{200b}ke@example.org", "ja\u{ad}ke@example.org"] {
        let refused = app.graphql(REGISTER, register("hidden", hidden)).await;
        assert_error(&refused, "BAD_USER_INPUT");
    }
    // Signing in takes the address in any of its forms.
    let login = app
        .graphql(
            LOGIN,
            json!({ "input": { "email": "ｊａｋｅ@EXAMPLE.org", "password": PASSWORD } }),
        )
        .await;
    assert_eq!(
        login["data"]["login"]["user"]["username"], "Jake",
        "{login}"
    );
    // A username in any case names the one account, on every backend.
    let found = app
        .graphql(
            "{ user(username: \"JAKE\") { username } articles(filter: { author: \"jAkE\" }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(found["data"]["user"]["username"], "Jake", "{found}");
    assert_eq!(found["data"]["articles"]["totalCount"], 0, "{found}");
    // Two sign-ups racing for one name in two cases: one wins.
    let (a, b) = tokio::join!(
        app.graphql(REGISTER, register("Amy", "amy1@example.org")),
        app.graphql(REGISTER, register("amy", "amy2@example.org")),
    );
    let won = [&a, &b]
        .iter()
        .filter(|body| body["data"]["register"].is_object())
        .count();
    assert_eq!(won, 1, "{a}\n{b}");
}

#[tokio::test]
async fn a_taken_address_costs_a_sign_up_as_much_work_as_a_free_one() {
    let app = TestApp::spawn().await;
    app.register("jake").await;
    let register = |username: &str, email: &str| json!({ "input": { "username": username, "email": email, "password": PASSWORD } });
    let runs = || app.state.passwords.runs();
    let before = runs();
    let taken = app
        .graphql(REGISTER, register("jacob", "jake@example.org"))
        .await;
    assert_error(&taken, "CONFLICT");
    assert_eq!(
        runs() - before,
        1,
        "the password was hashed as for a sign-up"
    );
    let before = runs();
    app.register("anne").await;
    assert_eq!(runs() - before, 1);
}

#[tokio::test]
async fn an_address_keyed_before_nfkc_signs_in_once_migrated() {
    use migration::MigratorTrait;
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await;
    app.register("jake").await;
    // A row written before keys were NFKC: a full-width address, keyed in
    // lower case alone.
    let legacy = "ｊａｃｏｂ@example.org";
    app.state
        .db
        .execute_unprepared(&format!(
            "UPDATE users SET email = '{legacy}', email_key = '{legacy}' WHERE username = 'jake'"
        ))
        .await
        .expect("update");
    let sign_in = || {
        app.graphql(
            LOGIN,
            json!({ "input": { "email": "jacob@example.org", "password": PASSWORD } }),
        )
    };
    assert_error(&sign_in().await, "UNAUTHENTICATED");
    // Back to before the NFKC step and the ones after it, and up again.
    let steps = migration::Migrator::migrations()
        .iter()
        .rev()
        .position(|step| step.name() == "m20260104_000002_normalize_email_keys")
        .expect("the NFKC step") as u32
        + 1;
    migration::Migrator::down(&app.state.db, Some(steps))
        .await
        .expect("down");
    migration::Migrator::up(&app.state.db, None)
        .await
        .expect("up");
    let body = sign_in().await;
    assert_eq!(body["data"]["login"]["user"]["username"], "jake", "{body}");
}
