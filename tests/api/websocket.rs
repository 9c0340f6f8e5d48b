//! The WebSocket protocol: close codes for protocol mistakes, and the caps on
//! subscriptions and connections.
