//! Keys, tokens and a service on the in-memory database.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use adapters_memory::MemoryDatabase;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use web::{Config, JwtVerifier};

pub const ISSUER: &str = "http://lms.test/oauth2";
pub const AUDIENCE: &str = "lms-key";
pub const SECRET: &[u8] = b"the-hs256-secret";
pub const MFE: &str = "http://apps.lms.test:1994";

pub fn jwks() -> &'static str {
    include_str!("keys/test-jwks.json")
}

pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// The claims the LMS puts in its cookie JWTs.
pub fn claims(username: &str) -> Value {
    let now = now();
    json!({
        "aud": AUDIENCE, "exp": now + 3600, "iat": now, "iss": ISSUER, "preferred_username": username,
        "version": "1.2.0", "scopes": ["user_id", "email", "profile"], "administrator": true,
        "email": format!("{username}@example.com"), "filters": [], "is_restricted": false,
    })
}

pub fn sign(claims: &Value, alg: Algorithm) -> String {
    let key = match alg {
        Algorithm::HS256 => EncodingKey::from_secret(SECRET),
        _ => EncodingKey::from_rsa_pem(include_bytes!("keys/test-rsa.pem")).unwrap(),
    };
    let mut header = Header::new(alg);
    header.kid = Some("openedx".into());
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

pub fn token(username: &str) -> String {
    sign(&claims(username), Algorithm::RS512)
}

pub fn verifier(secret: bool) -> JwtVerifier {
    JwtVerifier::new(Some(jwks()), secret.then_some(SECRET), vec![ISSUER.into()], AUDIENCE.into()).unwrap()
}

pub fn config() -> Config {
    Config {
        verifier: verifier(false),
        allowed_origins: vec![MFE.into()],
        login_url: Some("http://lms.test/login".into()),
        max_body_bytes: 1024 * 1024,
        body_timeout: std::time::Duration::from_secs(5),
        rules: app::RuleOptions::default(),
        chunk_size: None,
        concurrent_links: 4,
        course_urls: web::inspector_json::CourseUrls::default(),
        program_titles: web::inspector_json::ProgramTitles::new(),
    }
}

pub fn router(db: &MemoryDatabase, config: Config) -> axum::Router {
    web::router(config, Arc::new(db.clone())).unwrap()
}
