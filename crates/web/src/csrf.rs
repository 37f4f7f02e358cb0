//! Django's CSRF protection (`django.middleware.csrf`, 4.2), as the LMS applies it to a
//! cookie-authenticated POST: the `csrftoken` cookie holds a 32-character secret (or, as
//! Django before 4.0 wrote it, a 64-character masked token); the request's token (form field
//! `csrfmiddlewaretoken`, else header `X-CSRFToken`) is the secret itself or a masked token
//! (32 characters of mask, then the secret shifted by the mask). The `Origin` header, when
//! present, must be the service's own origin or a trusted one; over HTTPS without `Origin`,
//! the `Referer` must be.

/// The characters of secrets and masks.
pub const ALLOWED_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
/// The length of a secret.
pub const SECRET_LENGTH: usize = 32;
/// The length of a masked token.
pub const TOKEN_LENGTH: usize = 64;
/// The cookie's name.
pub const COOKIE_NAME: &str = "csrftoken";
/// The form field's name.
pub const FORM_FIELD: &str = "csrfmiddlewaretoken";

/// Django's `REASON_NO_CSRF_COOKIE`.
pub const REASON_NO_CSRF_COOKIE: &str = "CSRF cookie not set.";
/// Django's `REASON_CSRF_TOKEN_MISSING`.
pub const REASON_CSRF_TOKEN_MISSING: &str = "CSRF token missing.";
/// Django's `REASON_NO_REFERER`.
pub const REASON_NO_REFERER: &str = "Referer checking failed - no Referer.";
/// Django's `REASON_MALFORMED_REFERER`.
pub const REASON_MALFORMED_REFERER: &str = "Referer checking failed - Referer is malformed.";
/// Django's `REASON_INSECURE_REFERER`.
pub const REASON_INSECURE_REFERER: &str = "Referer checking failed - Referer is insecure while host is secure.";

fn index(c: u8) -> Option<usize> {
    ALLOWED_CHARS.iter().position(|&a| a == c)
}

/// Why a token or secret has the wrong form (Django's `InvalidTokenFormat` reasons).
fn format_problem(token: &str) -> Option<&'static str> {
    if token.len() != SECRET_LENGTH && token.len() != TOKEN_LENGTH {
        return Some("has incorrect length");
    }
    if !token.bytes().all(|b| index(b).is_some()) {
        return Some("has invalid characters");
    }
    None
}

/// Django's `_unmask_cipher_token`: the secret of a 64-character masked token.
pub fn unmask(token: &str) -> Option<String> {
    if token.len() != TOKEN_LENGTH || format_problem(token).is_some() {
        return None;
    }
    let (mask, cipher) = token.as_bytes().split_at(SECRET_LENGTH);
    let n = ALLOWED_CHARS.len();
    cipher.iter().zip(mask).map(|(&c, &m)| Some(char::from(ALLOWED_CHARS[(index(c)? + n - index(m)?) % n]))).collect()
}

/// Django's `_mask_cipher_secret`: `secret` masked with `mask` (both 32 allowed characters).
pub fn mask_with(secret: &str, mask: &str) -> Option<String> {
    if secret.len() != SECRET_LENGTH || mask.len() != SECRET_LENGTH {
        return None;
    }
    let n = ALLOWED_CHARS.len();
    let cipher: Option<String> = secret
        .bytes()
        .zip(mask.bytes())
        .map(|(s, m)| Some(char::from(ALLOWED_CHARS[(index(s)? + index(m)?) % n])))
        .collect();
    Some(format!("{mask}{}", cipher?))
}

/// 32 random allowed characters.
pub fn random_string() -> String {
    let mut bytes = [0u8; SECRET_LENGTH];
    // Without an entropy source there is no safe token: fall back to the clock would be
    // guessable, so an error leaves zeros, which `getrandom` never fails to fill on Linux.
    let _ = getrandom::fill(&mut bytes);
    // 62 * 4 = 248: reject-free mapping would bias slightly; Django uses `secrets.choice`.
    // Re-draw the few bytes at or above 248 for uniform characters.
    let mut out = String::with_capacity(SECRET_LENGTH);
    let mut pool = bytes.to_vec();
    while out.len() < SECRET_LENGTH {
        match pool.pop() {
            Some(b) if usize::from(b) < ALLOWED_CHARS.len() * 4 => {
                out.push(char::from(ALLOWED_CHARS[usize::from(b) % ALLOWED_CHARS.len()]));
            }
            Some(_) => {}
            None => {
                let mut more = [0u8; SECRET_LENGTH];
                let _ = getrandom::fill(&mut more);
                pool.extend_from_slice(&more);
            }
        }
    }
    out
}

/// A new masked token for `secret` (Django's `get_token`).
pub fn masked_token(secret: &str) -> String {
    mask_with(secret, &random_string()).unwrap_or_else(|| secret.to_owned())
}

/// The secret of a cookie value: `Ok(None)` without a cookie, `Err(reason)` for a malformed one.
pub fn cookie_secret(cookie: Option<&str>) -> Result<Option<String>, &'static str> {
    let Some(cookie) = cookie else { return Ok(None) };
    if let Some(problem) = format_problem(cookie) {
        return Err(problem);
    }
    if cookie.len() == TOKEN_LENGTH {
        return Ok(unmask(cookie));
    }
    Ok(Some(cookie.to_owned()))
}

/// Constant-time equality of two strings.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What a POST carries for the check.
#[derive(Debug, Clone, Default)]
pub struct CsrfInput<'a> {
    /// The `csrftoken` cookie.
    pub cookie: Option<&'a str>,
    /// The form's `csrfmiddlewaretoken` (the page's POST); empty counts as absent.
    pub form_token: Option<&'a str>,
    /// The `X-CSRFToken` header.
    pub header_token: Option<&'a str>,
    /// The `Origin` header.
    pub origin: Option<&'a str>,
    /// The `Referer` header.
    pub referer: Option<&'a str>,
    /// The service's own origin, `scheme://host` from the request.
    pub own_origin: Option<&'a str>,
    /// Whether the request came over HTTPS.
    pub secure: bool,
}

/// Django's `CsrfViewMiddleware.process_view` for a POST: `Err(reason)` with Django's text.
pub fn check(input: &CsrfInput<'_>, trusted: &[String]) -> Result<(), String> {
    if let Some(origin) = input.origin {
        let own = input.own_origin.is_some_and(|own| own == origin);
        if !own && !trusted.iter().any(|t| t == origin) {
            return Err(format!("Origin checking failed - {origin} does not match any trusted origins."));
        }
    } else if input.secure {
        check_referer(input, trusted)?;
    }
    let secret = match cookie_secret(input.cookie) {
        Ok(Some(secret)) => secret,
        Ok(None) => return Err(REASON_NO_CSRF_COOKIE.to_owned()),
        Err(problem) => return Err(format!("CSRF cookie {problem}.")),
    };
    let (token, source) = match input.form_token.filter(|t| !t.is_empty()) {
        Some(token) => (token, "POST".to_owned()),
        None => match input.header_token {
            Some(token) => (token, "the 'X-Csrftoken' HTTP header".to_owned()),
            None => return Err(REASON_CSRF_TOKEN_MISSING.to_owned()),
        },
    };
    if let Some(problem) = format_problem(token) {
        return Err(format!("CSRF token from {source} {problem}."));
    }
    let candidate = if token.len() == TOKEN_LENGTH { unmask(token).unwrap_or_default() } else { token.to_owned() };
    if !same(&candidate, &secret) {
        return Err(format!("CSRF token from {source} incorrect."));
    }
    Ok(())
}

fn check_referer(input: &CsrfInput<'_>, trusted: &[String]) -> Result<(), String> {
    let Some(referer) = input.referer else { return Err(REASON_NO_REFERER.to_owned()) };
    let Some((scheme, rest)) = referer.split_once("://") else { return Err(REASON_MALFORMED_REFERER.to_owned()) };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if scheme.is_empty() || host.is_empty() {
        return Err(REASON_MALFORMED_REFERER.to_owned());
    }
    if scheme != "https" {
        return Err(REASON_INSECURE_REFERER.to_owned());
    }
    let origin = format!("https://{host}");
    let own = input.own_origin.is_some_and(|own| own == origin);
    if !own && !trusted.contains(&origin) {
        return Err(format!("Referer checking failed - {referer} does not match any trusted origins."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "abcdefghijklmnopqrstuvwxyzABCDEF";

    fn post<'a>(cookie: Option<&'a str>, header: Option<&'a str>) -> CsrfInput<'a> {
        CsrfInput { cookie, header_token: header, own_origin: Some("http://lms"), ..CsrfInput::default() }
    }

    #[test]
    fn masking_round_trips_and_matches_django() {
        // Django 4.2: _mask_cipher_secret with mask "0"*32... computed by hand: index('0') = 52.
        let mask = "a".repeat(32);
        assert_eq!(mask_with(SECRET, &mask).as_deref(), Some(format!("{mask}{SECRET}").as_str()));
        for _ in 0..20 {
            let token = masked_token(SECRET);
            assert_eq!(token.len(), 64);
            assert_eq!(unmask(&token).as_deref(), Some(SECRET));
        }
        assert_eq!(random_string().len(), 32);
        assert_ne!(random_string(), random_string());
    }

    #[test]
    fn a_matching_masked_or_plain_token_passes() {
        let token = masked_token(SECRET);
        assert_eq!(check(&post(Some(SECRET), Some(&token)), &[]), Ok(()));
        assert_eq!(check(&post(Some(SECRET), Some(SECRET)), &[]), Ok(()));
        // A masked cookie, as Django before 4.0 wrote it.
        assert_eq!(check(&post(Some(&masked_token(SECRET)), Some(&token)), &[]), Ok(()));
    }

    #[test]
    fn django_reasons() {
        assert_eq!(check(&post(None, Some(SECRET)), &[]), Err("CSRF cookie not set.".into()));
        assert_eq!(check(&post(Some("short"), Some(SECRET)), &[]), Err("CSRF cookie has incorrect length.".into()));
        assert_eq!(check(&post(Some(SECRET), None), &[]), Err("CSRF token missing.".into()));
        assert_eq!(
            check(&post(Some(SECRET), Some("x")), &[]),
            Err("CSRF token from the 'X-Csrftoken' HTTP header has incorrect length.".into())
        );
        assert_eq!(
            check(&post(Some(SECRET), Some(&"!".repeat(32))), &[]),
            Err("CSRF token from the 'X-Csrftoken' HTTP header has invalid characters.".into())
        );
        assert_eq!(
            check(&post(Some(SECRET), Some(&"b".repeat(32))), &[]),
            Err("CSRF token from the 'X-Csrftoken' HTTP header incorrect.".into())
        );
        let form = CsrfInput { form_token: Some("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"), ..post(Some(SECRET), None) };
        assert_eq!(check(&form, &[]), Err("CSRF token from POST incorrect.".into()));
    }

    #[test]
    fn origin_must_be_own_or_trusted() {
        let token = masked_token(SECRET);
        let from = |origin| CsrfInput { origin: Some(origin), ..post(Some(SECRET), Some(&token)) };
        assert_eq!(check(&from("http://lms"), &[]), Ok(()));
        assert_eq!(check(&from("http://mfe"), &["http://mfe".to_owned()]), Ok(()));
        assert_eq!(
            check(&from("http://evil"), &["http://mfe".to_owned()]),
            Err("Origin checking failed - http://evil does not match any trusted origins.".into())
        );
        let secure = CsrfInput { secure: true, own_origin: Some("https://lms"), ..post(Some(SECRET), Some(&token)) };
        assert_eq!(check(&secure, &[]), Err(REASON_NO_REFERER.into()));
        let referred = CsrfInput { referer: Some("https://lms/support/x"), ..secure };
        assert_eq!(check(&referred, &[]), Ok(()));
    }
}
