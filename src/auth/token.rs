//! Biscuit capability tokens: minting at sign-in, verifying once per request.
//!
//! The authority block of a token minted here reads:
//!
//! ```text
//! user(42);
//! expires_at(2026-12-08T10:00:00Z);
//! check if time($now), $now < 2026-12-08T10:00:00Z;
//! ```
//!
//! Anyone holding a token may append blocks that narrow it further; see
//! [`crate::auth::capability`] for the facts the server supplies to the checks.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use biscuit_auth::{
    Algorithm, AuthorizerBuilder, AuthorizerLimits, Biscuit, BiscuitBuilder, KeyPair, PrivateKey,
};
use chrono::{DateTime, SecondsFormat, Utc};

use crate::config::{Config, ConfigError};
use crate::error::{Error, Result};

/// The key that signs tokens, and the rules for the tokens it mints.
#[derive(Clone)]
pub struct TokenKeys {
    root: Arc<KeyPair>,
    ttl: Duration,
    limits: AuthorizerLimits,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("public_key", &self.root.public().to_bytes_hex())
            .field("ttl", &self.ttl)
            .finish()
    }
}

/// A verified token: who holds it and until when. Cheap to clone.
#[derive(Clone)]
pub struct Session {
    /// The signed-in user.
    pub user_id: i64,
    /// When the token stops being accepted.
    pub expires_at: DateTime<Utc>,
    pub(crate) token: Arc<Biscuit>,
    pub(crate) limits: AuthorizerLimits,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("user_id", &self.user_id)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl TokenKeys {
    /// Builds the keys from a hex-encoded Ed25519 private key.
    pub fn from_private_key_hex(
        hex: &str,
        ttl: Duration,
        limits: AuthorizerLimits,
    ) -> Result<Self, ConfigError> {
        let private = PrivateKey::from_bytes_hex(hex.trim(), Algorithm::Ed25519).map_err(|_| {
            ConfigError::Invalid(
                "TOKEN_PRIVATE_KEY is not a hex-encoded Ed25519 private key".into(),
            )
        })?;
        Ok(Self {
            root: Arc::new(KeyPair::from(&private)),
            ttl,
            limits,
        })
    }

    /// Fresh random keys; tokens die with them. For tests and throwaway servers.
    pub fn generate(ttl: Duration, limits: AuthorizerLimits) -> Self {
        Self {
            root: Arc::new(KeyPair::new()),
            ttl,
            limits,
        }
    }

    /// The configured key, or the one kept in `token.key` under the data directory,
    /// generated there on first start.
    pub fn from_config(config: &Config) -> Result<Self, ConfigError> {
        let limits = authorizer_limits(config);
        if let Some(hex) = &config.token_private_key {
            return Self::from_private_key_hex(hex, config.token_ttl(), limits);
        }
        let path = config.data_dir.join("token.key");
        let hex = read_or_create_key_file(&path)?;
        Self::from_private_key_hex(&hex, config.token_ttl(), limits).map_err(|_| {
            ConfigError::Invalid(format!("{} does not hold a valid key", path.display()))
        })
    }

    /// The private key, hex-encoded, for `TOKEN_PRIVATE_KEY`.
    pub fn private_key_hex(&self) -> String {
        self.root.private().to_bytes_hex()
    }

    /// Mints a token for `user_id` that expires after the configured lifetime.
    pub fn mint(&self, user_id: i64) -> Result<String> {
        let expires_at = Utc::now() + self.ttl;
        let expiry = expires_at.to_rfc3339_opts(SecondsFormat::Secs, true);
        let code = format!(
            "user({user_id});\nexpires_at({expiry});\ncheck if time($now), $now < {expiry};"
        );
        BiscuitBuilder::new()
            .code(code)
            .and_then(|builder| builder.build(&self.root))
            .and_then(|token| token.to_base64())
            .map_err(|e| Error::Internal(format!("minting a token failed: {e}")))
    }

    /// Verifies the signature and expiry of a token and reads its holder.
    /// Every failure is [`Error::Unauthenticated`]: a bad token is never anonymous.
    pub fn verify(&self, token: &str) -> Result<Session> {
        let biscuit = Biscuit::from_base64(token.trim(), self.root.public()).map_err(|_| {
            Error::Unauthenticated("the token is invalid or has been tampered with".into())
        })?;
        let unreadable =
            || Error::Unauthenticated("the token does not name a user and an expiry".into());
        let mut authorizer = AuthorizerBuilder::new()
            .set_limits(self.limits.clone())
            .build(&biscuit)
            .map_err(|_| unreadable())?;
        let users: Vec<(i64,)> = authorizer
            .query("data($id) <- user($id)")
            .map_err(|_| unreadable())?;
        let expiries: Vec<(SystemTime,)> = authorizer
            .query("data($at) <- expires_at($at)")
            .map_err(|_| unreadable())?;
        let ([(user_id,)], [(expires_at,)]) = (users.as_slice(), expiries.as_slice()) else {
            return Err(unreadable());
        };
        let expires_at = DateTime::<Utc>::from(*expires_at);
        if expires_at <= Utc::now() {
            return Err(Error::Unauthenticated("the token has expired".into()));
        }
        Ok(Session {
            user_id: *user_id,
            expires_at,
            token: Arc::new(biscuit),
            limits: self.limits.clone(),
        })
    }
}

/// The limits every authorization decision runs under: biscuit's default fact
/// and iteration caps, and the configured time budget.
pub fn authorizer_limits(config: &Config) -> AuthorizerLimits {
    AuthorizerLimits {
        max_time: Duration::from_millis(config.authorizer_max_time_ms),
        ..AuthorizerLimits::default()
    }
}

fn read_or_create_key_file(path: &Path) -> Result<String, ConfigError> {
    let file_error = |source| ConfigError::File {
        path: path.to_owned(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(hex) => Ok(hex),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(file_error)?;
            }
            let hex = KeyPair::new().private().to_bytes_hex();
            write_private(path, &hex).map_err(file_error)?;
            Ok(hex)
        }
        Err(err) => Err(file_error(err)),
    }
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(ttl: Duration) -> TokenKeys {
        TokenKeys::generate(ttl, AuthorizerLimits::default())
    }

    #[test]
    fn a_minted_token_verifies_to_its_user() {
        let keys = keys(Duration::from_secs(60));
        let token = keys.mint(7).expect("mint");
        let session = keys.verify(&token).expect("verify");
        assert_eq!(session.user_id, 7);
        assert!(session.expires_at > Utc::now());
    }

    #[test]
    fn tokens_from_another_key_or_altered_are_refused() {
        let signer = keys(Duration::from_secs(60));
        let token = signer.mint(7).expect("mint");
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
        let keys = keys(Duration::ZERO);
        let token = keys.mint(7).expect("mint");
        std::thread::sleep(Duration::from_millis(1100));
        let err = keys.verify(&token).expect_err("expired");
        assert!(err.to_string().contains("expired"), "{err}");
    }

    #[test]
    fn a_key_round_trips_through_hex() {
        let keys = keys(Duration::from_secs(60));
        let again = TokenKeys::from_private_key_hex(
            &keys.private_key_hex(),
            Duration::from_secs(60),
            AuthorizerLimits::default(),
        )
        .expect("hex");
        let token = keys.mint(3).expect("mint");
        assert_eq!(again.verify(&token).expect("verify").user_id, 3);
        assert!(
            TokenKeys::from_private_key_hex("zz", Duration::ZERO, AuthorizerLimits::default())
                .is_err()
        );
    }
}
