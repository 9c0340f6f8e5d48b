//! Password hashing with argon2id (OWASP parameters: m=19456 KiB, t=2, p=1),
//! stored as PHC strings. All hashing runs on the blocking pool, at most one
//! hash per core at a time: each takes 19 MiB and a core for tens of
//! milliseconds, so a burst of sign-ins waits its turn instead of taking the
//! process's memory and the machine's cores.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use tokio::sync::Semaphore;

use crate::error::{Error, Result};
use crate::telemetry::spawn_blocking_in_span;

/// Hashes and verifies passwords.
///
/// Holds the hash of a random password so that signing in as an unknown user
/// runs one full verification too, and costs the same as a wrong password.
#[derive(Clone, Debug)]
pub struct Passwords {
    decoy_hash: String,
    /// One permit per core: the hashes that may run at once.
    slots: Arc<Semaphore>,
    /// Hashes and verifications run so far: the work that keeps sign-up and
    /// sign-in answers equally slow whatever the outcome.
    runs: Arc<AtomicU64>,
}

impl Passwords {
    /// Prepares the decoy hash; runs one argon2 hash on the blocking pool.
    pub async fn new() -> Result<Self> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut passwords = Self {
            decoy_hash: String::new(),
            slots: Arc::new(Semaphore::new(cores)),
            runs: Arc::default(),
        };
        passwords.decoy_hash = passwords.hash(uuid::Uuid::new_v4().to_string()).await?;
        Ok(passwords)
    }

    /// How many hashes and verifications have run.
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }

    /// Hashes a password into a PHC string with a fresh random salt.
    pub async fn hash(&self, password: String) -> Result<String> {
        let _slot = self.slot().await?;
        self.runs.fetch_add(1, Ordering::Relaxed);
        spawn_blocking_in_span(move || hash_now(&password))
            .await
            .map_err(|e| Error::Internal(format!("password hashing task failed: {e}")))?
    }

    /// Waits for a free hashing slot; held until the hash is done.
    async fn slot(&self) -> Result<tokio::sync::SemaphorePermit<'_>> {
        self.slots
            .acquire()
            .await
            .map_err(|e| Error::Internal(format!("password hashing slots closed: {e}")))
    }

    /// Whether `password` matches `stored`. With `stored = None` (no such user) it
    /// verifies against the decoy and answers `false`, taking the same time.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool> {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.decoy_hash.clone());
        let _slot = self.slot().await?;
        self.runs.fetch_add(1, Ordering::Relaxed);
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
    async fn a_hash_waits_for_a_free_slot() {
        let passwords = Passwords {
            decoy_hash: String::new(),
            slots: Arc::new(Semaphore::new(1)),
            runs: Arc::default(),
        };
        let held = passwords.slots.clone().acquire_owned().await.expect("slot");
        let waiting = tokio::spawn({
            let passwords = passwords.clone();
            async move { passwords.hash("pw".into()).await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert!(
            !waiting.is_finished(),
            "no hash runs while every slot is taken"
        );
        drop(held);
        let hash = waiting.await.expect("task").expect("hash");
        assert!(verify_now("pw", &hash).expect("verify"));
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
