//! Signing keys. The current key signs new tokens; every key kept in the ring
//! still verifies, so a rotation does not sign anyone out. Tokens name the key
//! that signed them (biscuit's root key id).
//!
//! The ring lives in a JSON file (by default `token_keys.json` in the data
//! directory), managed with `conduit keys generate|rotate|retire|list`, or is a
//! single key given as `TOKEN_PRIVATE_KEY`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use biscuit_auth::{Algorithm, KeyPair, PrivateKey, PublicKey, error};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::ConfigError;

/// The signing keys, by id.
#[derive(Clone)]
pub struct Keyring {
    current: u32,
    signer: Arc<KeyPair>,
    keys: Arc<BTreeMap<u32, PublicKey>>,
}

/// One key as stored in the ring file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredKey {
    /// The key id tokens carry.
    pub id: u32,
    /// Hex-encoded Ed25519 private key.
    pub private_key: String,
    /// When the key was made.
    pub created_at: DateTime<Utc>,
}

/// The ring file's contents.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyringFile {
    /// Id of the key that signs new tokens.
    pub current: u32,
    /// Every key that still verifies.
    pub keys: Vec<StoredKey>,
}

fn parse_private(hex: &str) -> Result<KeyPair, ConfigError> {
    PrivateKey::from_bytes_hex(hex.trim(), Algorithm::Ed25519)
        .map(|key| KeyPair::from(&key))
        .map_err(|_| {
            ConfigError::Invalid("a token key is not a hex-encoded Ed25519 private key".into())
        })
}

/// A new random private key, hex-encoded.
pub fn generate_private_key_hex() -> String {
    KeyPair::new().private().to_bytes_hex()
}

impl KeyringFile {
    /// A ring with one fresh key, id 1.
    pub fn new() -> Self {
        Self {
            current: 1,
            keys: vec![StoredKey {
                id: 1,
                private_key: generate_private_key_hex(),
                created_at: Utc::now(),
            }],
        }
    }

    /// Reads the ring file.
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::File {
            path: path.to_owned(),
            source,
        })?;
        let file: Self = serde_json::from_str(&text).map_err(|err| {
            ConfigError::Invalid(format!("{} is not a key ring: {err}", path.display()))
        })?;
        if !file.keys.iter().any(|k| k.id == file.current) {
            return Err(ConfigError::Invalid(format!(
                "{}: the current key {} is not in the ring",
                path.display(),
                file.current
            )));
        }
        Ok(file)
    }

    /// Reads the ring file, creating it with one key when missing.
    pub fn read_or_create(path: &Path) -> Result<Self, ConfigError> {
        if path.exists() {
            return Self::read(path);
        }
        let file = Self::new();
        file.write(path)?;
        Ok(file)
    }

    /// Writes the ring file, readable by its owner only.
    pub fn write(&self, path: &Path) -> Result<(), ConfigError> {
        let file_error = |source| ConfigError::File {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(file_error)?;
        }
        let text = serde_json::to_string_pretty(self)
            .map_err(|err| ConfigError::Invalid(err.to_string()))?;
        write_private(path, &text).map_err(file_error)
    }

    /// Adds a fresh key and makes it current; older keys keep verifying.
    pub fn rotate(&mut self) -> u32 {
        let id = self.keys.iter().map(|k| k.id).max().unwrap_or(0) + 1;
        self.keys.push(StoredKey {
            id,
            private_key: generate_private_key_hex(),
            created_at: Utc::now(),
        });
        self.current = id;
        id
    }

    /// Removes a key that is not current: tokens it signed stop verifying.
    pub fn retire(&mut self, id: u32) -> Result<(), ConfigError> {
        if id == self.current {
            return Err(ConfigError::Invalid(format!(
                "key {id} is current; rotate first"
            )));
        }
        let before = self.keys.len();
        self.keys.retain(|k| k.id != id);
        if self.keys.len() == before {
            return Err(ConfigError::Invalid(format!("there is no key {id}")));
        }
        Ok(())
    }
}

impl Default for KeyringFile {
    fn default() -> Self {
        Self::new()
    }
}

impl Keyring {
    /// A ring of one key, id 0, from a hex private key.
    pub fn single(hex: &str) -> Result<Self, ConfigError> {
        let signer = parse_private(hex)?;
        let keys = BTreeMap::from([(0, signer.public())]);
        Ok(Self {
            current: 0,
            signer: Arc::new(signer),
            keys: Arc::new(keys),
        })
    }

    /// A ring of one fresh random key, id 0. Tokens die with it.
    pub fn generate() -> Self {
        let signer = KeyPair::new();
        let keys = BTreeMap::from([(0, signer.public())]);
        Self {
            current: 0,
            signer: Arc::new(signer),
            keys: Arc::new(keys),
        }
    }

    /// The keys of a ring file.
    pub fn from_file(file: &KeyringFile) -> Result<Self, ConfigError> {
        let mut keys = BTreeMap::new();
        let mut signer = None;
        for stored in &file.keys {
            let pair = parse_private(&stored.private_key)?;
            keys.insert(stored.id, pair.public());
            if stored.id == file.current {
                signer = Some(pair);
            }
        }
        let signer = signer.ok_or_else(|| {
            ConfigError::Invalid(format!(
                "the current key {} is not in the ring",
                file.current
            ))
        })?;
        Ok(Self {
            current: file.current,
            signer: Arc::new(signer),
            keys: Arc::new(keys),
        })
    }

    /// The id and pair of the key that signs new tokens.
    pub fn signer(&self) -> (u32, &KeyPair) {
        (self.current, &self.signer)
    }

    /// The ids of every key that verifies.
    pub fn key_ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.keys.keys().copied()
    }

    /// The public key for a token's root key id; tokens without one use the current key.
    pub fn public_key(&self, id: Option<u32>) -> Result<PublicKey, error::Format> {
        let id = id.unwrap_or(self.current);
        self.keys
            .get(&id)
            .cloned()
            .ok_or(error::Format::UnknownPublicKey)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
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

    #[test]
    fn rotation_keeps_old_keys_verifying_and_retire_drops_them() {
        let mut file = KeyringFile::new();
        let first = file.current;
        let second = file.rotate();
        assert_ne!(first, second);
        let ring = Keyring::from_file(&file).expect("ring");
        assert_eq!(ring.signer().0, second);
        assert!(ring.public_key(Some(first)).is_ok());
        assert!(
            file.retire(second).is_err(),
            "the current key cannot be retired"
        );
        file.retire(first).expect("retire");
        let ring = Keyring::from_file(&file).expect("ring");
        assert!(ring.public_key(Some(first)).is_err());
    }

    #[test]
    fn the_ring_file_round_trips() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("keys.json");
        let created = KeyringFile::read_or_create(&path).expect("create");
        let again = KeyringFile::read_or_create(&path).expect("read");
        assert_eq!(created.keys[0].private_key, again.keys[0].private_key);
    }
}
