//! The binary's commands other than `serve`: keys, tokens and admin bootstrap.

use biscuit_auth::UnverifiedBiscuit;
use chrono::Utc;

use crate::app::Application;
use crate::auth::attenuation::Attenuation;
use crate::auth::keys::{KeyringFile, generate_private_key_hex};
use crate::cli::{AdminAction, KeysAction, TokenAction};
use crate::config::{Config, ConfigError};
use crate::error::{Error, Result};
use crate::service::accounts;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// Configuration or key file trouble.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The operation failed.
    #[error(transparent)]
    Failed(#[from] Error),
    /// The server state could not be built.
    #[error(transparent)]
    Start(#[from] crate::app::StartError),
}

/// `conduit keys …`: prints what it did.
pub fn keys(config: &Config, action: &KeysAction) -> Result<String, CommandError> {
    let path = config.keyring_path();
    Ok(match action {
        KeysAction::Generate => generate_private_key_hex(),
        KeysAction::Rotate => {
            let mut ring = KeyringFile::read_or_create(&path)?;
            let id = ring.rotate();
            ring.write(&path)?;
            format!(
                "key {id} is now current in {}; restart the servers to sign with it",
                path.display()
            )
        }
        KeysAction::Retire { id } => {
            let mut ring = KeyringFile::read(&path)?;
            ring.retire(*id)?;
            ring.write(&path)?;
            format!("key {id} retired; tokens it signed no longer verify after a restart")
        }
        KeysAction::List => {
            let ring = KeyringFile::read_or_create(&path)?;
            let crate_ring = crate::auth::keys::Keyring::from_file(&ring)?;
            ring.keys
                .iter()
                .map(|key| {
                    let public = crate_ring
                        .public_key(Some(key.id))
                        .map(|k| k.to_bytes_hex())
                        .unwrap_or_default();
                    let marker = if key.id == ring.current {
                        "current"
                    } else {
                        "verify-only"
                    };
                    format!(
                        "{:>4}  {:<11}  {}  {}",
                        key.id,
                        marker,
                        key.created_at.to_rfc3339(),
                        public
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        }
    })
}

/// `conduit token …`: works on the token alone, without any key.
pub fn token(action: &TokenAction) -> Result<String, CommandError> {
    let unreadable = |e: biscuit_auth::error::Token| {
        Error::invalid_field("token", format!("not a biscuit token: {e}"))
    };
    match action {
        TokenAction::Attenuate {
            token,
            read_only,
            articles,
            actions,
            expires_in,
        } => {
            let attenuation = Attenuation {
                read_only: *read_only,
                articles: articles.clone(),
                actions: actions.clone(),
                expires_at: expires_in
                    .map(|seconds| Utc::now() + chrono::Duration::seconds(seconds)),
            };
            let block = attenuation.block()?;
            let narrowed = UnverifiedBiscuit::from_base64(token.trim())
                .and_then(|t| t.append(block))
                .and_then(|t| t.to_base64())
                .map_err(unreadable)?;
            Ok(narrowed)
        }
        TokenAction::Inspect { token } => {
            let parsed = UnverifiedBiscuit::from_base64(token.trim()).map_err(unreadable)?;
            let mut out = vec![format!(
                "root key id: {}",
                parsed
                    .root_key_id()
                    .map_or("none".into(), |id| id.to_string())
            )];
            let ids = parsed.revocation_identifiers();
            for index in 0..parsed.block_count() {
                let source = parsed.print_block_source(index).map_err(unreadable)?;
                let revocation = ids.get(index).map(hex::encode).unwrap_or_default();
                let name = if index == 0 {
                    "authority".to_owned()
                } else {
                    format!("block {index}")
                };
                out.push(format!(
                    "--- {name} (revocation id {revocation})\n{}",
                    source.trim_end()
                ));
            }
            Ok(out.join("\n"))
        }
    }
}

/// `conduit admin …`.
pub async fn admin(config: Config, action: AdminAction) -> Result<String, CommandError> {
    match action {
        AdminAction::Create {
            username,
            email,
            password,
        } => {
            let mut config = config;
            config.bind = "127.0.0.1:0"
                .parse()
                .map_err(|_| ConfigError::Invalid("bind".into()))?;
            let app = Application::build(config).await?;
            let user = accounts::bootstrap_admin(app.state(), &username, &email, &password).await?;
            Ok(format!("{} is an admin", user.username))
        }
    }
}
