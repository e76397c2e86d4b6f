//! The party behind a TLS connection, established once per connection from the client
//! certificate that rustls has already verified against the trusted CAs.

use super::parties::{Parties, Party};
use super::person::Person;
use ring::digest::{SHA256, digest};
use rustls::pki_types::{CertificateDer, UnixTime};
use std::sync::Arc;
use x509_parser::prelude::{FromDer, X509Certificate};

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
