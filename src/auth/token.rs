//! Biscuit capability tokens: minting at sign-in, verifying once per request.
//!
//! The authority block of a token minted here reads:
//!
//! ```text
//! user(42);
//! role("user");
//! session(3);
//! issued_at(2026-11-24T10:00:00Z);
//! expires_at(2026-12-08T10:00:00Z);
//! check if time($now), $now < 2026-12-08T10:00:00Z;
//! ```
//!
//! `session` is the user's session epoch: ending every session of a user bumps
//! it, and tokens with an older epoch are refused. The token's root key id names
//! the key that signed it (see [`crate::auth::keys`]). Anyone holding a token may
//! append blocks that narrow it further; see [`crate::auth::capability`] for the
//! facts the server supplies to their checks.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use biscuit_auth::{AuthorizerBuilder, AuthorizerLimits, Biscuit, BiscuitBuilder};
use chrono::{DateTime, SecondsFormat, Utc};

use super::appended_blocks::AppendedBlockLimits;
use super::keys::{Keyring, KeyringFile};
use super::role::Role;
use crate::config::{Config, ConfigError};
use crate::error::{Error, Result};

/// The key ring that signs and verifies tokens, and the rules for the tokens it mints.
#[derive(Clone)]
pub struct TokenKeys {
    keyring: Keyring,
    ttl: Duration,
    limits: AuthorizerLimits,
    /// Tokens whose signature and claims were checked recently. A token never
    /// changes, so the check need not run again; expiry, revocation and the
    /// account's state are still checked on every request.
    verified: moka::sync::Cache<String, Session>,
    /// Tokens refused recently, with why: refused again without the work.
    /// Apart from the verified ones, so that a caller sending many bad
    /// tokens pushes out only its own.
    refused: moka::sync::Cache<String, Error>,
    /// Answer every token with this session, unverified (`bench-stubs` builds only).
    #[cfg(feature = "bench-stubs")]
    stub: Option<Session>,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("current_key", &self.keyring.signer().0)
            .field("ttl", &self.ttl)
            .finish()
    }
}

/// Who a new token is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Claims {
    /// The user.
    pub user_id: i64,
    /// The user's role when the token is minted.
    pub role: Role,
    /// The user's session epoch when the token is minted.
    pub session_epoch: i64,
}

/// A verified token: who holds it, what it claims and until when. Cheap to clone.
#[derive(Clone)]
pub struct Session {
    /// The signed-in user.
    pub user_id: i64,
    /// The role the token claims.
    pub claimed_role: Role,
    /// The role the server grants, after checking the account (see `AccessList`).
    pub granted_role: Role,
    /// The session epoch the token was minted in.
    pub session_epoch: i64,
    /// When the token was minted.
    pub issued_at: DateTime<Utc>,
    /// When the token stops being accepted: the expiry it was minted with,
    /// or an earlier one a block appended to it sets.
    pub expires_at: DateTime<Utc>,
    /// Hex revocation ids of every block, authority first.
    pub revocation_ids: Vec<String>,
    pub(crate) token: Arc<Biscuit>,
    pub(crate) limits: AuthorizerLimits,
    /// Skip the authorizer: only the `bench-stubs` feature can set this, to
    /// measure what authorization costs.
    pub(crate) unchecked: bool,
}

impl Session {
    /// The same session with every authorization check skipped. Exists only in
    /// builds with the `bench-stubs` feature, for the authorization benchmark.
    #[cfg(feature = "bench-stubs")]
    pub fn into_unchecked(mut self) -> Self {
        self.unchecked = true;
        self
    }

    /// The revocation id of the token's last block: revoking it ends this token
    /// and every token derived from it, but not the token it was derived from.
    pub fn own_revocation_id(&self) -> &str {
        self.revocation_ids.last().map_or("", String::as_str)
    }

    /// Whether the holder narrowed the token with blocks of their own.
    pub fn is_attenuated(&self) -> bool {
        self.token.block_count() > 1
    }

    /// The token as sent by the client.
    pub fn to_base64(&self) -> Result<String> {
        self.token
            .to_base64()
            .map_err(|e| Error::Internal(format!("encoding a token failed: {e}")))
    }

    /// The token with one more block appended; the block may only narrow it.
    pub fn append(&self, block: biscuit_auth::builder::BlockBuilder) -> Result<String> {
        self.token
            .append(block)
            .and_then(|token| token.to_base64())
            .map_err(|e| Error::Internal(format!("attenuating a token failed: {e}")))
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("user_id", &self.user_id)
            .field("granted_role", &self.granted_role)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// The longest token accepted, in characters of its text. A sign-in token is
/// about 400; each appended block adds about 250 and its contents.
pub const MAX_TOKEN_CHARS: usize = 4096;

/// Characters of token text that cost one rate-limit point to verify: the
/// work grows with the blocks a token carries, and so does its text. A
/// sign-in token (about 400 characters) costs 1 point, the longest accepted 8.
pub const CHARACTERS_PER_POINT: usize = 512;

/// Points the first verification of `token` costs whoever sent it.
pub fn verification_cost(token: &str) -> u64 {
    token.trim().len().div_ceil(CHARACTERS_PER_POINT).max(1) as u64
}

/// Most memory the verified tokens take, in bytes. A parsed token with its
/// entry takes about 12 bytes per character of its text
/// ([`verified_token_weight`]); a token not remembered costs one signature
/// check.
const VERIFIED_TOKENS_MEMORY: u64 = 8 * 1024 * 1024;

/// Memory one verified token takes, in bytes, estimated from its text.
fn verified_token_weight(token: &str) -> u32 {
    u32::try_from(token.len().saturating_mul(12)).unwrap_or(u32::MAX)
}

/// Most memory the refused tokens take, in bytes.
const REFUSED_TOKENS_MEMORY: u64 = 1024 * 1024;

/// Tokens checked lately, by their text, weighed by the memory they take.
fn verified_tokens<V: Clone + Send + Sync + 'static>(memory: u64) -> moka::sync::Cache<String, V> {
    moka::sync::Cache::builder()
        .weigher(|token: &String, _: &V| verified_token_weight(token))
        .max_capacity(memory)
        .time_to_idle(Duration::from_secs(300))
        .build()
}

/// The limits every verification and authorization runs under: at most 100
/// facts (the server's own take twelve, appended blocks at most 64 more) and
/// 10 iterations (the server's own rules need none), and the configured time
/// budget. Biscuit checks them between evaluation steps; the bounds on
/// appended blocks ([`AppendedBlockLimits`]) keep each step small.
pub fn authorizer_limits(config: &Config) -> AuthorizerLimits {
    AuthorizerLimits {
        max_facts: 100,
        max_iterations: 10,
        max_time: Duration::from_millis(config.authorizer_max_time_ms),
    }
}

fn date(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl TokenKeys {
    /// Token keys over a key ring.
    pub fn new(keyring: Keyring, ttl: Duration, limits: AuthorizerLimits) -> Self {
        Self {
            keyring,
            ttl,
            limits,
            verified: verified_tokens(VERIFIED_TOKENS_MEMORY),
            refused: verified_tokens(REFUSED_TOKENS_MEMORY),
            #[cfg(feature = "bench-stubs")]
            stub: None,
        }
    }

    /// Keys that skip verification and answer every token with `session`, whose
    /// checks are skipped too: authorization stubbed out, for the benchmark only.
    #[cfg(feature = "bench-stubs")]
    pub fn stubbed(mut self, session: Session) -> Self {
        self.stub = Some(session.into_unchecked());
        self
    }

    /// Fresh random keys; tokens die with them. For tests and throwaway servers.
    pub fn generate(ttl: Duration, limits: AuthorizerLimits) -> Self {
        Self::new(Keyring::generate(), ttl, limits)
    }

    /// The configured single key, or the key ring file in the data directory,
    /// created with one key on first start.
    pub fn from_config(config: &Config) -> Result<Self, ConfigError> {
        let keyring = match &config.token_private_key {
            Some(hex) => Keyring::single(hex)?,
            None => Keyring::from_file(&KeyringFile::read_or_create(&config.keyring_path())?)?,
        };
        Ok(Self::new(
            keyring,
            config.token_ttl(),
            authorizer_limits(config),
        ))
    }

    /// The key ring.
    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    /// The current private key, hex-encoded.
    pub fn private_key_hex(&self) -> String {
        self.keyring.signer().1.private().to_bytes_hex()
    }

    /// Mints a token for `claims` that expires after the configured lifetime.
    pub fn mint(&self, claims: Claims) -> Result<String> {
        self.mint_until(claims, Utc::now() + self.ttl)
    }

    /// Mints a token for `claims` that expires at `expires_at`.
    pub fn mint_until(&self, claims: Claims, expires_at: DateTime<Utc>) -> Result<String> {
        let (key_id, key) = self.keyring.signer();
        let (issued, expiry) = (date(Utc::now()), date(expires_at));
        let code = format!(
            "user({user});\nrole(\"{role}\");\nsession({epoch});\nissued_at({issued});\nexpires_at({expiry});\ncheck if time($now), $now < {expiry};",
            user = claims.user_id,
            role = claims.role.as_str(),
            epoch = claims.session_epoch,
        );
        BiscuitBuilder::new()
            .code(code)
            .map(|builder| builder.root_key_id(key_id))
            .and_then(|builder| builder.build(key))
            .and_then(|token| token.to_base64())
            .map_err(|e| Error::Internal(format!("minting a token failed: {e}")))
    }

    /// Verifies the signature and expiry of a token and reads its claims. Every
    /// failure is [`Error::Unauthenticated`]: a bad token is never anonymous.
    /// Revocation and the account's state are checked by `AccessList::admit`.
    pub fn verify(&self, token: &str) -> Result<Session> {
        #[cfg(feature = "bench-stubs")]
        if let Some(session) = &self.stub {
            return Ok(session.clone());
        }
        let token = token.trim();
        let verified = match (self.verified.get(token), self.refused.get(token)) {
            (Some(session), _) => Ok(session),
            (None, Some(refusal)) => Err(refusal),
            (None, None) => {
                let verified = self.verify_now(token);
                if token.len() <= MAX_TOKEN_CHARS {
                    match &verified {
                        Ok(session) => self.verified.insert(token.to_owned(), session.clone()),
                        Err(refusal) => self.refused.insert(token.to_owned(), refusal.clone()),
                    }
                }
                verified
            }
        };
        let session = verified?;
        if session.expires_at <= Utc::now() {
            return Err(Error::Unauthenticated("the token has expired".into()));
        }
        Ok(session)
    }

    /// Whether `token`'s verification is remembered, so verifying it again
    /// costs no signature check and no Datalog.
    pub fn remembers(&self, token: &str) -> bool {
        let token = token.trim();
        self.verified.contains_key(token) || self.refused.contains_key(token)
    }

    fn verify_now(&self, token: &str) -> Result<Session> {
        if token.len() > MAX_TOKEN_CHARS {
            return Err(Error::Unauthenticated(format!(
                "the token is longer than {MAX_TOKEN_CHARS} characters"
            )));
        }
        let keyring = &self.keyring;
        let biscuit = Biscuit::from_base64(token.trim(), |id: Option<u32>| keyring.public_key(id))
            .map_err(|_| {
                Error::Unauthenticated(
                    "the token is invalid, tampered with, or signed by an unknown key".into(),
                )
            })?;
        let serialized = biscuit
            .to_vec()
            .map_err(|_| Error::Unauthenticated("the token cannot be read".into()))?;
        let appended = AppendedBlockLimits::SERVING.check(&serialized, &self.limits)?;
        let unreadable =
            || Error::Unauthenticated("the token lacks the claims this server mints".into());
        let mut authorizer = AuthorizerBuilder::new()
            .set_limits(self.limits.clone())
            .build(&biscuit)
            .map_err(|_| unreadable())?;
        let claims: Vec<(i64, String, i64, SystemTime, SystemTime)> = authorizer
            .query(
                "claims($user, $role, $epoch, $issued, $expires) <- user($user), role($role), session($epoch), issued_at($issued), expires_at($expires)",
            )
            .map_err(|_| unreadable())?;
        let [(user_id, role, session_epoch, issued_at, expires_at)] = claims.as_slice() else {
            return Err(unreadable());
        };
        let claimed_role = Role::parse(role).ok_or_else(unreadable)?;
        // A block may have narrowed the token's life: it ends at the earlier.
        let expires_at = appended
            .expires_at
            .map_or(DateTime::<Utc>::from(*expires_at), |narrowed| {
                narrowed.min(DateTime::<Utc>::from(*expires_at))
            });
        if expires_at <= Utc::now() {
            return Err(Error::Unauthenticated("the token has expired".into()));
        }
        Ok(Session {
            user_id: *user_id,
            claimed_role,
            granted_role: claimed_role,
            session_epoch: *session_epoch,
            issued_at: DateTime::<Utc>::from(*issued_at),
            expires_at,
            revocation_ids: biscuit
                .revocation_identifiers()
                .iter()
                .map(hex::encode)
                .collect(),
            token: Arc::new(biscuit),
            limits: self.limits.clone(),
            unchecked: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(ttl: Duration) -> TokenKeys {
        TokenKeys::generate(ttl, AuthorizerLimits::default())
    }

    fn claims(user_id: i64) -> Claims {
        Claims {
            user_id,
            role: Role::User,
            session_epoch: 2,
        }
    }

    #[test]
    fn a_token_costs_a_point_per_512_characters() {
        assert_eq!(verification_cost(""), 1);
        assert_eq!(verification_cost(&"a".repeat(400)), 1);
        assert_eq!(verification_cost(&"a".repeat(513)), 2);
        assert_eq!(verification_cost(&"a".repeat(4096)), 8);
    }

    #[test]
    fn verified_tokens_are_remembered_within_a_memory_budget() {
        let mut keys = keys(Duration::from_secs(60));
        keys.verified = verified_tokens(64 * 1024);
        let tokens: Vec<String> = (0..200)
            .map(|id| keys.mint(claims(id)).expect("mint"))
            .collect();
        for token in &tokens {
            keys.verify(token).expect("verify");
        }
        keys.verified.run_pending_tasks();
        let most = 64 * 1024 / u64::from(verified_token_weight(&tokens[0]));
        assert!(
            keys.verified.entry_count() <= most,
            "{} tokens remembered, at most {most} fit",
            keys.verified.entry_count()
        );
        assert!(keys.verified.weighted_size() <= 64 * 1024);
        let session = keys
            .verify(&tokens[0])
            .expect("a forgotten token verifies again");
        assert_eq!(session.user_id, 0);
    }

    #[test]
    fn refusals_are_remembered_apart_from_verified_tokens() {
        let keys = keys(Duration::from_secs(60));
        let foreign = keys_for_another_server().mint(claims(1)).expect("mint");
        assert!(!keys.remembers(&foreign));
        assert!(keys.verify(&foreign).is_err());
        assert!(keys.remembers(&foreign), "the refusal is remembered");
        assert!(keys.verify(&foreign).is_err(), "and given again");
        keys.verified.run_pending_tasks();
        assert_eq!(keys.verified.entry_count(), 0, "apart from verified tokens");
    }

    fn keys_for_another_server() -> TokenKeys {
        keys(Duration::from_secs(60))
    }

    #[test]
    fn a_minted_token_verifies_to_its_claims() {
        let keys = keys(Duration::from_secs(60));
        let token = keys.mint(claims(7)).expect("mint");
        let session = keys.verify(&token).expect("verify");
        assert_eq!(session.user_id, 7);
        assert_eq!(session.claimed_role, Role::User);
        assert_eq!(session.session_epoch, 2);
        assert!(session.expires_at > Utc::now());
        assert!(!session.is_attenuated());
        assert_eq!(session.revocation_ids.len(), 1);
    }

    #[test]
    fn tokens_from_another_key_or_altered_are_refused() {
        let signer = keys(Duration::from_secs(60));
        let token = signer.mint(claims(7)).expect("mint");
        let stranger = keys(Duration::from_secs(60));
        assert!(matches!(
            stranger.verify(&token),
            Err(Error::Unauthenticated(_))
        ));
        let mut altered = token.into_bytes();
        let middle = altered.len() / 2;
        altered[middle] = if altered[middle] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).expect("ascii");
        assert!(matches!(
            signer.verify(&altered),
            Err(Error::Unauthenticated(_))
        ));
    }

    #[test]
    fn expired_tokens_are_refused() {
        let keys = keys(Duration::from_secs(60));
        let token = keys
            .mint_until(claims(7), Utc::now() - chrono::Duration::seconds(1))
            .expect("mint");
        let err = keys.verify(&token).expect_err("expired");
        assert!(err.to_string().contains("expired"), "{err}");
    }

    #[test]
    fn rotated_keys_keep_verifying_until_retired() {
        let mut file = KeyringFile::new();
        let old = TokenKeys::new(
            Keyring::from_file(&file).expect("ring"),
            Duration::from_secs(60),
            AuthorizerLimits::default(),
        );
        let token = old.mint(claims(3)).expect("mint");
        let retired = file.current;
        file.rotate();
        let rotated = TokenKeys::new(
            Keyring::from_file(&file).expect("ring"),
            Duration::from_secs(60),
            AuthorizerLimits::default(),
        );
        assert_eq!(rotated.verify(&token).expect("still valid").user_id, 3);
        let fresh = rotated.mint(claims(4)).expect("mint");
        assert_eq!(rotated.verify(&fresh).expect("new key").user_id, 4);
        assert!(
            old.verify(&fresh).is_err(),
            "the old ring does not know the new key"
        );
        file.retire(retired).expect("retire");
        let pruned = TokenKeys::new(
            Keyring::from_file(&file).expect("ring"),
            Duration::from_secs(60),
            AuthorizerLimits::default(),
        );
        assert!(pruned.verify(&token).is_err());
    }
}
