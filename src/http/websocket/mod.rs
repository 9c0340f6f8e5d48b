//! GraphQL subscriptions over WebSocket (`graphql-transport-ws` and the legacy
//! `graphql-ws`), with the token watched for the life of the connection.
//!
//! The token comes in `connection_init` (or the upgrade request's
//! `Authorization` header). A bad token closes the socket with 4403; so does a
//! token that expires, is revoked, or whose account is banned while the socket
//! is open, within a second.
//!
//! Each operation on a connection is charged against the caller's rate limit,
//! as over HTTP.
//!
//! The protocol's own rules (close codes for protocol mistakes, the caps on
//! live operations per connection and per caller) live in [`protocol`]; the
//! cap on connections per client address in [`Registry`].

pub mod protocol;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::Data;
use async_graphql::http::{
    ALL_WEBSOCKET_PROTOCOLS, WebSocket as GraphQLStream, WebSocketProtocols, WsMessage,
};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::extract::{FromRequestParts, Request, WebSocketUpgrade};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use futures_util::{SinkExt, StreamExt};

use super::HttpState;
use super::authentication::authenticate;
use crate::auth::Session;
use crate::graphql::admission::GuardedSchema;
use crate::graphql::rate_limit::RateLimitTicket;
use crate::state::AppState;
use protocol::{CLOSE_INIT_TIMEOUT, CallerSubscriptions, ProtocolGuard, Verdict};

/// Close code for a token that is refused, expired or revoked.
pub const CLOSE_FORBIDDEN: u16 = 4403;

/// How often an idle connection is pinged, so a vanished peer is noticed.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);

/// How often an open connection re-checks its token.
const TOKEN_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// How long a connection whose session ended may still send the answers of
/// operations under way before it is closed.
const CLOSE_GRACE: Duration = Duration::from_millis(500);

/// The token a `connection_init` payload carries: `Authorization` (any case),
/// `authToken` or `token`; a bare token gets the `Bearer` scheme.
pub fn init_authorization(payload: &serde_json::Value) -> Option<String> {
    let object = payload.as_object()?;
    let value = object
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v)
        .or_else(|| object.get("authToken"))
        .or_else(|| object.get("token"))?
        .as_str()?;
    if value.contains(' ') {
        Some(value.to_owned())
    } else {
        Some(format!("Bearer {value}"))
    }
}

/// The open connections, counted per client address, and their live
/// operations, counted per caller.
#[derive(Clone, Default)]
pub struct Registry {
    per_client: Arc<Mutex<HashMap<IpAddr, usize>>>,
    /// Live operations per caller, across the caller's connections.
    pub subscriptions: CallerSubscriptions,
}

impl Registry {
    /// A slot for one more connection from `client`, or `None` when it already
    /// has `max` open. The slot is given back when dropped.
    pub fn enter(&self, client: IpAddr, max: usize) -> Option<ConnectionSlot> {
        let mut counts = self
            .per_client
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let open = counts.entry(client).or_default();
        if *open >= max {
            return None;
        }
        *open += 1;
        Some(ConnectionSlot {
            registry: self.clone(),
            client,
        })
    }
}

/// One open connection's place in the [`Registry`].
pub struct ConnectionSlot {
    registry: Registry,
    client: IpAddr,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut counts = self
            .registry
            .per_client
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(open) = counts.get_mut(&self.client) {
            *open -= 1;
            if *open == 0 {
                counts.remove(&self.client);
            }
        }
    }
}

/// Upgrades a `GET /graphql` that asks for a WebSocket with one of the GraphQL
/// subprotocols, and serves it. A client over its connection cap gets 429.
pub async fn upgrade(state: HttpState, request: Request, client: IpAddr) -> Response {
    let (mut parts, _) = request.into_parts();
    let protocol = parts
        .headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|list| {
            list.split(',')
                .find_map(|p| p.trim().parse::<WebSocketProtocols>().ok())
        });
    let Some(protocol) = protocol else {
        let message = "use the graphql-transport-ws or graphql-ws subprotocol";
        return (StatusCode::BAD_REQUEST, message).into_response();
    };
    let header = |name| parts.headers.get(name).and_then(|v| v.to_str().ok());
    if !state
        .app
        .config
        .protection
        .allows_websocket_origin(header(header::ORIGIN), header(header::HOST))
    {
        let message = "this origin may not open a WebSocket here (CORS_ALLOWED_ORIGINS)";
        return (StatusCode::FORBIDDEN, message).into_response();
    }
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    let protection = &state.app.config.protection;
    let Some(slot) = state
        .websockets
        .enter(client, protection.ws_max_connections_per_client)
    else {
        let message = format!(
            "at most {} WebSocket connections per client",
            protection.ws_max_connections_per_client
        );
        return (StatusCode::TOO_MANY_REQUESTS, message).into_response();
    };
    let header_token = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let max_message = protection.max_body_bytes;
    upgrade
        .max_message_size(max_message)
        .max_frame_size(max_message)
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| async move {
            serve(
                socket,
                state.app.clone(),
                state.schema.clone(),
                protocol,
                header_token,
                client,
                state.websockets.subscriptions.clone(),
            )
            .await;
            drop(slot);
        })
}

/// What the connection learned at `connection_init`.
#[derive(Default)]
struct Connection {
    session: Option<Session>,
    refused: bool,
}

/// Whether a session may go on: not expired, not revoked, account not banned.
fn still_valid(app: &AppState, session: &Session) -> Result<(), String> {
    if session.expires_at <= Utc::now() {
        return Err("the token has expired".into());
    }
    app.access
        .admit(session.clone())
        .map(|_| ())
        .map_err(|err| err.to_string())
}

/// Who a connection's operations are counted against: its user when it
/// signed in, else its client address.
fn caller_key(session: Option<&Session>, client: IpAddr) -> String {
    match session {
        Some(session) => format!("user:{}", session.user_id),
        None => format!("ip:{client}"),
    }
}

/// Client messages waiting for the executor; the socket is not read while
/// this many are queued.
const INCOMING_QUEUE: usize = 16;

/// Serves one upgraded connection until either side closes it.
///
/// Every client message passes the [`ProtocolGuard`] before the executor sees
/// it; the loop also closes a connection that sends no `connection_init` in
/// time, and one whose token stops being valid.
pub async fn serve(
    socket: WebSocket,
    app: AppState,
    schema: GuardedSchema,
    protocol: WebSocketProtocols,
    header_token: Option<String>,
    client: IpAddr,
    subscriptions: CallerSubscriptions,
) {
    let protection = &app.config.protection;
    let mut guard = ProtocolGuard::new(
        protocol,
        protection.ws_max_subscriptions,
        app.trusted_documents.clone(),
    );
    let connection = Arc::new(Mutex::new(Connection::default()));
    let (mut sink, mut source) = socket.split();
    let (to_executor, for_executor) = tokio::sync::mpsc::channel::<Vec<u8>>(INCOMING_QUEUE);
    let init_app = app.clone();
    let init_connection = connection.clone();
    let mut outgoing = GraphQLStream::new(
        schema,
        tokio_stream::wrappers::ReceiverStream::new(for_executor),
        protocol,
    )
    .on_connection_init(move |payload| async move {
        let authorization = init_authorization(&payload).or(header_token);
        let verified = authenticate(&init_app, authorization.as_deref(), client).await;
        let mut state = init_connection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match verified {
            Ok(viewer) => {
                state.session = viewer.session().cloned();
                let mut data = Data::default();
                let enabled = init_app.config.protection.rate_limit_enabled;
                if let Some(ticket) = RateLimitTicket::for_caller(enabled, &viewer, client) {
                    data.insert(ticket);
                }
                data.insert(viewer);
                Ok(data)
            }
            Err(err) => {
                state.refused = true;
                Err(err.into())
            }
        }
    });
    let init_deadline = tokio::time::sleep(protection.ws_init_timeout());
    tokio::pin!(init_deadline);
    let mut ticker = tokio::time::interval(TOKEN_CHECK_INTERVAL);
    let mut keepalive = tokio::time::interval_at(
        tokio::time::Instant::now() + KEEPALIVE_INTERVAL,
        KEEPALIVE_INTERVAL,
    );
    let close = loop {
        tokio::select! {
            message = source.next(), if to_executor.capacity() > 0 => {
                let bytes = match message {
                    Some(Ok(Message::Text(text))) => text.as_str().as_bytes().to_vec(),
                    Some(Ok(Message::Binary(bytes))) => bytes.to_vec(),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_)) | Err(_)) | None => break None,
                };
                match guard.incoming(&bytes) {
                    Verdict::Forward => {
                        if to_executor.try_send(bytes).is_err() {
                            break None;
                        }
                    }
                    Verdict::Answer(text) => {
                        if sink.send(Message::text(text)).await.is_err() {
                            break None;
                        }
                    }
                    Verdict::Close(code, reason) => break Some((code, reason)),
                }
            }
            message = outgoing.next() => match message {
                Some(WsMessage::Text(text)) => {
                    let Some(text) = guard.outgoing(text) else {
                        continue;
                    };
                    if guard.awaits_caller() {
                        let session = connection.lock().unwrap_or_else(std::sync::PoisonError::into_inner).session.clone();
                        guard.attach_caller(
                            subscriptions.clone(),
                            caller_key(session.as_ref(), client),
                            protection.ws_max_subscriptions_per_caller,
                        );
                    }
                    if sink.send(Message::text(text)).await.is_err() {
                        break None;
                    }
                }
                Some(WsMessage::Close(code, reason)) => {
                    let refused = connection.lock().unwrap_or_else(std::sync::PoisonError::into_inner).refused;
                    break Some((if refused { CLOSE_FORBIDDEN } else { code }, reason));
                }
                None => break None,
            },
            () = &mut init_deadline, if !guard.initialised() => {
                break Some((CLOSE_INIT_TIMEOUT, "Connection initialisation timeout".into()));
            }
            _ = keepalive.tick() => {
                // A WebSocket ping: browsers answer it by themselves, and a
                // peer that went away without closing fails the write.
                if sink.send(Message::Ping(Default::default())).await.is_err() {
                    break None;
                }
            }
            _ = ticker.tick() => {
                let session = connection.lock().unwrap_or_else(std::sync::PoisonError::into_inner).session.clone();
                if let Some(session) = session
                    && let Err(reason) = still_valid(&app, &session)
                {
                    tracing::info!(user_id = session.user_id, %reason, "closing a subscription connection");
                    // Answers on their way go out first: the operation that
                    // ended the session (a logout over this connection) is
                    // answered before the close.
                    let grace = tokio::time::Instant::now() + CLOSE_GRACE;
                    while guard.has_live_operations() {
                        let Ok(Some(WsMessage::Text(text))) =
                            tokio::time::timeout_at(grace, outgoing.next()).await
                        else {
                            break;
                        };
                        if let Some(text) = guard.outgoing(text)
                            && sink.send(Message::text(text)).await.is_err()
                        {
                            break;
                        }
                    }
                    break Some((CLOSE_FORBIDDEN, reason));
                }
            }
        }
    };
    if let Some((code, reason)) = close {
        tracing::debug!(code, %reason, "closing a WebSocket connection");
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = sink.send(Message::Close(Some(frame))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_payloads_name_tokens_in_several_ways() {
        let bearer = Some("Bearer abc".to_owned());
        assert_eq!(
            init_authorization(&serde_json::json!({"Authorization": "Bearer abc"})),
            bearer
        );
        assert_eq!(
            init_authorization(&serde_json::json!({"authorization": "Bearer abc"})),
            bearer
        );
        assert_eq!(
            init_authorization(&serde_json::json!({"authToken": "abc"})),
            bearer
        );
        assert_eq!(init_authorization(&serde_json::json!({})), None);
        assert_eq!(init_authorization(&serde_json::Value::Null), None);
    }
}
