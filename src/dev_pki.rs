//! The development PKI: a CA, the gateway's server certificate, and per development party a
//! client certificate, a JWT signing key pair, a witness cosigning key pair (PKCS#8), and its
//! privacy officer's personal certificate (also as a `.p12` to import into a browser).
//! Generated on first start so that a fresh clone runs without any manual certificate work;
//! never used in production.

use crate::config::Config;
use anyhow::{Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_ED25519,
};
use ring::digest::{SHA256, digest};
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use time::{Duration, OffsetDateTime};

const CA_CERT: &str = "ca.crt";
const CA_KEY: &str = "ca.key";
/// The password of the development `.p12` files, which browsers will not import without one.
pub const P12_PASSWORD: &str = "gateway-dev";

/// The common name of a development party's privacy officer's personal certificate, which is
/// also the stem of its files.
pub fn privacy_officer(party: &str) -> String {
    format!("{party}-privacy-officer")
}

/// What `ensure` had to create.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Generated {
    pub files: Vec<String>,
}

/// Creates whatever part of the development PKI under `dir` is missing, reusing an existing
/// CA so that adding a party does not invalidate the certificates already handed out.
pub fn ensure(dir: &Path, parties: &[&str]) -> Result<Generated> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut generated = Generated::default();
    let ca = load_or_create_ca(dir, &mut generated)?;
    if !dir.join("server.crt").exists() {
        let mut params = CertificateParams::new(vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ])?;
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        issue(dir, "server", params, &ca, &mut generated)?;
    }
    for secret in ["pseudonym.key", "encryption.key"] {
        if !dir.join(secret).exists() {
            let key: [u8; 32] = rand_bytes()?;
            write_secret(
                dir,
                secret,
                crate::crypto::secrets::encode_key32(&key),
                &mut generated,
            )?;
        }
    }
    for signing in ["audit-signing.key", "webhook-signing.key"] {
        if !dir.join(signing).exists() {
            let key = KeyPair::generate_for(&PKCS_ED25519)?;
            write_secret(dir, signing, key.serialize_pem(), &mut generated)?;
        }
    }
    if !dir.join(CA_CRL).exists() {
        write_crl(dir, &ca, &[])?;
        generated.files.push(CA_CRL.to_owned());
    }
    for party in parties {
        if !dir.join(format!("{party}.crt")).exists() {
            issue(dir, party, client_params(party)?, &ca, &mut generated)?;
        }
        let officer = privacy_officer(party);
        if !dir.join(format!("{officer}.p12")).exists() {
            let (key, cert) = issue(dir, &officer, client_params(&officer)?, &ca, &mut generated)?;
            let p12 = pkcs12(&key, &cert, &dir.join(CA_CERT))?;
            write_secret(dir, &format!("{officer}.p12"), &p12, &mut generated)?;
        }
        // The party's token signing key, and its witness's cosigning key (a key of its own:
        // cosignatures must not be confused with tokens).
        for purpose in ["jwt", "witness"] {
            if !dir.join(format!("{party}-{purpose}.key")).exists() {
                let key = KeyPair::generate_for(&PKCS_ED25519)?;
                let stem = format!("{party}-{purpose}");
                write_secret(
                    dir,
                    &format!("{stem}.key"),
                    key.serialize_pem(),
                    &mut generated,
                )?;
                write_public(
                    dir,
                    &format!("{stem}.pub"),
                    &key.public_key_pem(),
                    &mut generated,
                )?;
            }
        }
    }
    Ok(generated)
}

/// The development CA's revocation list.
pub const CA_CRL: &str = "ca.crl";
/// How long a development CRL is valid; `revoke` writes a fresh one each time.
const CRL_DAYS: i64 = 30;

/// Revokes the certificate `<name>.crt` under `dir` (a party's system or a person's): its
/// serial number joins the development CA's revocation list, written anew. The gateway picks
/// the list up without a restart.
pub fn revoke(dir: &Path, name: &str) -> Result<()> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        anyhow::bail!("{name:?}: a certificate name is letters, digits and -");
    }
    let ca = load_ca(dir)?;
    let pem = std::fs::read(dir.join(format!("{name}.crt")))
        .with_context(|| format!("no certificate {name}.crt in {}", dir.display()))?;
    let (_, pem) = x509_parser::pem::parse_x509_pem(&pem)
        .map_err(|_| anyhow::anyhow!("{name}.crt is not a PEM certificate"))?;
    let certificate = pem
        .parse_x509()
        .map_err(|_| anyhow::anyhow!("{name}.crt is not a certificate"))?;
    let serial = certificate.raw_serial().to_vec();
    let mut revoked = revoked_serials(dir)?;
    if !revoked.contains(&serial) {
        revoked.push(serial);
    }
    write_crl(dir, &ca, &revoked)
}

/// The serial numbers the development CRL lists now.
fn revoked_serials(dir: &Path) -> Result<Vec<Vec<u8>>> {
    let Ok(pem) = std::fs::read(dir.join(CA_CRL)) else {
        return Ok(Vec::new());
    };
    use rustls_pki_types::pem::PemObject;
    let der = rustls_pki_types::CertificateRevocationListDer::from_pem_slice(&pem)
        .map_err(|_| anyhow::anyhow!("{CA_CRL} is not a PEM CRL"))?;
    let (_, crl) = x509_parser::parse_x509_crl(der.as_ref())
        .map_err(|_| anyhow::anyhow!("{CA_CRL} is not a CRL"))?;
    Ok(crl
        .iter_revoked_certificates()
        .map(|revoked| revoked.raw_serial().to_vec())
        .collect())
}

/// Writes the CA's CRL listing `serials`, replacing the file atomically (a reader never sees
/// half a list).
fn write_crl(dir: &Path, ca: &Issuer<'_, KeyPair>, serials: &[Vec<u8>]) -> Result<()> {
    use rcgen::{CertificateRevocationListParams, KeyIdMethod, RevokedCertParams, SerialNumber};
    let now = OffsetDateTime::now_utc();
    let params = CertificateRevocationListParams {
        this_update: now - Duration::minutes(1),
        next_update: now + Duration::days(CRL_DAYS),
        crl_number: SerialNumber::from(now.unix_timestamp_nanos().to_be_bytes().to_vec()),
        issuing_distribution_point: None,
        revoked_certs: serials
            .iter()
            .map(|serial| RevokedCertParams {
                serial_number: SerialNumber::from(serial.clone()),
                revocation_time: now - Duration::minutes(1),
                reason_code: None,
                invalidity_date: None,
            })
            .collect(),
        key_identifier_method: KeyIdMethod::Sha256,
    };
    let crl = params.signed_by(ca)?;
    let staged = dir.join(format!("{CA_CRL}.new"));
    std::fs::write(&staged, crl.pem()?)?;
    std::fs::rename(&staged, dir.join(CA_CRL))?;
    Ok(())
}

fn rand_bytes() -> Result<[u8; 32]> {
    use ring::rand::SecureRandom;
    let mut key = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut key)
        .map_err(|_| anyhow::anyhow!("the system random generator failed"))?;
    Ok(key)
}

/// Parameters of a client certificate for `common_name`, valid for a year from yesterday.
pub fn client_params(common_name: &str) -> Result<CertificateParams> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Joint-client gateway development");
    // webpki requires the client-auth usage whenever an extended key usage is present.
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(365);
    Ok(params)
}

/// Loads the development CA from `dir` so that callers (tests, tools) can issue more
/// certificates under it.
pub fn load_ca(dir: &Path) -> Result<Issuer<'static, KeyPair>> {
    let cert =
        std::fs::read_to_string(dir.join(CA_CERT)).context("cannot read the CA certificate")?;
    let key = std::fs::read_to_string(dir.join(CA_KEY)).context("cannot read the CA key")?;
    Ok(Issuer::from_ca_cert_pem(&cert, KeyPair::from_pem(&key)?)?)
}

/// A self-signed CA (not written anywhere): for issuing certificates nobody trusts.
pub fn new_ca(common_name: &str) -> Result<(String, Issuer<'static, KeyPair>)> {
    let key = KeyPair::generate()?;
    let params = ca_params(common_name)?;
    let cert = params.self_signed(&key)?;
    Ok((cert.pem(), Issuer::new(params, key)))
}

fn ca_params(common_name: &str) -> Result<CertificateParams> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(3650);
    Ok(params)
}

fn load_or_create_ca(dir: &Path, generated: &mut Generated) -> Result<Issuer<'static, KeyPair>> {
    if dir.join(CA_CERT).exists() {
        return load_ca(dir);
    }
    let key = KeyPair::generate()?;
    let params = ca_params("Joint-client gateway development CA")?;
    let cert = params.self_signed(&key)?;
    write_secret(dir, CA_KEY, key.serialize_pem(), generated)?;
    write_public(dir, CA_CERT, &cert.pem(), generated)?;
    Ok(Issuer::new(params, key))
}

fn issue(
    dir: &Path,
    name: &str,
    params: CertificateParams,
    ca: &Issuer<'_, KeyPair>,
    generated: &mut Generated,
) -> Result<(KeyPair, rcgen::Certificate)> {
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, ca)?;
    write_secret(dir, &format!("{name}.key"), key.serialize_pem(), generated)?;
    write_public(dir, &format!("{name}.crt"), &cert.pem(), generated)?;
    Ok((key, cert))
}

/// The key and its certificate chain as one PKCS#12 file (AES-256 and HMAC-SHA-256), the
/// form a browser imports a personal certificate in.
fn pkcs12(key: &KeyPair, cert: &rcgen::Certificate, ca: &Path) -> Result<Vec<u8>> {
    use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
    let mut chain = vec![Certificate::from_der(cert.der())?];
    for ca in crate::crypto::keys::certificates(ca)? {
        chain.push(Certificate::from_der(ca.as_ref())?);
    }
    let entry = PrivateKeyChain::new(
        digest(&SHA256, cert.der()).as_ref().to_vec(),
        PrivateKey::from_der(&key.serialize_der())?,
        chain,
    );
    let mut store = KeyStore::new();
    store.add_entry("privacy officer", KeyStoreEntry::PrivateKeyChain(entry));
    Ok(store.writer(P12_PASSWORD).write()?)
}

/// A key or keystore: readable by the owner only.
fn write_secret(
    dir: &Path,
    name: &str,
    contents: impl AsRef<[u8]>,
    generated: &mut Generated,
) -> Result<()> {
    write_with_mode(dir, name, contents.as_ref(), 0o600, generated)
}

fn write_public(dir: &Path, name: &str, contents: &str, generated: &mut Generated) -> Result<()> {
    write_with_mode(dir, name, contents.as_bytes(), 0o644, generated)
}

fn write_with_mode(
    dir: &Path,
    name: &str,
    contents: &[u8],
    mode: u32,
    generated: &mut Generated,
) -> Result<()> {
    let path = dir.join(name);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(contents)?;
    file.sync_all()?;
    generated.files.push(name.to_owned());
    Ok(())
}

/// Points a configuration at a development PKI generated into `dir` (by [`ensure`]) instead
/// of the one its files name: every key, certificate and trust anchor. For throwaway
/// deployments (the tests, the benchmark) that each have a PKI of their own.
pub fn use_pki(config: &mut Config, dir: &Path) {
    config.server.tls_certificate = dir.join("server.crt");
    config.server.tls_key = dir.join("server.key");
    config.keys.pseudonym_key = dir.join("pseudonym.key");
    config.keys.encryption_key = dir.join("encryption.key");
    config.audit.signing_key = dir.join("audit-signing.key");
    config.webhooks.signing_key = Some(dir.join("webhook-signing.key"));
    config.webhooks.trusted_ca = Some(dir.join("ca.crt"));
    config.server.client_crls = vec![dir.join(CA_CRL)];
    config.dev.generate_pki = false;
    config.dev.pki_dir = Some(dir.to_path_buf());
    for party in &mut config.parties {
        party.trusted_ca = dir.join("ca.crt");
        for key in &mut party.jwt_keys {
            key.public_key = dir.join(format!("{}-jwt.pub", party.id));
        }
        if party.witness_key.is_some() {
            party.witness_key = Some(dir.join(format!("{}-witness.pub", party.id)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_fresh_directory_gets_the_whole_pki_with_private_keys_readable_by_the_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let generated = ensure(dir.path(), &["amal"]).unwrap();
        assert_eq!(generated.files.len(), 18, "{generated:?}");
        for key in [
            "ca.key",
            "server.key",
            "amal.key",
            "amal-jwt.key",
            "amal-witness.key",
            "amal-privacy-officer.key",
            "amal-privacy-officer.p12",
            "pseudonym.key",
            "encryption.key",
            "audit-signing.key",
            "webhook-signing.key",
        ] {
            let mode = std::fs::metadata(dir.path().join(key))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{key}");
        }
    }

    #[test]
    fn a_second_run_keeps_the_ca_and_adds_only_the_new_party() {
        let dir = tempfile::tempdir().unwrap();
        ensure(dir.path(), &["amal"]).unwrap();
        let ca_before = std::fs::read(dir.path().join("ca.crt")).unwrap();
        let generated = ensure(dir.path(), &["amal", "kbi"]).unwrap();
        assert_eq!(
            generated.files,
            [
                "kbi.key",
                "kbi.crt",
                "kbi-privacy-officer.key",
                "kbi-privacy-officer.crt",
                "kbi-privacy-officer.p12",
                "kbi-jwt.key",
                "kbi-jwt.pub",
                "kbi-witness.key",
                "kbi-witness.pub"
            ]
        );
        assert_eq!(std::fs::read(dir.path().join("ca.crt")).unwrap(), ca_before);
    }
}
