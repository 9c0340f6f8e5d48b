//! The HTTP floor of the benchmark harness: a plain axum route that answers
//! every `POST /graphql` with the same bytes, read once from a file. It does
//! no GraphQL, no database and no authorization, so it measures what HTTP
//! alone costs on this machine.
//!
//!     cargo run --release --example http_floor -- <response.json> <127.0.0.1:port>

use axum::Router;
use axum::http::header;
use axum::routing::post;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(path), Some(bind)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: http_floor <response file> <address:port>");
    };
    let bytes: &'static [u8] = Vec::leak(std::fs::read(&path)?);
    let app = Router::new().route(
        "/graphql",
        post(move || async move { ([(header::CONTENT_TYPE, "application/json")], bytes) }),
    );
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    println!("listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
