//! What authorization costs on the home page query with a viewer token.
//!
//! Two servers share one seeded SQLite database: one verifies the token and
//! runs the authorizer as in production, the other has authorization stubbed
//! out (`bench-stubs`). Each serves the same query from 16 concurrent clients;
//! rounds alternate between them and the best round of each is compared.
//!
//!     cargo bench --features bench-stubs --bench authorization

mod support;

use std::time::Duration;

use conduit::app::Application;
use conduit::auth::TokenKeys;
use conduit::auth::token::authorizer_limits;
use conduit::config::Config;
use conduit::seed::{SeedPlan, run as seed};
use sea_orm::EntityTrait;

const HOME: &str = r#"{"query":"{ articles(first: 20) { edges { node { slug title description createdAt tags favoritesCount viewerHasFavorited commentCount author { username image } } } } }"}"#;
const CLIENTS: usize = 16;
const REQUESTS_PER_ROUND: usize = 4000;
const ROUNDS: usize = 5;

async fn start(config: Config, tokens: TokenKeys) -> (Application, String) {
    let app = Application::build_with_tokens(config, tokens)
        .await
        .expect("server starts");
    let address = format!("http://{}/graphql", app.local_addr().expect("addr"));
    (app, address)
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("dir");
    let mut config = Config {
        database_url: Some(format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        )),
        bind: "127.0.0.1:0".parse().expect("addr"),
        data_dir: dir.path().to_owned(),
        ..Config::default()
    };
    // Requests are still charged, as in production, against a budget the
    // load cannot spend.
    config.protection.rate_limit_points = u64::MAX / 2;
    let tokens = TokenKeys::generate(Duration::from_secs(3600), authorizer_limits(&config));
    let (real, real_address) = start(config.clone(), tokens.clone()).await;
    let plan = SeedPlan {
        users: 200,
        articles: 2000,
        comments_per_article: 3,
        password: "password123".into(),
    };
    seed(&real.state().db, &plan).await.expect("seed");
    let state = real.state().clone();
    let user = entity::user::Entity::find()
        .one(&state.db)
        .await
        .expect("query")
        .expect("a seeded user");
    let token = conduit::service::users::mint_for(&state, &user).expect("token");
    let session = tokens.verify(&token).expect("session");
    let (stubbed, stub_address) = start(config, tokens.clone().stubbed(session)).await;
    tokio::spawn(real.run_until(std::future::pending()));
    tokio::spawn(stubbed.run_until(std::future::pending()));

    let round = |address: String| {
        let token = token.clone();
        async move { support::load(&address, HOME, Some(&token), CLIENTS, REQUESTS_PER_ROUND).await }
    };
    round(real_address.clone()).await;
    round(stub_address.clone()).await;
    let mut best: [Option<support::Measured>; 2] = [None, None];
    for _ in 0..ROUNDS {
        for (slot, address) in best.iter_mut().zip([&real_address, &stub_address]) {
            let measured = round(address.clone()).await;
            if slot.is_none_or(|b| measured.rps > b.rps) {
                *slot = Some(measured);
            }
        }
    }
    let [Some(real), Some(stub)] = best else {
        unreachable!("at least one round ran")
    };
    let (best_real, best_stub) = (real.rps, stub.rps);
    let overhead = (best_stub / best_real - 1.0) * 100.0;
    println!(
        "home page, viewer token, {CLIENTS} clients, best of {ROUNDS} rounds of {REQUESTS_PER_ROUND} requests"
    );
    println!(
        "  with authorization:     {best_real:>8.0} req/s  p50 {:>8.2?}  p99 {:>8.2?}",
        real.p50, real.p99
    );
    println!(
        "  authorization stubbed:  {best_stub:>8.0} req/s  p50 {:>8.2?}  p99 {:>8.2?}",
        stub.p50, stub.p99
    );
    println!("  overhead:               {overhead:>7.1} %");
}
