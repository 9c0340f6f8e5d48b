//! The home page, an article page and a profile page, with the cache in Redis
//! and with the cache switched off, on PostgreSQL: requests per second, p50 and p99.
//!
//!     cargo bench --bench cache
//!
//! `BENCH_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`)
//! names a server on which a fresh database is created and dropped;
//! `BENCH_REDIS_URL` (default `redis://127.0.0.1:6379`) the Redis, used under a
//! fresh key prefix.

mod support;

use std::time::Duration;

use conduit::app::Application;
use conduit::auth::TokenKeys;
use conduit::config::Config;
use conduit::seed::{SeedPlan, run as seed};
use sea_orm::{ConnectionTrait, Database, EntityTrait, QueryOrder};

const CLIENTS: usize = 16;
const REQUESTS: usize = 4000;

const HOME: &str = r#"{"query":"{ articles(first: 20) { totalCount edges { node { slug title description createdAt tags favoritesCount commentCount author { username image } } } } tags(first: 20) { name articleCount } }"}"#;

async fn start(config: Config, tokens: TokenKeys) -> String {
    let app = Application::build_with_tokens(config, tokens)
        .await
        .expect("server starts");
    let address = format!("http://{}/graphql", app.local_addr().expect("addr"));
    tokio::spawn(app.run_until(std::future::pending()));
    address
}

#[tokio::main]
async fn main() {
    let server = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let redis =
        std::env::var("BENCH_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let name = format!("conduit_bench_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(server.as_str())
        .await
        .expect("database server");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create database");
    let url = format!(
        "{}/{name}",
        server
            .rsplit_once('/')
            .map_or(server.as_str(), |(base, _)| base)
    );

    let dir = tempfile::tempdir().expect("dir");
    let mut cached = Config {
        database_url: Some(url.clone()),
        redis_url: Some(redis),
        redis_prefix: format!("bench{}", uuid::Uuid::new_v4().simple()),
        bind: "127.0.0.1:0".parse().expect("addr"),
        data_dir: dir.path().to_owned(),
        db_max_connections: 32,
        ..Config::default()
    };
    // Requests are still charged, as in production, against a budget the
    // load cannot spend.
    cached.protection.rate_limit_points = u64::MAX / 2;
    let uncached = Config {
        cache_enabled: false,
        ..cached.clone()
    };
    let tokens = TokenKeys::generate(Duration::from_secs(3600), Default::default());
    let cached_address = start(cached, tokens.clone()).await;
    let uncached_address = start(uncached, tokens).await;

    let db = Database::connect(url.as_str())
        .await
        .expect("bench database");
    let plan = SeedPlan {
        users: 1000,
        articles: 10_000,
        comments_per_article: 5,
        password: "password123".into(),
    };
    seed(&db, &plan).await.expect("seed");
    let article = entity::article::Entity::find()
        .order_by_desc(entity::article::Column::Id)
        .one(&db)
        .await
        .expect("query")
        .expect("an article");
    let author = entity::user::Entity::find_by_id(article.author_id)
        .one(&db)
        .await
        .expect("query")
        .expect("author");
    let article_page: &'static str = Box::leak(
        format!(
            r#"{{"query":"{{ article(slug: \"{}\") {{ title body tags favoritesCount author {{ username bio image followersCount }} comments(first: 20) {{ totalCount nodes {{ body createdAt author {{ username image }} }} }} }} }}"}}"#,
            article.slug
        )
        .into_boxed_str(),
    );
    let profile_page: &'static str = Box::leak(
        format!(
            r#"{{"query":"{{ user(username: \"{}\") {{ username bio image followersCount followingCount articles(first: 10) {{ totalCount nodes {{ slug title favoritesCount tags }} }} }} }}"}}"#,
            author.username
        )
        .into_boxed_str(),
    );

    println!(
        "PostgreSQL + Redis, {} users, {} articles; {CLIENTS} clients, {REQUESTS} requests each",
        plan.users, plan.articles
    );
    println!(
        "{:<14} {:<9} {:>9} {:>10} {:>10}",
        "query", "cache", "req/s", "p50", "p99"
    );
    for (name, body) in [
        ("home page", HOME),
        ("article page", article_page),
        ("profile page", profile_page),
    ] {
        for (mode, address) in [("redis", &cached_address), ("off", &uncached_address)] {
            support::load(address, body, None, CLIENTS, REQUESTS / 4).await; // warm-up
            let m = support::load(address, body, None, CLIENTS, REQUESTS).await;
            println!(
                "{name:<14} {mode:<9} {:>9.0} {:>10.2?} {:>10.2?}",
                m.rps, m.p50, m.p99
            );
        }
    }
    drop(db);
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .ok();
}
