//! GraphQL over HTTP: content negotiation, methods, CSRF prevention, CORS,
//! body and header limits, batching, timeouts and production mode.
