//! A jsonwebtoken crypto provider on ring, for exactly EdDSA (Ed25519) and ES256.
//!
//! jsonwebtoken has no ring backend and its RustCrypto backend pulls in `rsa`
//! (RUSTSEC-2023-0071). A provider that knows only these two algorithms also closes
//! algorithm confusion by construction: an HS256 or RS256 token cannot be verified at all.

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, ED25519, EcdsaKeyPair,
    Ed25519KeyPair, UnparsedPublicKey, VerificationAlgorithm,
};

static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory,
    verifier_factory,
    key_utils: KeyUtils::new_unimplemented(),
};

/// Makes the ring provider jsonwebtoken's process default. Idempotent, so that every
/// entry point (server, CLI, tests) can call it without coordinating.
pub fn install() {
    let _ = PROVIDER.install_default();
}

enum RingSigner {
    Ed25519(Ed25519KeyPair),
    Es256(EcdsaKeyPair),
}

impl signature::Signer<Vec<u8>> for RingSigner {
    fn try_sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        match self {
            Self::Ed25519(pair) => Ok(pair.sign(msg).as_ref().to_vec()),
            Self::Es256(pair) => pair
                .sign(&SystemRandom::new(), msg)
                .map(|sig| sig.as_ref().to_vec())
                .map_err(|_| signature::Error::new()),
        }
    }
}

impl JwtSigner for RingSigner {
    fn algorithm(&self) -> Algorithm {
        match self {
            Self::Ed25519(_) => Algorithm::EdDSA,
            Self::Es256(_) => Algorithm::ES256,
        }
    }
}

fn signer_factory(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>, Error> {
    let pkcs8 = key.as_bytes();
    let signer = match algorithm {
        Algorithm::EdDSA => RingSigner::Ed25519(
            Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)
                .map_err(|_| Error::from(ErrorKind::InvalidEddsaKey))?,
        ),
        Algorithm::ES256 => RingSigner::Es256(
            EcdsaKeyPair::from_pkcs8(
                &ECDSA_P256_SHA256_FIXED_SIGNING,
                pkcs8,
                &SystemRandom::new(),
            )
            .map_err(|_| Error::from(ErrorKind::InvalidEcdsaKey))?,
        ),
        _ => return Err(ErrorKind::InvalidAlgorithm.into()),
    };
    Ok(Box::new(signer))
}

struct RingVerifier {
    algorithm: Algorithm,
    verification: &'static dyn VerificationAlgorithm,
    public_key: Vec<u8>,
}

impl signature::Verifier<Vec<u8>> for RingVerifier {
    fn verify(&self, msg: &[u8], sig: &Vec<u8>) -> Result<(), signature::Error> {
        UnparsedPublicKey::new(self.verification, &self.public_key)
            .verify(msg, sig)
            .map_err(|_| signature::Error::new())
    }
}

impl JwtVerifier for RingVerifier {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

fn verifier_factory(
    algorithm: &Algorithm,
    key: &DecodingKey,
) -> Result<Box<dyn JwtVerifier>, Error> {
    // The public key bytes are what the `from_*_pem` helpers extract: the raw 32-byte Ed25519
    // key, or the uncompressed P-256 point.
    let verification: &'static dyn VerificationAlgorithm = match algorithm {
        Algorithm::EdDSA => &ED25519,
        Algorithm::ES256 => &ECDSA_P256_SHA256_FIXED,
        _ => return Err(ErrorKind::InvalidAlgorithm.into()),
    };
    Ok(Box::new(RingVerifier {
        algorithm: *algorithm,
        verification,
        public_key: key.try_get_as_bytes()?.to_vec(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{Header, Validation, decode, encode};
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Claims {
        sub: String,
        exp: u64,
    }

    fn claims() -> Claims {
        Claims {
            sub: "tester".into(),
            exp: jsonwebtoken::get_current_timestamp() + 300,
        }
    }

    fn ed25519_pair() -> (EncodingKey, DecodingKey) {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        use ring::signature::KeyPair;
        (
            EncodingKey::from_ed_der(pkcs8.as_ref()),
            DecodingKey::from_ed_der(pair.public_key().as_ref()),
        )
    }

    #[test]
    fn an_ed25519_token_signed_here_verifies_here() {
        install();
        let (enc, dec) = ed25519_pair();
        let token = encode(&Header::new(Algorithm::EdDSA), &claims(), &enc).unwrap();
        let data = decode::<Claims>(&token, &dec, &Validation::new(Algorithm::EdDSA)).unwrap();
        assert_eq!(data.claims.sub, "tester");
    }

    #[test]
    fn an_es256_token_signed_here_verifies_here() {
        install();
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        use ring::signature::KeyPair;
        let enc = EncodingKey::from_ec_der(pkcs8.as_ref());
        let dec = DecodingKey::from_ec_der(pair.public_key().as_ref());
        let token = encode(&Header::new(Algorithm::ES256), &claims(), &enc).unwrap();
        assert!(decode::<Claims>(&token, &dec, &Validation::new(Algorithm::ES256)).is_ok());
    }

    #[test]
    fn a_token_signed_by_another_key_is_rejected() {
        install();
        let (enc, _) = ed25519_pair();
        let (_, other) = ed25519_pair();
        let token = encode(&Header::new(Algorithm::EdDSA), &claims(), &enc).unwrap();
        assert!(decode::<Claims>(&token, &other, &Validation::new(Algorithm::EdDSA)).is_err());
    }

    #[test]
    fn hmac_and_rsa_algorithms_cannot_be_used_at_all() {
        install();
        let (_, dec) = ed25519_pair();
        for algorithm in [Algorithm::HS256, Algorithm::RS256, Algorithm::PS256] {
            assert!(verifier_factory(&algorithm, &dec).is_err());
        }
    }
}
