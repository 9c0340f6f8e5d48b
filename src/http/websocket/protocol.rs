//! The rules of the WebSocket subprotocols that async-graphql leaves to us:
//! which client messages are acceptable when, and the close code for each
//! mistake, as `graphql-transport-ws` defines them.
//!
//! [`ProtocolGuard`] sees every client message before the GraphQL executor
//! does, and every server message on its way out, so it knows which
//! subscription ids are live and whether the connection is acknowledged.
//! It also keeps the trusted-documents mode on this path: with
//! `TRUSTED_DOCUMENTS_ONLY`, an operation runs only when its text is in the
//! manifest.

use std::collections::HashSet;
use std::sync::Arc;

use async_graphql::http::{ClientMessage, WebSocketProtocols};
use serde_json::json;

use crate::documents::TrustedDocuments;
use crate::error::Error;

/// A message that does not parse or is not one the protocol knows.
pub const CLOSE_INVALID_MESSAGE: u16 = 4400;
/// `subscribe` before the server acknowledged `connection_init`.
pub const CLOSE_UNAUTHORIZED: u16 = 4401;
/// No `connection_init` within the configured time.
pub const CLOSE_INIT_TIMEOUT: u16 = 4408;
/// `subscribe` with an id that is already live on this connection.
pub const CLOSE_DUPLICATE_ID: u16 = 4409;
/// A second `connection_init`.
pub const CLOSE_TOO_MANY_INITS: u16 = 4429;

/// What to do with one client message.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// Hand it to the GraphQL executor.
    Forward,
    /// Close the connection with this code and reason.
    Close(u16, String),
    /// Answer this text to the client and drop the message; the connection stays open.
    Answer(String),
}

/// The per-connection protocol state.
pub struct ProtocolGuard {
    protocol: WebSocketProtocols,
    max_subscriptions: usize,
    trusted: Arc<TrustedDocuments>,
    initialised: bool,
    acknowledged: bool,
    live: HashSet<String>,
}

impl ProtocolGuard {
    /// A guard for a new connection speaking `protocol`, allowing at most
    /// `max_subscriptions` live operations at once, of the documents `trusted`
    /// allows.
    pub fn new(
        protocol: WebSocketProtocols,
        max_subscriptions: usize,
        trusted: Arc<TrustedDocuments>,
    ) -> Self {
        Self {
            protocol,
            max_subscriptions,
            trusted,
            initialised: false,
            acknowledged: false,
            live: HashSet::new(),
        }
    }

    /// Whether `connection_init` has arrived.
    pub fn initialised(&self) -> bool {
        self.initialised
    }

    /// Judges one client message.
    pub fn incoming(&mut self, message: &[u8]) -> Verdict {
        let Ok(message) = ClientMessage::from_bytes(message) else {
            return Verdict::Close(CLOSE_INVALID_MESSAGE, "Invalid message received".into());
        };
        match message {
            ClientMessage::ConnectionInit { .. } if self.initialised => Verdict::Close(
                CLOSE_TOO_MANY_INITS,
                "Too many initialisation requests".into(),
            ),
            ClientMessage::ConnectionInit { .. } => {
                self.initialised = true;
                Verdict::Forward
            }
            ClientMessage::Start { id, payload } => self.subscribe(id, &payload.query),
            ClientMessage::Stop { id } => {
                self.live.remove(&id);
                Verdict::Forward
            }
            ClientMessage::ConnectionTerminate
            | ClientMessage::Ping { .. }
            | ClientMessage::Pong { .. } => Verdict::Forward,
        }
    }

    fn subscribe(&mut self, id: String, query: &str) -> Verdict {
        if !self.acknowledged {
            return Verdict::Close(CLOSE_UNAUTHORIZED, "Unauthorized".into());
        }
        if self.live.contains(&id) {
            return Verdict::Close(
                CLOSE_DUPLICATE_ID,
                format!("Subscriber for {id} already exists"),
            );
        }
        if self.live.len() >= self.max_subscriptions {
            let error = Error::LimitExceeded {
                limit: "subscriptions per connection",
                max: self.max_subscriptions as u64,
                actual: self.live.len() as u64 + 1,
            };
            return Verdict::Answer(self.error_message(&id, error));
        }
        if !self.trusted.allows_text(query) {
            return Verdict::Answer(self.error_message(&id, Error::DocumentNotTrusted));
        }
        self.live.insert(id);
        Verdict::Forward
    }

    /// The protocol's `error` message for operation `id`.
    fn error_message(&self, id: &str, error: Error) -> String {
        let graphql_error = error.into_request_error();
        let graphql_error = serde_json::to_value(graphql_error).unwrap_or_default();
        let payload = match self.protocol {
            WebSocketProtocols::GraphQLWS => json!([graphql_error]),
            WebSocketProtocols::SubscriptionsTransportWS => graphql_error,
        };
        json!({ "type": "error", "id": id, "payload": payload }).to_string()
    }

    /// Notes a server message: the acknowledgement, and operations that ended.
    pub fn outgoing(&mut self, message: &str) {
        // Server messages are serialised with `type` first: a prefix check
        // spares parsing every `next` message.
        if message.starts_with(r#"{"type":"connection_ack""#) {
            self.acknowledged = true;
        } else if message.starts_with(r#"{"type":"complete""#)
            || message.starts_with(r#"{"type":"error""#)
        {
            #[derive(serde::Deserialize)]
            struct Ended {
                id: String,
            }
            if let Ok(ended) = serde_json::from_str::<Ended>(message) {
                self.live.remove(&ended.id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INIT: &[u8] = br#"{"type":"connection_init","payload":{}}"#;
    const ACK: &str = r#"{"type":"connection_ack"}"#;

    fn subscribe(id: &str) -> Vec<u8> {
        json!({"type": "subscribe", "id": id, "payload": {"query": "subscription { articlePublished { title } }"}})
            .to_string()
            .into_bytes()
    }

    fn acknowledged(max: usize) -> ProtocolGuard {
        let mut guard = ProtocolGuard::new(WebSocketProtocols::GraphQLWS, max, Arc::default());
        assert_eq!(guard.incoming(INIT), Verdict::Forward);
        guard.outgoing(ACK);
        guard
    }

    fn close_code(verdict: Verdict) -> u16 {
        match verdict {
            Verdict::Close(code, _) => code,
            other => panic!("expected a close, got {other:?}"),
        }
    }

    #[test]
    fn unparsable_and_unknown_messages_close_with_4400() {
        let mut guard = ProtocolGuard::new(WebSocketProtocols::GraphQLWS, 10, Arc::default());
        assert_eq!(close_code(guard.incoming(b"{not json")), 4400);
        assert_eq!(close_code(guard.incoming(br#"{"type":"hello"}"#)), 4400);
        assert_eq!(
            close_code(guard.incoming(br#"{"type":"subscribe","id":1}"#)),
            4400
        );
    }

    #[test]
    fn a_second_init_closes_with_4429() {
        let mut guard = ProtocolGuard::new(WebSocketProtocols::GraphQLWS, 10, Arc::default());
        assert!(!guard.initialised());
        assert_eq!(guard.incoming(INIT), Verdict::Forward);
        assert!(guard.initialised());
        assert_eq!(close_code(guard.incoming(INIT)), 4429);
    }

    #[test]
    fn subscribing_before_the_ack_closes_with_4401() {
        let mut guard = ProtocolGuard::new(WebSocketProtocols::GraphQLWS, 10, Arc::default());
        assert_eq!(close_code(guard.incoming(&subscribe("1"))), 4401);
        let mut guard = ProtocolGuard::new(WebSocketProtocols::GraphQLWS, 10, Arc::default());
        guard.incoming(INIT);
        assert_eq!(close_code(guard.incoming(&subscribe("1"))), 4401);
    }

    #[test]
    fn a_live_id_cannot_be_reused_until_it_completes() {
        let mut guard = acknowledged(10);
        assert_eq!(guard.incoming(&subscribe("a")), Verdict::Forward);
        assert_eq!(close_code(guard.incoming(&subscribe("a"))), 4409);

        let mut guard = acknowledged(10);
        guard.incoming(&subscribe("a"));
        guard.outgoing(r#"{"type":"complete","id":"a"}"#);
        assert_eq!(guard.incoming(&subscribe("a")), Verdict::Forward);
        guard.incoming(br#"{"type":"complete","id":"a"}"#);
        assert_eq!(guard.incoming(&subscribe("a")), Verdict::Forward);
    }

    #[test]
    fn subscriptions_over_the_cap_get_an_error_and_the_connection_stays() {
        let mut guard = acknowledged(2);
        assert_eq!(guard.incoming(&subscribe("a")), Verdict::Forward);
        assert_eq!(guard.incoming(&subscribe("b")), Verdict::Forward);
        let Verdict::Answer(text) = guard.incoming(&subscribe("c")) else {
            panic!("expected an error answer");
        };
        let answer: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(answer["type"], "error");
        assert_eq!(answer["id"], "c");
        assert_eq!(answer["payload"][0]["extensions"]["code"], "LIMIT_EXCEEDED");
        guard.outgoing(r#"{"type":"complete","id":"a"}"#);
        assert_eq!(guard.incoming(&subscribe("c")), Verdict::Forward);
    }

    #[test]
    fn the_legacy_protocol_uses_start_and_stop() {
        let mut guard = ProtocolGuard::new(
            WebSocketProtocols::SubscriptionsTransportWS,
            1,
            Arc::default(),
        );
        guard.incoming(INIT);
        guard.outgoing(ACK);
        let start = br#"{"type":"start","id":"1","payload":{"query":"{ tags { name } }"}}"#;
        assert_eq!(guard.incoming(start), Verdict::Forward);
        let Verdict::Answer(text) = guard.incoming(&subscribe("2")) else {
            panic!("expected an error answer");
        };
        let answer: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(answer["payload"]["extensions"]["code"], "LIMIT_EXCEEDED");
        assert_eq!(
            guard.incoming(br#"{"type":"stop","id":"1"}"#),
            Verdict::Forward
        );
        assert_eq!(guard.incoming(&subscribe("2")), Verdict::Forward);
    }
}
