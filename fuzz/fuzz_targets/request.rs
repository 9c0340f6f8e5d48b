//! Any bytes as a request: the first byte picks a POST body, a GET query
//! string or WebSocket messages (split at newlines); the rest is the input.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let rest = rest.to_vec();
    conduit_fuzz::on_worker_stack(move || match kind % 3 {
        0 => conduit_fuzz::post_body(&rest),
        1 => conduit_fuzz::query_string(&String::from_utf8_lossy(&rest)),
        _ => {
            let messages: Vec<&[u8]> = rest.split(|byte| *byte == b'\n').collect();
            conduit_fuzz::websocket_messages(&messages);
        }
    });
});
