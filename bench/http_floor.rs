//! The HTTP floor of the benchmark harness: a plain axum route that answers
//! every `POST /graphql` with the same response, read once from files: the
//! body, and the header lines the gateway sent with it (as `curl -D` writes
//! them). It does no GraphQL, no database and no authorization, so it
//! measures what HTTP alone costs on this machine for the same response bytes.
//!
//!     cargo run --release --example http_floor -- <response.json> <127.0.0.1:port> [headers.txt]
//!
//! Without a headers file it sends `Content-Type: application/json` alone.
//! `Date` and `Content-Length` in the file are left to the HTTP server, which
//! writes its own, and the status line is skipped.

use axum::Router;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::routing::post;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(path), Some(bind)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: http_floor <response file> <address:port> [headers file]");
    };
    let bytes: &'static [u8] = Vec::leak(std::fs::read(&path)?);
    let headers = match args.next() {
        Some(path) => headers_from(&std::fs::read_to_string(path)?)?,
        None => HeaderMap::from_iter([(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )]),
    };
    let app = Router::new().route(
        "/graphql",
        post(move || {
            let headers = headers.clone();
            async move { (headers, bytes) }
        }),
    );
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    println!("listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

/// The headers in `text`, one `name: value` per line, without the status line
/// and the headers the HTTP server writes itself.
fn headers_from(text: &str) -> anyhow::Result<HeaderMap> {
    let mut headers = HeaderMap::new();
    for line in text.lines().skip(1) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = HeaderName::from_bytes(name.trim().as_bytes())?;
        if name == header::DATE || name == header::CONTENT_LENGTH {
            continue;
        }
        headers.append(name, HeaderValue::from_str(value.trim())?);
    }
    Ok(headers)
}
