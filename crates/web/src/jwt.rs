//! Verification of the LMS's JWTs, as edx-drf-extensions' `jwt_decode_handler` does it:
//! RS256/RS512 against the LMS's public JWKS, HS256 only with a configured shared secret,
//! `exp` and `iat` required, `aud` the configured audience, `iss` one of the configured
//! issuers, the version's major at most 1. No algorithm is taken from the token without a key
//! of its family: an HS256 token is refused when only RSA keys are configured, `none` always.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use thiserror::Error;

/// The clock skew allowed on `exp`, `nbf` and `iat`, in seconds (the LMS's `JWT_LEEWAY`).
pub const LEEWAY_SECONDS: u64 = 1;

/// The highest major `version` accepted (the LMS's `JWT_SUPPORTED_VERSION` is 1.2.0).
pub const SUPPORTED_MAJOR_VERSION: u64 = 1;

/// Why the keys could not be loaded.
#[derive(Debug, Error)]
pub enum KeyError {
    /// The JWKS is not a JSON Web Key Set.
    #[error("the JWKS is not a JSON Web Key Set: {0}")]
    Jwks(String),
    /// The JWKS holds no RSA key.
    #[error("the JWKS holds no RSA public key")]
    NoRsaKey,
    /// The shared secret is empty.
    #[error("the JWT secret is empty")]
    EmptySecret,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TokenRefused {
    /// The signature was valid but `exp` has passed.
    #[error("the token has expired")]
    Expired,
    /// Anything else: malformed, bad signature, algorithm without key, claims refused.
    #[error("{0}")]
    Invalid(String),
}

/// What a verified token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// `preferred_username`, else `username`.
    pub username: String,
    /// `is_restricted` (false when absent).
    pub is_restricted: bool,
}

/// The keys and the claims to require.
#[derive(Clone)]
pub struct JwtVerifier {
    rsa: Vec<(Option<String>, DecodingKey)>,
    hmac: Option<DecodingKey>,
    issuers: Vec<String>,
    audience: String,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("rsa_keys", &self.rsa.len())
            .field("hmac", &self.hmac.is_some())
            .field("issuers", &self.issuers)
            .field("audience", &self.audience)
            .finish()
    }
}

impl JwtVerifier {
    /// Keys from a JWKS document (its RSA keys; `oct` keys are ignored: a shared secret comes
    /// only from `secret`) and an optional shared secret for HS256.
    ///
    /// # Errors
    /// [`KeyError`] for a malformed JWKS, one without an RSA key, or an empty secret.
    pub fn new(
        jwks: Option<&str>,
        secret: Option<&[u8]>,
        issuers: Vec<String>,
        audience: String,
    ) -> Result<Self, KeyError> {
        let mut rsa = Vec::new();
        if let Some(jwks) = jwks {
            let set: JwkSet = serde_json::from_str(jwks).map_err(|e| KeyError::Jwks(e.to_string()))?;
            for jwk in &set.keys {
                if let AlgorithmParameters::RSA(params) = &jwk.algorithm {
                    let key = DecodingKey::from_rsa_components(&params.n, &params.e)
                        .map_err(|e| KeyError::Jwks(e.to_string()))?;
                    rsa.push((jwk.common.key_id.clone(), key));
                }
            }
            if rsa.is_empty() {
                return Err(KeyError::NoRsaKey);
            }
        }
        let hmac = match secret {
            Some([]) => return Err(KeyError::EmptySecret),
            Some(secret) => Some(DecodingKey::from_secret(secret)),
            None => None,
        };
        Ok(Self { rsa, hmac, issuers, audience })
    }

    /// Verifies `token` now.
    ///
    /// # Errors
    /// [`TokenRefused`].
    pub fn verify(&self, token: &str) -> Result<VerifiedToken, TokenRefused> {
        let invalid = |why: &str| TokenRefused::Invalid(why.to_owned());
        let header = jsonwebtoken::decode_header(token).map_err(|e| TokenRefused::Invalid(e.to_string()))?;
        let keys: Vec<&DecodingKey> = match header.alg {
            Algorithm::RS256 | Algorithm::RS512 => {
                let by_kid: Vec<&DecodingKey> = self
                    .rsa
                    .iter()
                    .filter(|(kid, _)| header.kid.is_some() && kid == &header.kid)
                    .map(|(_, key)| key)
                    .collect();
                if by_kid.is_empty() { self.rsa.iter().map(|(_, key)| key).collect() } else { by_kid }
            }
            Algorithm::HS256 => self.hmac.iter().collect(),
            _ => Vec::new(),
        };
        if keys.is_empty() {
            return Err(invalid("no key for the token's algorithm"));
        }
        let mut validation = Validation::new(header.alg);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "aud", "iss"]);
        validation.set_audience(&[&self.audience]);
        validation.set_issuer(&self.issuers);
        let mut last = invalid("no key verified the token");
        for key in keys {
            match jsonwebtoken::decode::<Value>(token, key, &validation) {
                Ok(data) => return claims(&data.claims),
                Err(error) => {
                    last = match error.kind() {
                        jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenRefused::Expired,
                        _ => TokenRefused::Invalid(error.to_string()),
                    };
                    if last == TokenRefused::Expired {
                        // The signature verified (jsonwebtoken checks it first).
                        return Err(last);
                    }
                }
            }
        }
        Err(last)
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// The checks jsonwebtoken leaves to us: `iat` present, a number and not in the future;
/// `version`; the username.
fn claims(claims: &Value) -> Result<VerifiedToken, TokenRefused> {
    let invalid = |why: &str| TokenRefused::Invalid(why.to_owned());
    let iat = claims.get("iat").ok_or_else(|| invalid("the token has no iat claim"))?;
    let iat = iat.as_f64().ok_or_else(|| invalid("Issued At claim (iat) must be an integer."))?;
    if iat > (now() + LEEWAY_SECONDS) as f64 {
        return Err(invalid("The token is not yet valid (iat)"));
    }
    match claims.get("version") {
        None => {}
        Some(Value::String(version)) => {
            let major = version.split('.').next().and_then(|m| m.parse::<u64>().ok());
            match major {
                Some(major) if major <= SUPPORTED_MAJOR_VERSION && version.split('.').count() == 3 => {}
                _ => return Err(TokenRefused::Invalid(format!("JWT version number [{version}] is unsupported"))),
            }
        }
        Some(_) => return Err(invalid("the version claim is not a string")),
    }
    let username = match (claims.get("preferred_username"), claims.get("username")) {
        (Some(Value::String(u)), _) if !u.is_empty() => u.clone(),
        (_, Some(Value::String(u))) if !u.is_empty() => u.clone(),
        _ => return Err(invalid("JWT must include a preferred_username or username claim!")),
    };
    let is_restricted = claims.get("is_restricted").and_then(Value::as_bool).unwrap_or(false);
    Ok(VerifiedToken { username, is_restricted })
}
