//! Loading key material from PEM files, with errors that name the file but never the key.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, SubjectPublicKeyInfoDer};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The JWT signature algorithms a party's identity provider may use (product brief §2).
/// An allow-list: the token's own `alg` header never chooses the verification algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JwtAlgorithm {
    EdDSA,
    ES256,
}

impl JwtAlgorithm {
    pub fn to_jsonwebtoken(self) -> Algorithm {
        match self {
            Self::EdDSA => Algorithm::EdDSA,
            Self::ES256 => Algorithm::ES256,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} does not hold {expected}")]
    Format {
        path: String,
        expected: &'static str,
    },
    #[error(
        "{path} holds secret key material but is readable by group or others (mode {mode:o}): chmod 600 it"
    )]
    Exposed { path: String, mode: u32 },
}

/// Refuses a file of secret key material that group or others may read: a key another
/// account can copy is a key that has leaked.
pub fn check_not_exposed(path: &Path) -> Result<(), KeyError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let metadata = std::fs::metadata(path).map_err(|source| KeyError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyError::Exposed {
                path: path.display().to_string(),
                mode,
            });
        }
    }
    Ok(())
}

/// The bytes of a secret key file, checked not to be exposed, wiped from memory when dropped.
pub fn read_secret(path: &Path) -> Result<zeroize::Zeroizing<Vec<u8>>, KeyError> {
    check_not_exposed(path)?;
    read(path).map(zeroize::Zeroizing::new)
}

fn read(path: &Path) -> Result<Vec<u8>, KeyError> {
    std::fs::read(path).map_err(|source| KeyError::Read {
        path: path.display().to_string(),
        source,
    })
}

fn format_error(path: &Path, expected: &'static str) -> KeyError {
    KeyError::Format {
        path: path.display().to_string(),
        expected,
    }
}

pub fn jwt_public_key(path: &Path, algorithm: JwtAlgorithm) -> Result<DecodingKey, KeyError> {
    let pem = read(path)?;
    match algorithm {
        JwtAlgorithm::EdDSA => DecodingKey::from_ed_pem(&pem)
            .map_err(|_| format_error(path, "an Ed25519 public key (SPKI PEM)")),
        JwtAlgorithm::ES256 => DecodingKey::from_ec_pem(&pem)
            .map_err(|_| format_error(path, "a P-256 public key (SPKI PEM)")),
    }
}

pub fn jwt_signing_key(path: &Path, algorithm: JwtAlgorithm) -> Result<EncodingKey, KeyError> {
    let pem = read_secret(path)?;
    match algorithm {
        JwtAlgorithm::EdDSA => EncodingKey::from_ed_pem(&pem)
            .map_err(|_| format_error(path, "an Ed25519 private key (PKCS#8 PEM)")),
        JwtAlgorithm::ES256 => EncodingKey::from_ec_pem(&pem)
            .map_err(|_| format_error(path, "a P-256 private key (PKCS#8 PEM)")),
    }
}

pub fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, KeyError> {
    let pem = read(path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| format_error(path, "PEM certificates"))?;
    if certs.is_empty() {
        return Err(format_error(path, "at least one PEM certificate"));
    }
    Ok(certs)
}

/// The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the 32-byte key follows.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// An Ed25519 public key from an SPKI PEM file (`-----BEGIN PUBLIC KEY-----`).
pub fn ed25519_public_key(path: &Path) -> Result<[u8; 32], KeyError> {
    let expected = "an Ed25519 public key (SPKI PEM)";
    let pem = read(path)?;
    let spki =
        SubjectPublicKeyInfoDer::from_pem_slice(&pem).map_err(|_| format_error(path, expected))?;
    spki.as_ref()
        .strip_prefix(&ED25519_SPKI_PREFIX[..])
        .and_then(|key| key.try_into().ok())
        .ok_or_else(|| format_error(path, expected))
}

pub fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, KeyError> {
    let pem = read_secret(path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|_| format_error(path, "a PEM private key"))
}
