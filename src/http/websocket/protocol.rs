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

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use async_graphql::ServerError;
use async_graphql::http::{ClientMessage, WebSocketProtocols};
use serde_json::json;
use serde_json::value::RawValue;

use crate::documents::TrustedDocuments;
use crate::error::{Error, label_error};

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

/// Live operations counted per caller (a user, or an anonymous client's
/// address) across all of the caller's connections on this instance.
#[derive(Clone, Default)]
pub struct CallerSubscriptions {
    counts: Arc<Mutex<HashMap<String, usize>>>,
}

impl CallerSubscriptions {
    fn counts(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        self.counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes one of `caller`'s `max` places; false when all are taken.
    fn take(&self, caller: &str, max: usize) -> bool {
        let mut counts = self.counts();
        let live = counts.get(caller).copied().unwrap_or(0);
        if live >= max {
            return false;
        }
        counts.insert(caller.to_owned(), live + 1);
        true
    }

    /// Gives back `n` of `caller`'s places.
    fn give_back(&self, caller: &str, n: usize) {
        let mut counts = self.counts();
        if let Some(live) = counts.get_mut(caller) {
            *live = live.saturating_sub(n);
            if *live == 0 {
                counts.remove(caller);
            }
        }
    }

    /// How many operations `caller` has live.
    pub fn live(&self, caller: &str) -> usize {
        self.counts().get(caller).copied().unwrap_or(0)
    }
}

/// The caller of one connection and how many live operations it may have.
struct CallerQuota {
    subscriptions: CallerSubscriptions,
    caller: String,
    max: usize,
}

/// The per-connection protocol state.
pub struct ProtocolGuard {
    protocol: WebSocketProtocols,
    max_subscriptions: usize,
    trusted: Arc<TrustedDocuments>,
    initialised: bool,
    acknowledged: bool,
    live: HashSet<String>,
    /// The caller's quota, once `connection_init` has said who it is.
    quota: Option<CallerQuota>,
    /// Operations answered with an `error` message, whose `complete` is
    /// not sent.
    refused: HashSet<String>,
}

impl Drop for ProtocolGuard {
    fn drop(&mut self) {
        if let Some(quota) = &self.quota {
            quota
                .subscriptions
                .give_back(&quota.caller, self.live.len());
        }
    }
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
            quota: None,
            refused: HashSet::new(),
        }
    }

    /// Whether the connection is acknowledged and its caller not yet known.
    pub fn awaits_caller(&self) -> bool {
        self.acknowledged && self.quota.is_none()
    }

    /// Counts this connection's operations against `caller`'s, at most `max`
    /// live at once across the caller's connections.
    pub fn attach_caller(
        &mut self,
        subscriptions: CallerSubscriptions,
        caller: String,
        max: usize,
    ) {
        self.quota = Some(CallerQuota {
            subscriptions,
            caller,
            max,
        });
    }

    /// Ends operation `id`, giving back its place.
    fn end(&mut self, id: &str) {
        if self.live.remove(id)
            && let Some(quota) = &self.quota
        {
            quota.subscriptions.give_back(&quota.caller, 1);
        }
    }

    /// Whether any operation is live: subscribed, not yet completed.
    pub fn has_live_operations(&self) -> bool {
        !self.live.is_empty()
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
                self.end(&id);
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
        if let Some(quota) = &self.quota
            && !quota.subscriptions.take(&quota.caller, quota.max)
        {
            let error = Error::LimitExceeded {
                limit: "subscriptions per caller",
                max: quota.max as u64,
                actual: quota.max as u64 + 1,
            };
            return Verdict::Answer(self.error_message(&id, error));
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

    /// Notes a server message on its way out and gives the text to send in
    /// its place, if any. Errors get their codes as over HTTP; with
    /// `graphql-transport-ws`, an operation refused before it ran (its answer
    /// has no data and only errors without a path: it did not parse, pass
    /// validation or admission) gets the protocol's `error` message carrying
    /// them, and no `next` or `complete`.
    pub fn outgoing(&mut self, message: String) -> Option<String> {
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
            if let Ok(ended) = serde_json::from_str::<Ended>(&message) {
                self.end(&ended.id);
                if self.refused.remove(&ended.id) {
                    return None;
                }
            }
        } else if (message.starts_with(r#"{"type":"next""#)
            || message.starts_with(r#"{"type":"data""#))
            && message.contains(r#""errors":"#)
        {
            return Some(self.labelled(&message).unwrap_or(message));
        }
        Some(message)
    }

    /// A `next` (or `data`) message with its errors labelled, or the `error`
    /// message that replaces it; `None` when it does not read as one.
    fn labelled(&mut self, message: &str) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct Next<'a> {
            r#type: &'a str,
            id: String,
            #[serde(borrow)]
            payload: Payload<'a>,
        }
        #[derive(serde::Deserialize, serde::Serialize)]
        struct Payload<'a> {
            #[serde(borrow, default)]
            data: Option<&'a RawValue>,
            #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
            extensions: Option<&'a RawValue>,
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            errors: Vec<ServerError>,
        }
        #[derive(serde::Serialize)]
        struct Written<'a, P> {
            r#type: &'a str,
            id: &'a str,
            payload: &'a P,
        }
        let mut next: Next<'_> = serde_json::from_str(message).ok()?;
        for error in &mut next.payload.errors {
            label_error(error, None);
        }
        let refused = next.payload.data.is_none()
            && !next.payload.errors.is_empty()
            && next
                .payload
                .errors
                .iter()
                .all(|error| error.path.is_empty());
        if refused && self.protocol == WebSocketProtocols::GraphQLWS {
            self.end(&next.id);
            self.refused.insert(next.id.clone());
            return serde_json::to_string(&Written {
                r#type: "error",
                id: &next.id,
                payload: &next.payload.errors,
            })
            .ok();
        }
        serde_json::to_string(&Written {
            r#type: next.r#type,
            id: &next.id,
            payload: &next.payload,
        })
        .ok()
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
        guard.outgoing(ACK.into());
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
        guard.outgoing(r#"{"type":"complete","id":"a"}"#.into());
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
        guard.outgoing(r#"{"type":"complete","id":"a"}"#.into());
        assert_eq!(guard.incoming(&subscribe("c")), Verdict::Forward);
    }

    #[test]
    fn a_callers_operations_are_counted_across_connections() {
        let subscriptions = CallerSubscriptions::default();
        let mut first = acknowledged(10);
        let mut second = acknowledged(10);
        for guard in [&mut first, &mut second] {
            assert!(guard.awaits_caller());
            guard.attach_caller(subscriptions.clone(), "user:1".into(), 3);
            assert!(!guard.awaits_caller());
        }
        assert_eq!(first.incoming(&subscribe("a")), Verdict::Forward);
        assert_eq!(first.incoming(&subscribe("b")), Verdict::Forward);
        assert_eq!(second.incoming(&subscribe("a")), Verdict::Forward);
        let Verdict::Answer(text) = second.incoming(&subscribe("b")) else {
            panic!("expected an error answer");
        };
        assert!(text.contains("subscriptions per caller"), "{text}");
        assert_eq!(subscriptions.live("user:1"), 3);
        // Ending one, or closing a connection, gives the places back.
        first.outgoing(r#"{"type":"complete","id":"a"}"#.into());
        assert_eq!(second.incoming(&subscribe("b")), Verdict::Forward);
        drop(second);
        assert_eq!(subscriptions.live("user:1"), 1);
        drop(first);
        assert_eq!(subscriptions.live("user:1"), 0);
    }

    #[test]
    fn the_legacy_protocol_uses_start_and_stop() {
        let mut guard = ProtocolGuard::new(
            WebSocketProtocols::SubscriptionsTransportWS,
            1,
            Arc::default(),
        );
        guard.incoming(INIT);
        guard.outgoing(ACK.into());
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

    #[test]
    fn a_refused_operation_gets_an_error_message_and_no_complete() {
        let mut guard = acknowledged(10);
        assert_eq!(guard.incoming(&subscribe("a")), Verdict::Forward);
        let next = r#"{"type":"next","id":"a","payload":{"data":null,"errors":[{"message":"Unknown field","locations":[{"line":1,"column":3}]}]}}"#;
        let sent = guard.outgoing(next.into()).expect("a message");
        assert_eq!(
            sent,
            r#"{"type":"error","id":"a","payload":[{"message":"Unknown field","locations":[{"line":1,"column":3}],"extensions":{"code":"BAD_USER_INPUT"}}]}"#
        );
        assert_eq!(
            guard.outgoing(r#"{"type":"complete","id":"a"}"#.into()),
            None
        );
        // The id is free again, and its next operation completes as usual.
        assert_eq!(guard.incoming(&subscribe("a")), Verdict::Forward);
        let complete = r#"{"type":"complete","id":"a"}"#;
        assert_eq!(guard.outgoing(complete.into()).as_deref(), Some(complete));
    }

    #[test]
    fn errors_at_a_path_are_labelled_and_the_data_kept_as_written() {
        let mut guard = acknowledged(10);
        assert_eq!(guard.incoming(&subscribe("a")), Verdict::Forward);
        let next = r#"{"type":"next","id":"a","payload":{"data":{"z":1,"a":null},"errors":[{"message":"no","path":["a"]}]}}"#;
        assert_eq!(
            guard.outgoing(next.into()).as_deref(),
            Some(
                r#"{"type":"next","id":"a","payload":{"data":{"z":1,"a":null},"errors":[{"message":"no","path":["a"],"extensions":{"code":"BAD_USER_INPUT"}}]}}"#
            )
        );
    }
}
