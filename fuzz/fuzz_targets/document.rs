//! Any text as a GraphQL document: the pre-parse checks, the parser and the
//! measures, on a worker-sized stack.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    conduit_fuzz::on_worker_stack(move || {
        conduit_fuzz::document(&text, &async_graphql::Variables::default())
    });
});
