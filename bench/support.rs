//! Load generation shared by the benchmarks: concurrent clients on loopback,
//! throughput and latency percentiles.

use std::time::{Duration, Instant};

/// What one load run measured.
#[derive(Clone, Copy, Debug)]
pub struct Measured {
    /// Requests per second over the whole run.
    pub rps: f64,
    /// Median latency.
    pub p50: Duration,
    /// 99th-percentile latency.
    pub p99: Duration,
}

/// Sends `requests` POSTs of `body` to `address` from `clients` concurrent
/// clients, checking that no response carries GraphQL errors.
pub async fn load(
    address: &str,
    body: &'static str,
    token: Option<&str>,
    clients: usize,
    requests: usize,
) -> Measured {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..clients {
        let (client, address, token) =
            (client.clone(), address.to_owned(), token.map(str::to_owned));
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(requests / clients);
            for _ in 0..requests / clients {
                let sent = Instant::now();
                let mut request = client
                    .post(&address)
                    .header("content-type", "application/json")
                    .body(body);
                if let Some(token) = &token {
                    request = request.header("authorization", format!("Bearer {token}"));
                }
                let response = request.send().await.expect("request");
                let bytes = response.bytes().await.expect("body");
                latencies.push(sent.elapsed());
                assert!(
                    !bytes.windows(8).any(|w| w == b"\"errors\""),
                    "{}",
                    String::from_utf8_lossy(&bytes)
                );
            }
            latencies
        }));
    }
    let mut latencies = Vec::with_capacity(requests);
    for worker in workers {
        latencies.extend(worker.await.expect("worker"));
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Measured {
        rps: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
    }
}
