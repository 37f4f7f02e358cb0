//! Who is asking, and may they: the LMS's JWT (cookies or header), the account in
//! `auth_user`, upstream's `has_access(user, 'support', 'global')`, and Django's CSRF check.

use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE, HOST, ORIGIN, REFERER};
use ports::Account;

use crate::csrf::{self, CsrfInput};
use crate::jwt::{JwtVerifier, TokenRefused, VerifiedToken};

/// The cookie holding the token's header and payload.
pub const HEADER_PAYLOAD_COOKIE: &str = "edx-jwt-cookie-header-payload";
/// The cookie holding the token's signature.
pub const SIGNATURE_COOKIE: &str = "edx-jwt-cookie-signature";

/// Where the token came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// None: neither `Authorization: JWT …` nor both cookies.
    None,
    /// `Authorization: JWT <token>`: no CSRF check.
    Header(String),
    /// The two cookies joined: a POST needs the CSRF check.
    Cookies(String),
}

/// The value of cookie `name` (the first one), as Django reads `Cookie`.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.trim().trim_matches('"'))
}

/// The request's credentials: the header first (as DRF-JWT reads it), else both cookies.
pub fn credentials(headers: &HeaderMap) -> Credentials {
    if let Some(value) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let mut parts = value.split_whitespace();
        if let (Some(scheme), Some(token), None) = (parts.next(), parts.next(), parts.next())
            && scheme.eq_ignore_ascii_case("jwt")
        {
            return Credentials::Header(token.to_owned());
        }
    }
    match (cookie(headers, HEADER_PAYLOAD_COOKIE), cookie(headers, SIGNATURE_COOKIE)) {
        (Some(header_payload), Some(signature)) if !header_payload.is_empty() && !signature.is_empty() => {
            Credentials::Cookies(format!("{header_payload}.{signature}"))
        }
        _ => Credentials::None,
    }
}

/// Why a request is refused before its work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No usable credentials: 401 (the page: a redirect to the login page).
    NotAuthenticated,
    /// A token in the `Authorization` header was refused: 401 with DRF-JWT's text.
    BadHeaderToken(&'static str),
    /// The CSRF check failed: 403 `CSRF Failed: <reason>`.
    Csrf(String),
    /// Authenticated but not allowed: 403 with an empty body.
    Forbidden,
}

/// Verifies the token of `credentials`. A cookie token that fails is forgiven (as
/// edx-drf-extensions does): the request is then unauthenticated.
///
/// # Errors
/// [`Refusal::NotAuthenticated`] or [`Refusal::BadHeaderToken`].
pub fn verify(verifier: &JwtVerifier, credentials: &Credentials) -> Result<VerifiedToken, Refusal> {
    match credentials {
        Credentials::None => Err(Refusal::NotAuthenticated),
        Credentials::Header(token) => verifier.verify(token).map_err(|refused| {
            tracing::info!(target: crate::state::LOG_TARGET, "refused the Authorization header's token: {refused}");
            match refused {
                TokenRefused::Expired => Refusal::BadHeaderToken("Signature has expired."),
                TokenRefused::Invalid(_) => Refusal::BadHeaderToken("Incorrect authentication credentials."),
            }
        }),
        Credentials::Cookies(token) => verifier.verify(token).map_err(|refused| {
            tracing::info!(target: crate::state::LOG_TARGET, "refused the JWT cookies' token: {refused}");
            Refusal::NotAuthenticated
        }),
    }
}

/// Upstream's `has_access(user, 'support', 'global')`: global staff (`is_staff`, active or
/// not), or an active user with a global `support` role.
pub fn may_use_support_tools(account: &Account) -> bool {
    account.is_staff || (account.is_active && account.global_support_role)
}

/// Whether the request came over HTTPS (the proxy's `X-Forwarded-Proto`, as the LMS's
/// `SECURE_PROXY_SSL_HEADER`).
pub fn is_secure(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// The service's own origin as the browser sees it: scheme and `Host`.
pub fn own_origin(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(HOST).and_then(|v| v.to_str().ok())?;
    Some(format!("{}://{host}", if is_secure(headers) { "https" } else { "http" }))
}

/// Django's CSRF check of a POST authenticated by cookies; `form_token` is the form's
/// `csrfmiddlewaretoken`, if the body has one.
///
/// # Errors
/// [`Refusal::Csrf`] with Django's reason.
pub fn check_csrf(headers: &HeaderMap, form_token: Option<&str>, trusted: &[String]) -> Result<(), Refusal> {
    let own = own_origin(headers);
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let input = CsrfInput {
        cookie: cookie(headers, csrf::COOKIE_NAME),
        form_token,
        header_token: header("x-csrftoken"),
        origin: headers.get(ORIGIN).and_then(|v| v.to_str().ok()),
        referer: headers.get(REFERER).and_then(|v| v.to_str().ok()),
        own_origin: own.as_deref(),
        secure: is_secure(headers),
    };
    csrf::check(&input, trusted).map_err(|reason| {
        tracing::info!(target: crate::state::LOG_TARGET, "refused a POST: CSRF Failed: {reason}");
        Refusal::Csrf(reason)
    })
}
