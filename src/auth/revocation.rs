//! Certificate revocation at the handshake: the client certificate verifier checks every
//! presented chain against the configured CRLs (`server.client_crls`), and is rebuilt when a
//! CRL file changes (or on SIGHUP), so a revoked party system or officer is refused without a
//! restart. An expired CRL fails closed: webpki refuses every chain its issuer signed until a
//! fresh list arrives, and [`RevocationLists::is_current`] turns readiness off.

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, Error, RootCertStore, SignatureScheme};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

#[derive(Debug, thiserror::Error)]
pub enum RevocationError {
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("building the client certificate verifier: {0}")]
    Verifier(String),
}

/// The verifier in force, with what it was built from.
#[derive(Debug)]
pub struct RevocationLists {
    paths: Vec<PathBuf>,
    roots: Arc<RootCertStore>,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<dyn ClientCertVerifier>>,
    /// The trust anchors' names, which no CRL changes.
    hints: Vec<DistinguishedName>,
    /// The modification times the verifier was built from.
    stamps: Mutex<Vec<Option<SystemTime>>>,
    /// The earliest `nextUpdate` of the lists in force (seconds since the epoch).
    next_update: Mutex<Option<i64>>,
    /// False after a reload failed: the verifier then refuses every certificate.
    loaded: AtomicBool,
    /// Whether the expiry of a list in force was logged already (readiness asks often).
    expiry_logged: AtomicBool,
}

impl RevocationLists {
    pub fn load(
        paths: Vec<PathBuf>,
        roots: Arc<RootCertStore>,
        provider: Arc<CryptoProvider>,
    ) -> Result<Self, RevocationError> {
        let (verifier, next_update) = build(&paths, &roots, &provider)?;
        let hints = verifier.root_hint_subjects().to_vec();
        let stamps = stamps(&paths);
        Ok(Self {
            paths,
            roots,
            provider,
            current: RwLock::new(verifier),
            hints,
            stamps: Mutex::new(stamps),
            next_update: Mutex::new(next_update),
            loaded: AtomicBool::new(true),
            expiry_logged: AtomicBool::new(false),
        })
    }

    /// Rebuilds the verifier when a CRL file changed since it was built (`force`: anyway). A
    /// list that no longer loads leaves a verifier that refuses everyone (fail closed).
    pub fn reload(&self, force: bool) {
        let now = stamps(&self.paths);
        {
            let mut seen = self.stamps.lock().expect("the CRL stamps");
            if !force && *seen == now {
                return;
            }
            *seen = now;
        }
        match build(&self.paths, &self.roots, &self.provider) {
            Ok((verifier, next_update)) => {
                *self.current.write().expect("the verifier") = verifier;
                *self.next_update.lock().expect("the CRL expiry") = next_update;
                self.loaded.store(true, Ordering::Relaxed);
                self.expiry_logged.store(false, Ordering::Relaxed);
                tracing::info!(
                    lists = self.paths.len(),
                    "certificate revocation lists loaded"
                );
            }
            Err(error) => {
                self.loaded.store(false, Ordering::Relaxed);
                tracing::error!(%error, "a certificate revocation list does not load: refusing every client certificate until it does");
            }
        }
    }

    /// Whether revocation can be checked now: every list loaded and none past its
    /// `nextUpdate`. Readiness follows it.
    pub fn is_current(&self) -> bool {
        if !self.loaded.load(Ordering::Relaxed) {
            return false;
        }
        let next = *self.next_update.lock().expect("the CRL expiry");
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        match next {
            Some(next) if next <= now => {
                tracing::error!(
                    "a certificate revocation list is past its nextUpdate: every certificate its CA issued is refused until a fresh list is installed"
                );
                false
            }
            _ => true,
        }
    }

    fn verifier(&self) -> Arc<dyn ClientCertVerifier> {
        self.current.read().expect("the verifier").clone()
    }
}

fn stamps(paths: &[PathBuf]) -> Vec<Option<SystemTime>> {
    paths
        .iter()
        .map(|path| std::fs::metadata(path).and_then(|m| m.modified()).ok())
        .collect()
}

/// The webpki verifier over `roots` with the CRLs in `paths`, and their earliest nextUpdate.
fn build(
    paths: &[PathBuf],
    roots: &Arc<RootCertStore>,
    provider: &Arc<CryptoProvider>,
) -> Result<(Arc<dyn ClientCertVerifier>, Option<i64>), RevocationError> {
    let mut crls = Vec::new();
    let mut next_update: Option<i64> = None;
    for path in paths {
        let file_error = |message: String| RevocationError::File {
            path: path.display().to_string(),
            message,
        };
        let bytes = std::fs::read(path).map_err(|e| file_error(e.to_string()))?;
        let ders: Vec<CertificateRevocationListDer<'static>> = if bytes.starts_with(b"-----") {
            use rustls::pki_types::pem::PemObject;
            CertificateRevocationListDer::pem_slice_iter(&bytes)
                .collect::<Result<_, _>>()
                .map_err(|_| file_error("not a PEM CRL".into()))?
        } else {
            vec![CertificateRevocationListDer::from(bytes)]
        };
        for der in ders {
            let (_, crl) = x509_parser::parse_x509_crl(der.as_ref())
                .map_err(|_| file_error("not a certificate revocation list".into()))?;
            if let Some(next) = crl.next_update() {
                let next = next.timestamp();
                next_update = Some(next_update.map_or(next, |n: i64| n.min(next)));
            }
            crls.push(der);
        }
    }
    let mut builder = WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone());
    if !crls.is_empty() {
        // Only the end entity is checked (the CAs are the parties' own, configured by hand);
        // a list past its nextUpdate refuses instead of being trusted for ever; a CA for
        // which no list is configured cannot be checked, and its certificates pass on the
        // chain alone (configure a list for every CA to close that).
        builder = builder
            .with_crls(crls)
            .only_check_end_entity_revocation()
            .allow_unknown_revocation_status()
            .enforce_revocation_expiration();
    }
    let verifier = builder
        .build()
        .map_err(|e| RevocationError::Verifier(e.to_string()))?;
    Ok((verifier, next_update))
}

impl ClientCertVerifier for RevocationLists {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        if !self.loaded.load(Ordering::Relaxed) {
            return Err(Error::General(
                "certificate revocation cannot be checked".into(),
            ));
        }
        self.verifier()
            .verify_client_cert(end_entity, intermediates, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.verifier().verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.verifier().verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.verifier().supported_verify_schemes()
    }
}
