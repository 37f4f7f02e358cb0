//! Which tokens the verifier accepts.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use web::jwt::TokenRefused;

use crate::common::{AUDIENCE, ISSUER, claims, now, sign, verifier};

fn refused(token: &str, secret: bool) -> TokenRefused {
    verifier(secret).verify(token).expect_err("accepted")
}

fn with(change: impl FnOnce(&mut serde_json::Value)) -> serde_json::Value {
    let mut c = claims("staff");
    change(&mut c);
    c
}

#[test]
fn rs256_and_rs512_tokens_of_the_jwks_are_accepted() {
    for alg in [Algorithm::RS256, Algorithm::RS512] {
        let token = verifier(false).verify(&sign(&claims("staff"), alg)).unwrap();
        assert_eq!(token.username, "staff");
        assert!(!token.is_restricted);
    }
}

#[test]
fn hs256_needs_the_secret() {
    let token = sign(&claims("staff"), Algorithm::HS256);
    assert!(matches!(refused(&token, false), TokenRefused::Invalid(_)));
    assert_eq!(verifier(true).verify(&token).unwrap().username, "staff");
}

#[test]
fn hs256_signed_with_the_public_key_is_refused() {
    // Algorithm confusion: the attacker uses the RSA public key as an HMAC secret.
    let public = include_bytes!("keys/test-rsa.pub.pem");
    let header = Header::new(Algorithm::HS256);
    let token = jsonwebtoken::encode(&header, &claims("staff"), &EncodingKey::from_secret(public)).unwrap();
    assert!(matches!(refused(&token, false), TokenRefused::Invalid(_)));
    assert!(matches!(refused(&token, true), TokenRefused::Invalid(_)));
    let jwks = crate::common::jwks().as_bytes();
    let token = jsonwebtoken::encode(&header, &claims("staff"), &EncodingKey::from_secret(jwks)).unwrap();
    assert!(matches!(refused(&token, false), TokenRefused::Invalid(_)));
}

#[test]
fn alg_none_is_refused() {
    use base64::Engine;
    let b64 = |v: &serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    for alg in ["none", "None", "NONE"] {
        let token = format!("{}.{}.", b64(&json!({"alg": alg, "typ": "JWT"})), b64(&claims("staff")));
        assert!(matches!(refused(&token, true), TokenRefused::Invalid(_)), "{alg}");
    }
}

#[test]
fn a_wrong_signature_is_refused() {
    let other = EncodingKey::from_rsa_pem(include_bytes!("keys/other-rsa.pem")).unwrap();
    let token = jsonwebtoken::encode(&Header::new(Algorithm::RS512), &claims("staff"), &other).unwrap();
    assert!(matches!(refused(&token, true), TokenRefused::Invalid(_)));
    let good = sign(&claims("staff"), Algorithm::RS512);
    let (rest, _) = good.rsplit_once('.').unwrap();
    let (_, other_sig) = token.rsplit_once('.').unwrap();
    assert!(matches!(refused(&format!("{rest}.{other_sig}"), true), TokenRefused::Invalid(_)));
    // A payload changed after signing.
    let mut parts: Vec<&str> = good.split('.').collect();
    let forged = sign(&claims("admin"), Algorithm::RS512);
    parts[1] = forged.split('.').nth(1).unwrap();
    let mut mixed = parts.join(".");
    assert!(matches!(refused(&mixed, true), TokenRefused::Invalid(_)));
    mixed.push('x');
    assert!(matches!(refused(&mixed, true), TokenRefused::Invalid(_)));
}

#[test]
fn claims_are_checked() {
    let rs = |c: serde_json::Value| sign(&c, Algorithm::RS512);
    assert_eq!(refused(&rs(with(|c| c["exp"] = json!(now() - 10))), false), TokenRefused::Expired);
    for (what, c) in [
        ("no exp", with(|c| drop(c.as_object_mut().unwrap().remove("exp")))),
        ("no iat", with(|c| drop(c.as_object_mut().unwrap().remove("iat")))),
        ("iat in the future", with(|c| c["iat"] = json!(now() + 600))),
        ("nbf in the future", with(|c| c["nbf"] = json!(now() + 600))),
        ("string exp", with(|c| c["exp"] = json!("9999999999"))),
        ("wrong issuer", with(|c| c["iss"] = json!("http://evil/oauth2"))),
        ("no issuer", with(|c| drop(c.as_object_mut().unwrap().remove("iss")))),
        ("wrong audience", with(|c| c["aud"] = json!("other"))),
        ("no audience", with(|c| drop(c.as_object_mut().unwrap().remove("aud")))),
        ("version 2", with(|c| c["version"] = json!("2.0.0"))),
        ("no username", with(|c| drop(c.as_object_mut().unwrap().remove("preferred_username")))),
    ] {
        assert!(matches!(refused(&rs(c), false), TokenRefused::Invalid(_)), "{what}");
    }
    let token = |c| verifier(false).verify(&rs(c)).unwrap();
    assert_eq!(token(with(|c| drop(c.as_object_mut().unwrap().remove("version")))).username, "staff");
    assert_eq!(token(with(|c| c["aud"] = json!([AUDIENCE, "x"]))).username, "staff");
    let fallback = with(|c| {
        c.as_object_mut().unwrap().remove("preferred_username");
        c["username"] = json!("legacy");
    });
    assert_eq!(token(fallback).username, "legacy");
    assert!(token(with(|c| c["is_restricted"] = json!(true))).is_restricted);
    assert_eq!(token(with(|c| c["iss"] = json!(ISSUER))).username, "staff");
}

#[test]
fn several_issuers_and_no_keys() {
    let v = web::JwtVerifier::new(
        Some(crate::common::jwks()),
        None,
        vec!["http://a/oauth2".into(), ISSUER.into()],
        AUDIENCE.into(),
    )
    .unwrap();
    assert_eq!(v.verify(&crate::common::token("staff")).unwrap().username, "staff");
    assert!(matches!(
        web::load_verifier(&web::KeyFiles::default(), vec![ISSUER.into()], AUDIENCE.into()),
        Err(web::ServeError::NoKeys)
    ));
    assert!(web::JwtVerifier::new(Some("{\"keys\": []}"), None, vec![], String::new()).is_err());
    assert!(web::JwtVerifier::new(Some("not json"), None, vec![], String::new()).is_err());
}
