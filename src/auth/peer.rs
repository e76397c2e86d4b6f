//! The party behind a TLS connection, established once per connection from the client
//! certificate that rustls has already verified against the trusted CAs.

use super::parties::{CertificatePins, Parties, Party};
use super::person::Person;
use ring::digest::{SHA256, digest};
use rustls::pki_types::{CertificateDer, UnixTime};
use std::sync::Arc;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

/// Attached to every request of a connection.
#[derive(Clone, Debug)]
pub struct Peer {
    /// `None` when the certificate is trusted but names no configured party.
    pub party: Option<Arc<Party>>,
    /// Set instead of `party` when the certificate is a person's (the web pages' login).
    pub person: Option<Arc<Person>>,
    /// SHA-256 of the end-entity certificate, for RFC 8705 certificate-bound tokens.
    pub certificate_sha256: [u8; 32],
}

pub fn identify(chain: &[CertificateDer<'static>], parties: &Parties) -> Option<Peer> {
    let (end_entity, intermediates) = chain.split_first()?;
    let certificate_sha256: [u8; 32] = digest(&SHA256, end_entity.as_ref())
        .as_ref()
        .try_into()
        .ok()?;
    let cn = common_name(end_entity);
    let cn = cn.as_deref().unwrap_or_default();
    let party = parties
        .by_common_name(cn)
        .filter(|party| chains_to_own_ca(party, end_entity, intermediates))
        .filter(|party| pinned(&party.pins, end_entity))
        .cloned();
    let person = parties
        .person(cn)
        .filter(|person| chains_to_own_ca(&person.party, end_entity, intermediates))
        .cloned();
    Some(Peer {
        party,
        person,
        certificate_sha256,
    })
}

fn common_name(cert: &CertificateDer<'_>) -> Option<String> {
    let (_, parsed) = X509Certificate::from_der(cert.as_ref()).ok()?;
    let mut names = parsed.subject().iter_common_name();
    let cn = names.next()?.as_str().ok()?.to_owned();
    // A certificate with two common names is ambiguous about whom it names.
    names.next().is_none().then_some(cn)
}

/// Whether the certificate carries what the party is pinned to besides its common name: a
/// SAN DNS name, a SAN URI, a key. Each pin that is configured must match.
fn pinned(pins: &CertificatePins, cert: &CertificateDer<'_>) -> bool {
    if pins.dns_names.is_empty() && pins.uris.is_empty() && pins.key_sha256.is_empty() {
        return true;
    }
    let Ok((_, parsed)) = X509Certificate::from_der(cert.as_ref()) else {
        return false;
    };
    let (mut dns, mut uris) = (Vec::new(), Vec::new());
    if let Ok(Some(san)) = parsed.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(d) => dns.push(d.to_ascii_lowercase()),
                GeneralName::URI(u) => uris.push((*u).to_owned()),
                _ => {}
            }
        }
    }
    let key: String = digest(&SHA256, parsed.public_key().raw)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let dns_ok = pins.dns_names.is_empty()
        || pins
            .dns_names
            .iter()
            .any(|p| dns.contains(&p.to_ascii_lowercase()));
    let uri_ok = pins.uris.is_empty() || pins.uris.iter().any(|p| uris.contains(p));
    let key_ok = pins.key_sha256.is_empty() || pins.key_sha256.contains(&key);
    dns_ok && uri_ok && key_ok
}

fn chains_to_own_ca(
    party: &Party,
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
) -> bool {
    match &party.own_ca_verifier {
        None => true,
        Some(verifier) => verifier
            .verify_client_cert(end_entity, intermediates, UnixTime::now())
            .is_ok(),
    }
}
