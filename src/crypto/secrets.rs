//! Symmetric secrets on disk: 32 random bytes, base64 in a file readable by the gateway only.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct SecretError {
    pub path: String,
    pub message: String,
}

pub fn read_key32(path: &Path) -> Result<[u8; 32], SecretError> {
    let error = |message: &str| SecretError {
        path: path.display().to_string(),
        message: message.to_owned(),
    };
    let text = std::fs::read_to_string(path).map_err(|e| error(&e.to_string()))?;
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|_| error("not base64"))?;
    bytes
        .try_into()
        .map_err(|_| error("a key must be exactly 32 bytes"))
}

pub fn encode_key32(key: &[u8; 32]) -> String {
    format!("{}\n", STANDARD.encode(key))
}
