//! GraphQL over HTTP: content negotiation, methods, CSRF prevention, CORS,
//! body and header limits, batching, timeouts and production mode.

use conduit::config::Environment;

use crate::helpers::TestApp;

#[tokio::test]
async fn production_mode_serves_no_graphiql_unless_switched_on() {
    let production = TestApp::spawn_configured(|c| c.environment = Environment::Production).await;
    let page = reqwest::get(format!("{}/graphql", production.address))
        .await
        .expect("get");
    assert_eq!(page.status(), 404);

    let switched_on = TestApp::spawn_configured(|c| {
        c.environment = Environment::Production;
        c.protection.graphiql = Some(true);
    })
    .await;
    let page = reqwest::get(format!("{}/graphql", switched_on.address))
        .await
        .expect("get");
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("html").contains("graphiql"));
}
