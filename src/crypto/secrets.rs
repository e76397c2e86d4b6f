//! Symmetric secrets on disk: 32 random bytes, base64 in a file readable by the gateway only.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::path::Path;
use zeroize::Zeroizing;

#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct SecretError {
    pub path: String,
    pub message: String,
}

/// A 32-byte secret from its file (base64), refused when group or others may read the file;
/// every copy on the way is wiped, and so is the key when the caller drops it.
pub fn read_key32(path: &Path) -> Result<Zeroizing<[u8; 32]>, SecretError> {
    let error = |message: &str| SecretError {
        path: path.display().to_string(),
        message: message.to_owned(),
    };
    let text = super::keys::read_secret(path).map_err(|e| match e {
        // The error names the path already; say the rest once.
        super::keys::KeyError::Exposed { mode, .. } => error(&format!(
            "readable by group or others (mode {mode:o}): chmod 600 it"
        )),
        other => error(&other.to_string()),
    })?;
    let text = std::str::from_utf8(&text).map_err(|_| error("not base64"))?;
    let bytes = Zeroizing::new(
        STANDARD
            .decode(text.trim())
            .map_err(|_| error("not base64"))?,
    );
    let key: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| error("a key must be exactly 32 bytes"))?;
    Ok(Zeroizing::new(key))
}

pub fn encode_key32(key: &[u8; 32]) -> String {
    format!("{}\n", STANDARD.encode(key))
}

/// Marks the process non-dumpable (Linux): no core file and no ptrace attach by another
/// process of the same user, either of which would copy the keys out of memory.
pub fn forbid_dumps() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_DUMPABLE takes plain integer arguments and touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn the_process_is_no_longer_dumpable() {
        super::forbid_dumps();
        // SAFETY: PR_GET_DUMPABLE only returns a value.
        let dumpable = unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) };
        assert_eq!(dumpable, 0);
    }
}
