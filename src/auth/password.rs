//! Password hashing with argon2id (OWASP parameters: m=19456 KiB, t=2, p=1),
//! stored as PHC strings. All hashing runs on the blocking pool.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use crate::error::{Error, Result};
use crate::telemetry::spawn_blocking_in_span;

/// Hashes and verifies passwords.
///
/// Holds the hash of a random password so that signing in as an unknown user
/// runs one full verification too, and costs the same as a wrong password.
#[derive(Clone, Debug)]
pub struct Passwords {
    decoy_hash: String,
}

impl Passwords {
    /// Prepares the decoy hash; runs one argon2 hash on the blocking pool.
    pub async fn new() -> Result<Self> {
        let decoy = uuid::Uuid::new_v4().to_string();
        Ok(Self {
            decoy_hash: Self::hash(decoy).await?,
        })
    }

    /// Hashes a password into a PHC string with a fresh random salt.
    pub async fn hash(password: String) -> Result<String> {
        spawn_blocking_in_span(move || hash_now(&password))
            .await
            .map_err(|e| Error::Internal(format!("password hashing task failed: {e}")))?
    }

    /// Whether `password` matches `stored`. With `stored = None` (no such user) it
    /// verifies against the decoy and answers `false`, taking the same time.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool> {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.decoy_hash.clone());
        let matches = spawn_blocking_in_span(move || verify_now(&password, &hash))
            .await
            .map_err(|e| Error::Internal(format!("password verification task failed: {e}")))??;
        Ok(known && matches)
    }
}

fn hash_now(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| Error::Internal(format!("argon2 hashing failed: {e}")))
}

fn verify_now(password: &str, stored: &str) -> Result<bool> {
    let parsed = PasswordHash::new(stored)
        .map_err(|e| Error::Internal(format!("stored password hash is not a PHC string: {e}")))?;
    Ok(Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let hash = hash_now("correct horse").expect("hash");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_now("correct horse", &hash).expect("verify"));
        assert!(!verify_now("wrong horse", &hash).expect("verify"));
    }

    #[test]
    fn the_same_password_gets_different_salts() {
        assert_ne!(hash_now("pw").expect("hash"), hash_now("pw").expect("hash"));
    }

    #[tokio::test]
    async fn unknown_users_never_verify() {
        let passwords = Passwords::new().await.expect("decoy");
        assert!(
            !passwords
                .verify("anything".into(), None)
                .await
                .expect("verify")
        );
    }
}
