//! Thousands of generated and mutated requests against the running server:
//! malformed JSON, wrong types, huge numbers, deep nesting, invalid UTF-8,
//! mutated documents and unknown operations. None may get a 5xx, the process
//! must not grow without bound, and a normal query must work afterwards.

use futures_util::StreamExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::helpers::{KillOnDrop, database_url, memory_kib, serve_with};

/// Documents the mutations start from.
const SEEDS: [&str; 6] = [
    "{ articles(first: 5) { totalCount edges { cursor node { slug title author { username } tags } } } }",
    "query Q($n: Int) { tags(first: $n) { name articleCount } }",
    "{ article(slug: \"hello\") { title comments(first: 3) { nodes { body } } } }",
    "mutation { login(input: { email: \"a@b.c\", password: \"long enough\" }) { token } }",
    "query A { viewer { username } } query B { user(username: \"x\") { bio } }",
    "{ node(id: \"QXJ0aWNsZTox\") { id ... on Article { slug } } }",
];

const NOISE: &[u8] = b"{}()[]:$!@.,\"\\ \n#&|=0123456789aZ_-\xff\xfe\x00";

fn mutate(rng: &mut StdRng, seed: &str) -> Vec<u8> {
    let mut bytes = seed.as_bytes().to_vec();
    for _ in 0..rng.random_range(1..6) {
        let at = rng.random_range(0..=bytes.len());
        match rng.random_range(0..4) {
            0 => bytes.insert(at, NOISE[rng.random_range(0..NOISE.len())]),
            1 if at < bytes.len() => {
                bytes.remove(at);
            }
            2 => {
                let end = (at + rng.random_range(1..20)).min(bytes.len());
                let slice = bytes[at..end].to_vec();
                bytes.splice(at..at, slice);
            }
            _ => bytes.truncate(at),
        }
    }
    bytes
}

fn deep(depth: usize, open: &str, close: &str, middle: &str) -> String {
    format!("{}{middle}{}", open.repeat(depth), close.repeat(depth))
}

/// One generated body.
fn body(rng: &mut StdRng, i: usize) -> Vec<u8> {
    let seed = SEEDS[rng.random_range(0..SEEDS.len())];
    match i % 12 {
        // A mutated document inside a well-formed request.
        0..=3 => {
            let document = String::from_utf8_lossy(&mutate(rng, seed)).into_owned();
            json!({ "query": document }).to_string().into_bytes()
        }
        // A mutated request body: broken JSON, invalid UTF-8.
        4 | 5 => mutate(rng, &json!({ "query": seed, "variables": { "n": 3 } }).to_string()),
        // Wrong types and huge numbers in variables and parameters.
        6 => {
            let values = [
                json!("ten"),
                json!(1e300),
                json!(-1),
                json!(u64::MAX),
                json!(i64::MIN),
                json!(0.5),
                json!([1, 2]),
                json!({ "a": 1 }),
                json!(null),
                json!(true),
            ];
            let n = values[rng.random_range(0..values.len())].clone();
            json!({ "query": SEEDS[1], "variables": { "n": n } }).to_string().into_bytes()
        }
        7 => {
            let values = [json!(1), json!([]), json!({}), json!(false), json!(null)];
            let pick = |rng: &mut StdRng| values[rng.random_range(0..values.len())].clone();
            json!({ "query": pick(rng), "operationName": pick(rng), "variables": pick(rng), "extensions": pick(rng) })
                .to_string()
                .into_bytes()
        }
        // Deep nesting: in the document, in variables, in the JSON itself.
        8 => {
            let depth = rng.random_range(10..3_000);
            json!({ "query": deep(depth, "{ a ", "}", "") }).to_string().into_bytes()
        }
        9 => {
            let depth = rng.random_range(100..5_000);
            format!(
                "{{\"query\":\"{{ __typename }}\",\"variables\":{{\"v\":{}}}}}",
                deep(depth, "[", "]", "1")
            )
            .into_bytes()
        }
        // Unknown or mismatched operations, and a numeric literal far out of range.
        10 => {
            let name = ["C", "", "A B"][rng.random_range(0..3)];
            json!({ "query": SEEDS[4], "operationName": name })
                .to_string()
                .into_bytes()
        }
        _ => json!({ "query": format!("{{ tags(first: {}) {{ name }} }}", "9".repeat(rng.random_range(10..400))) })
            .to_string()
            .into_bytes(),
    }
}

/// Sends every body, eight at a time; returns each status with its body.
async fn send_all(url: &str, bodies: Vec<Vec<u8>>) -> Vec<(u16, Vec<u8>)> {
    let client = reqwest::Client::new();
    futures_util::stream::iter(bodies)
        .map(|body| {
            let (client, url) = (client.clone(), url.to_owned());
            async move {
                let response = client
                    .post(url)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .expect("the server answers");
                (response.status().as_u16(), body)
            }
        })
        .buffer_unordered(8)
        .collect()
        .await
}

/// The server runs as its own process, so its memory is measured apart from
/// the tests running beside this one. mimalloc there hands freed memory back
/// at once (MIMALLOC_PURGE_DELAY=0): otherwise a sign-in's 19 MiB argon2
/// block may or may not still be resident when the size is read. The server
/// keeps its heap out of transparent huge pages; in them, its resident size
/// moved by 2 MiB steps, up to 8 MiB between two rounds, with no leak at all.
#[tokio::test]
async fn generated_bad_input_never_gets_a_5xx_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().expect("dir");
    let database = database_url(&dir).await;
    let (server, address) = serve_with(
        &dir,
        &database,
        &[
            ("RATE_LIMIT_ENABLED", "false"),
            ("MIMALLOC_PURGE_DELAY", "0"),
        ],
    );
    let server = KillOnDrop(server);
    let url = format!("{address}/graphql");
    let mut rng = StdRng::seed_from_u64(0x5eed);
    // The first 6,000 requests warm the caches and let the allocator reach
    // its working size; 3,000 more must then leave the process about as
    // large. A leak would grow it in every round alike.
    let mut statuses = Vec::new();
    let mut resident = Vec::new();
    for round in 0..3 {
        let bodies: Vec<Vec<u8>> = (round * 3_000..(round + 1) * 3_000)
            .map(|i| body(&mut rng, i))
            .collect();
        statuses.extend(send_all(&url, bodies).await);
        resident.push(memory_kib(server.0.id(), "Rss"));
    }
    let (warm, after) = (resident[1], resident[2]);
    for (status, body) in &statuses {
        assert!(
            *status < 500,
            "{status} for {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        );
    }
    let answered = statuses.iter().filter(|(s, _)| *s == 200).count();
    assert!(
        answered > 100,
        "some generated requests are valid: {answered}"
    );
    eprintln!("server RSS after each 3,000 requests, in KiB: {resident:?}");
    let grown_kib = after.saturating_sub(warm);
    assert!(grown_kib < 3 * 1024, "the server grew by {grown_kib} KiB");
    assert_eq!(
        memory_kib(server.0.id(), "AnonHugePages"),
        0,
        "the heap is in transparent huge pages"
    );

    let normal = reqwest::Client::new()
        .post(&url)
        .json(&json!({ "query": "{ articles(first: 1) { totalCount } }" }))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(normal.status(), 200);
    let normal: serde_json::Value = normal.json().await.expect("json");
    assert_eq!(normal["data"]["articles"]["totalCount"], 0, "{normal}");
}
