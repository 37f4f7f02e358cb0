//! The harness: the server process, the LMS's keys and tokens, the MFE's requests, and the
//! fixtures on a throw-away database.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use acceptance::sea::env_or_skip_for;
use acceptance::{SeaTestDatabase, Target, TestDatabase};
use adapters_seaorm::Backend;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::{CurriculumUuid, ProgramUuid, UserId};
use sea_orm::{ConnectionTrait, Statement, Value};
use serde_json::{Value as Json, json};

/// The issuer the LMS puts in its tokens (`JWT_ISSUER`).
pub const ISSUER: &str = "http://lms.test/oauth2";
/// A second accepted issuer (`--jwt-issuer` given twice).
pub const OTHER_ISSUER: &str = "http://studio.test/oauth2";
/// The audience (`JWT_AUDIENCE`).
pub const AUDIENCE: &str = "openedx";
/// The support MFE's origin (`--allowed-origin`).
pub const MFE_ORIGIN: &str = "http://apps.lms.test:1994";
/// An origin nobody allowed.
pub const FOREIGN_ORIGIN: &str = "http://evil.test";
/// The login page (`--login-url`).
pub const LOGIN_URL: &str = "http://lms.test/login";
/// The API path, as the MFE calls it.
pub const API: &str = "/support/link_program_enrollments_details/";
/// The page.
pub const PAGE: &str = "/support/link_program_enrollments";
/// `401` body without credentials.
pub const NO_CREDENTIALS: &str = "Authentication credentials were not provided.";
/// Validation message: a field missing or empty.
pub const MSG_BOTH: &str =
    "You must provide both a program uuid and a series of lines with the format 'external_user_key,lms_username'.";
/// Validation message: a line without key or username.
pub const MSG_LINES: &str = "All linking lines must be in the format 'external_user_key,lms_username'";
/// Validation message: not a UUID.
pub fn msg_uuid(value: &str) -> String {
    format!("Supplied program UUID '{value}' is not a valid UUID.")
}

/// The longest a test waits for the server to say where it listens.
const START_TIMEOUT: Duration = Duration::from_secs(60);

// ------------------------------------------------------------------------------------------
// Keys and tokens
// ------------------------------------------------------------------------------------------

/// The LMS's signing key pair and its JWKS, a second key pair (same `kid`) for forged
/// signatures, and a shared HS256 secret; made once per test run with `openssl` in the
/// target's temporary directory (test-only keys: nothing is committed).
pub struct Keys {
    /// The folder.
    pub dir: PathBuf,
    /// The LMS's private key (PEM).
    pub private_pem: PathBuf,
    /// Its public key (PEM): what an algorithm-confusion attacker would use as an HS256 secret.
    pub public_pem: PathBuf,
    /// Another private key.
    pub other_private_pem: PathBuf,
    /// The JWKS file (`JWT_PUBLIC_SIGNING_JWK_SET`).
    pub jwks_path: PathBuf,
    /// Its contents.
    pub jwks: String,
    /// The modulus, big-endian bytes.
    pub modulus: Vec<u8>,
    /// The HS256 secret file (`--jwt-secret-file`).
    pub secret_path: PathBuf,
    /// Its contents.
    pub secret: Vec<u8>,
}

fn openssl(args: &[&str], input: Option<&[u8]>) -> Vec<u8> {
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("openssl {args:?}: {e} (the tests need the openssl command)"));
    if let Some(input) = input {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn hex_decode(hex: &str) -> Vec<u8> {
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The keys of this test run.
pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("serve-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = |name: &str| dir.join(name);
        let (private_pem, public_pem, other_private_pem) =
            (path("lms-private.pem"), path("lms-public.pem"), path("other-private.pem"));
        for key in [&private_pem, &other_private_pem] {
            openssl(
                &["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key.to_str().unwrap()],
                None,
            );
        }
        openssl(&["pkey", "-in", private_pem.to_str().unwrap(), "-pubout", "-out", public_pem.to_str().unwrap()], None);
        let modulus =
            String::from_utf8(openssl(&["rsa", "-in", private_pem.to_str().unwrap(), "-noout", "-modulus"], None))
                .unwrap();
        let modulus = hex_decode(modulus.trim().trim_start_matches("Modulus="));
        // As Tutor writes it: one RSA key, `kid` "openedx", `e` 65537.
        let jwks = json!({"keys": [{
            "kty": "RSA", "kid": "openedx", "use": "sig", "alg": "RS512",
            "n": URL_SAFE_NO_PAD.encode(&modulus), "e": "AQAB",
        }]})
        .to_string();
        let jwks_path = path("jwks.json");
        std::fs::write(&jwks_path, &jwks).unwrap();
        let secret = format!("hs256-test-secret-{}", uuid::Uuid::new_v4().simple()).into_bytes();
        let secret_path = path("jwt-secret");
        std::fs::write(&secret_path, &secret).unwrap();
        Keys { dir, private_pem, public_pem, other_private_pem, jwks_path, jwks, modulus, secret_path, secret }
    })
}

/// How a token is signed.
#[derive(Debug, Clone)]
pub enum Signer {
    /// RS256 / RS512 with a private key (PEM file).
    Rsa { bits: u16, key: PathBuf },
    /// HS256 / HS512 with a secret.
    Hmac { bits: u16, secret: Vec<u8> },
    /// `alg: none` (the given spelling), empty signature.
    None(&'static str),
}

impl Signer {
    /// RS512 with the LMS's key, as the LMS signs its cookie JWTs.
    pub fn lms() -> Self {
        Signer::Rsa { bits: 512, key: keys().private_pem.clone() }
    }

    fn alg(&self) -> String {
        match self {
            Signer::Rsa { bits, .. } => format!("RS{bits}"),
            Signer::Hmac { bits, .. } => format!("HS{bits}"),
            Signer::None(spelling) => (*spelling).to_owned(),
        }
    }

    fn sign(&self, input: &[u8]) -> Vec<u8> {
        match self {
            Signer::Rsa { bits, key } => {
                openssl(&["dgst", &format!("-sha{bits}"), "-sign", key.to_str().unwrap(), "-binary"], Some(input))
            }
            Signer::Hmac { bits, secret } => openssl(
                &[
                    "dgst",
                    &format!("-sha{bits}"),
                    "-mac",
                    "HMAC",
                    "-macopt",
                    &format!("hexkey:{}", hex_encode(secret)),
                    "-binary",
                ],
                Some(input),
            ),
            Signer::None(_) => Vec::new(),
        }
    }
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A JWT's header and claims, to tweak before signing.
#[derive(Debug, Clone)]
pub struct Jwt {
    /// The JOSE header (`alg` is set by the signer).
    pub header: Json,
    /// The claims.
    pub claims: Json,
}

impl Jwt {
    /// The claims the LMS puts in a cookie JWT for `username` (`oauth_dispatch/jwt.py`, the
    /// three scopes `user_id`, `email`, `profile`), valid for an hour from now.
    pub fn lms(username: &str) -> Jwt {
        let now = now();
        Jwt {
            header: json!({"typ": "JWT", "kid": "openedx"}),
            claims: json!({
                "aud": AUDIENCE,
                "exp": now + 3600,
                "grant_type": "password",
                "iat": now,
                "iss": ISSUER,
                "preferred_username": username,
                "scopes": ["user_id", "email", "profile"],
                "version": "1.2.0",
                "sub": format!("anon-{}", uuid::Uuid::new_v4().simple()),
                "filters": ["user:me"],
                "is_restricted": false,
                "email_verified": true,
                "user_id": 1,
                "email": format!("{username}@example.com"),
                "name": "",
                "family_name": "",
                "given_name": "",
                "administrator": true,
                "superuser": false,
            }),
        }
    }

    /// Sets a claim.
    pub fn with(mut self, claim: &str, value: Json) -> Self {
        self.claims[claim] = value;
        self
    }

    /// Removes a claim.
    pub fn without(mut self, claim: &str) -> Self {
        self.claims.as_object_mut().unwrap().remove(claim);
        self
    }

    /// Signs with `signer`: `header.payload.signature`.
    pub fn sign(&self, signer: &Signer) -> String {
        let mut header = self.header.clone();
        header["alg"] = Json::String(signer.alg());
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(self.claims.to_string())
        );
        let signature = URL_SAFE_NO_PAD.encode(signer.sign(input.as_bytes()));
        format!("{input}.{signature}")
    }

    /// Signed as the LMS signs (RS512, its key).
    pub fn token(&self) -> String {
        self.sign(&Signer::lms())
    }
}

/// The two LMS cookies of a token: `edx-jwt-cookie-header-payload` and `edx-jwt-cookie-signature`.
pub fn jwt_cookies(token: &str) -> String {
    let (header_payload, signature) = token.rsplit_once('.').unwrap();
    format!("edx-jwt-cookie-header-payload={header_payload}; edx-jwt-cookie-signature={signature}")
}

// ------------------------------------------------------------------------------------------
// CSRF tokens, as Django makes them
// ------------------------------------------------------------------------------------------

/// Django's `CSRF_ALLOWED_CHARS`.
pub const CSRF_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// `n` random characters of [`CSRF_CHARS`].
pub fn random_csrf_chars(n: usize) -> String {
    let mut out = String::new();
    while out.len() < n {
        for b in uuid::Uuid::new_v4().as_bytes() {
            if out.len() < n {
                out.push(CSRF_CHARS[usize::from(*b) % CSRF_CHARS.len()] as char);
            }
        }
    }
    out
}

/// A new 32-character secret (what Django 4 keeps in the `csrftoken` cookie).
pub fn csrf_secret() -> String {
    random_csrf_chars(32)
}

/// Django's `_mask_cipher_secret`: a random 32-character mask followed by the secret shifted
/// by it (64 characters, what `get_token` hands to the page and `/csrf/api/v1/token`).
pub fn csrf_mask(secret: &str) -> String {
    let mask = random_csrf_chars(32);
    let index = |c: u8| CSRF_CHARS.iter().position(|x| *x == c).unwrap();
    let cipher: String = secret
        .bytes()
        .zip(mask.bytes())
        .map(|(s, m)| CSRF_CHARS[(index(s) + index(m)) % CSRF_CHARS.len()] as char)
        .collect();
    format!("{mask}{cipher}")
}

// ------------------------------------------------------------------------------------------
// The server process
// ------------------------------------------------------------------------------------------

/// The binary under test.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_program-enrollments"))
}

/// The target directory (`target/`).
pub fn target_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().to_owned()
}

/// A command for the binary with none of the caller's configuration (`DATABASE_URL`,
/// `RUST_LOG`, `PROGRAM_ENROLLMENTS_*`) leaking in.
pub fn command() -> Command {
    let mut cmd = Command::new(binary());
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        if name == "DATABASE_URL" || name == "RUST_LOG" || name.starts_with("PROGRAM_ENROLLMENTS_") {
            cmd.env_remove(name);
        }
    }
    cmd.stdin(Stdio::null());
    cmd
}

/// How to start `serve`.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// `--database-url`.
    pub database_url: String,
    /// `--jwt-jwks` (the run's JWKS) when true.
    pub jwks: bool,
    /// `--jwt-secret-file` (the run's secret) when true.
    pub secret_file: bool,
    /// `--jwt-issuer`, each.
    pub issuers: Vec<String>,
    /// `--allowed-origin`, each.
    pub allowed_origins: Vec<String>,
    /// `--login-url`.
    pub login_url: Option<String>,
    /// Further arguments.
    pub extra: Vec<String>,
    /// `RUST_LOG`.
    pub rust_log: Option<String>,
}

impl ServeOptions {
    /// The JWKS, both issuers, the audience, the MFE's origin, the login URL.
    pub fn new(database_url: &str) -> Self {
        ServeOptions {
            database_url: database_url.to_owned(),
            jwks: true,
            secret_file: false,
            issuers: vec![ISSUER.to_owned(), OTHER_ISSUER.to_owned()],
            allowed_origins: vec![MFE_ORIGIN.to_owned()],
            login_url: Some(LOGIN_URL.to_owned()),
            extra: Vec::new(),
            rust_log: None,
        }
    }

    /// Adds arguments.
    pub fn arg(mut self, args: &[&str]) -> Self {
        self.extra.extend(args.iter().map(|a| (*a).to_owned()));
        self
    }

    /// The command line after the binary's name.
    pub fn args(&self) -> Vec<String> {
        let mut args: Vec<String> = vec![
            "serve".into(),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--database-url".into(),
            self.database_url.clone(),
        ];
        let keys = keys();
        if self.jwks {
            args.extend(["--jwt-jwks".into(), keys.jwks_path.display().to_string()]);
        }
        if self.secret_file {
            args.extend(["--jwt-secret-file".into(), keys.secret_path.display().to_string()]);
        }
        for issuer in &self.issuers {
            args.extend(["--jwt-issuer".into(), issuer.clone()]);
        }
        args.extend(["--jwt-audience".into(), AUDIENCE.into()]);
        for origin in &self.allowed_origins {
            args.extend(["--allowed-origin".into(), origin.clone()]);
        }
        if let Some(login) = &self.login_url {
            args.extend(["--login-url".into(), login.clone()]);
        }
        args.extend(self.extra.iter().cloned());
        args
    }

    /// Starts the server.
    pub fn start(&self) -> Server {
        Server::start(self)
    }
}

/// A running `program-enrollments serve`, killed on drop.
pub struct Server {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// `http://ADDR`.
    pub base: String,
    log: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
    exited: Option<ExitStatus>,
}

impl Server {
    fn start(options: &ServeOptions) -> Server {
        let mut cmd = command();
        cmd.args(options.args()).stdout(Stdio::null()).stderr(Stdio::piped());
        if let Some(filter) = &options.rust_log {
            cmd.env("RUST_LOG", filter);
        }
        let mut child = cmd.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel::<String>();
        let reader = {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stderr);
                let mut line = Vec::new();
                loop {
                    line.clear();
                    match reader.read_until(b'\n', &mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {
                            let text = String::from_utf8_lossy(&line).into_owned();
                            if let Some(rest) = text.split("listening on http://").nth(1) {
                                let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_owned());
                            }
                            log.lock().unwrap().push_str(&text);
                        }
                    }
                }
            })
        };
        let started = Instant::now();
        let addr = loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(addr) => break addr,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Some(status) = child.try_wait().unwrap() {
                        let _ = reader.join();
                        panic!(
                            "serve exited ({status}) before listening: {}\nstderr:\n{}",
                            options.args().join(" "),
                            log.lock().unwrap()
                        );
                    }
                    if started.elapsed() > START_TIMEOUT {
                        let _ = child.kill();
                        panic!(
                            "serve did not say `listening on http://ADDR` within {START_TIMEOUT:?}:\n{}",
                            log.lock().unwrap()
                        );
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = child.wait().unwrap();
                    panic!("serve closed standard error ({status}) before listening:\n{}", log.lock().unwrap());
                }
            }
        };
        let addr: SocketAddr =
            addr.trim_end_matches('/').parse().unwrap_or_else(|e| panic!("`listening on http://{addr}`: {e}"));
        assert_ne!(addr.port(), 0, "`--listen 127.0.0.1:0` must report the port it picked");
        Server { child, addr, base: format!("http://{addr}"), log, reader: Some(reader), exited: None }
    }

    /// `http://ADDR{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Everything it wrote to standard error so far.
    pub fn stderr(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM.
    pub fn sigterm(&self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits for the process to exit (at most `timeout`); `None` if it is still running.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                if let Some(reader) = self.reader.take() {
                    let _ = reader.join();
                }
                self.exited = Some(status);
                return Some(status);
            }
            if start.elapsed() > timeout {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Panics if standard error shows a panic.
    pub fn assert_no_panic(&self) {
        let log = self.stderr();
        assert!(!log.contains("panicked"), "the server panicked:\n{log}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.exited.is_none() && self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

// ------------------------------------------------------------------------------------------
// Requests
// ------------------------------------------------------------------------------------------

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status.
    pub status: u16,
    /// The headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body as text.
    pub body: String,
}

impl Reply {
    /// The body as JSON (panics with the body if it is not).
    pub fn json(&self) -> Json {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).map(|v| v.to_str().unwrap_or("<not text>").to_owned())
    }

    /// Asserts the status and the JSON body.
    pub fn assert_json(&self, status: u16, body: &Json, what: &str) {
        assert_eq!(self.status, status, "{what}: status; body {}", self.body);
        assert_eq!(&self.json(), body, "{what}: body");
    }

    /// Asserts `{"detail": detail}` with `status`.
    pub fn assert_detail(&self, status: u16, detail: &str, what: &str) {
        self.assert_json(status, &json!({ "detail": detail }), what);
    }

    /// Asserts 403 with an empty body.
    pub fn assert_forbidden_empty(&self, what: &str) {
        assert_eq!(self.status, 403, "{what}: status; body {}", self.body);
        assert_eq!(self.body, "", "{what}: 403 has an empty body");
    }
}

/// Reads a reqwest response whole.
pub async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap();
    Reply { status, headers, body }
}

/// A client that follows no redirect and keeps no cookie: every header is the test's.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(600))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

/// The form fields of a link POST.
#[derive(Debug, Clone, Default)]
pub struct Fields {
    /// `program_uuid`, if sent.
    pub program_uuid: Option<String>,
    /// `username_pair_text`, if sent.
    pub username_pair_text: Option<String>,
}

impl Fields {
    /// Both fields, as given.
    pub fn new(program_uuid: &str, text: &str) -> Self {
        Fields { program_uuid: Some(program_uuid.to_owned()), username_pair_text: Some(text.to_owned()) }
    }

    /// As the MFE fills them: an empty input is JS `undefined`, which `FormData.append`
    /// sends as the text `undefined`.
    pub fn mfe(program_uuid: &str, text: &str) -> Self {
        let js = |v: &str| if v.is_empty() { "undefined".to_owned() } else { v.to_owned() };
        Fields { program_uuid: Some(js(program_uuid)), username_pair_text: Some(js(text)) }
    }

    fn multipart(&self) -> reqwest::multipart::Form {
        let mut form = reqwest::multipart::Form::new();
        if let Some(v) = &self.program_uuid {
            form = form.text("program_uuid", v.clone());
        }
        if let Some(v) = &self.username_pair_text {
            form = form.text("username_pair_text", v.clone());
        }
        form
    }

    /// `application/x-www-form-urlencoded`.
    pub fn urlencoded(&self) -> String {
        let mut parts = Vec::new();
        if let Some(v) = &self.program_uuid {
            parts.push(format!("program_uuid={}", form_encode(v)));
        }
        if let Some(v) = &self.username_pair_text {
            parts.push(format!("username_pair_text={}", form_encode(v)));
        }
        parts.join("&")
    }
}

/// `application/x-www-form-urlencoded` encoding of one value.
pub fn form_encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// What a caller sends besides the form: the credentials and the headers around them.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The JWT, sent as the two LMS cookies.
    pub cookie_token: Option<String>,
    /// Only the header.payload cookie (the signature cookie left out).
    pub half_cookie: bool,
    /// `Authorization: JWT <token>`.
    pub header_token: Option<String>,
    /// The `csrftoken` cookie.
    pub csrf_cookie: Option<String>,
    /// `X-CSRFToken`.
    pub csrf_header: Option<String>,
    /// `Origin`.
    pub origin: Option<String>,
    /// `USE-JWT-COOKIE: true`.
    pub use_jwt_cookie: bool,
}

impl Caller {
    /// The MFE for `token`: the two cookies, `USE-JWT-COOKIE`, a `csrftoken` cookie and the
    /// masked token in `X-CSRFToken` (as `/csrf/api/v1/token` hands it out), its `Origin`.
    pub fn mfe(token: &str) -> Caller {
        let secret = csrf_secret();
        Caller {
            cookie_token: Some(token.to_owned()),
            half_cookie: false,
            header_token: None,
            csrf_header: Some(csrf_mask(&secret)),
            csrf_cookie: Some(secret),
            origin: Some(MFE_ORIGIN.to_owned()),
            use_jwt_cookie: true,
        }
    }

    /// The MFE with no JWT cookie at all (logged out), CSRF as usual.
    pub fn anonymous() -> Caller {
        Caller { cookie_token: None, ..Caller::mfe("x.y.z") }
    }

    /// A script: `Authorization: JWT <token>`, no cookie, no CSRF token, no `Origin`.
    pub fn script(token: &str) -> Caller {
        Caller {
            cookie_token: None,
            half_cookie: false,
            header_token: Some(token.to_owned()),
            csrf_cookie: None,
            csrf_header: None,
            origin: None,
            use_jwt_cookie: false,
        }
    }

    /// Every secret this caller sends (to look for in logs).
    pub fn secrets(&self) -> Vec<String> {
        let mut out = Vec::new();
        for token in [&self.cookie_token, &self.header_token].into_iter().flatten() {
            let (header_payload, signature) = token.rsplit_once('.').unwrap();
            out.extend([header_payload.to_owned(), signature.to_owned()]);
        }
        out.extend(self.csrf_cookie.iter().cloned());
        out.extend(self.csrf_header.iter().cloned());
        out.retain(|s| s.len() >= 16);
        out
    }

    /// Applies the headers to a request.
    pub fn apply(&self, mut request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let mut cookies = Vec::new();
        if let Some(token) = &self.cookie_token {
            if self.half_cookie {
                cookies.push(format!("edx-jwt-cookie-header-payload={}", token.rsplit_once('.').unwrap().0));
            } else {
                cookies.push(jwt_cookies(token));
            }
        }
        if let Some(csrf) = &self.csrf_cookie {
            cookies.push(format!("csrftoken={csrf}"));
        }
        if !cookies.is_empty() {
            request = request.header("Cookie", cookies.join("; "));
        }
        if let Some(token) = &self.header_token {
            request = request.header("Authorization", format!("JWT {token}"));
        }
        if let Some(csrf) = &self.csrf_header {
            request = request.header("X-CSRFToken", csrf);
        }
        if let Some(origin) = &self.origin {
            request = request.header("Origin", origin);
        }
        if self.use_jwt_cookie {
            request = request.header("USE-JWT-COOKIE", "true");
        }
        request.header("Accept", "application/json, text/plain, */*")
    }

    /// POSTs the link form as multipart `FormData` to [`API`].
    pub async fn link(&self, server: &Server, fields: &Fields) -> Reply {
        self.link_at(server, API, fields).await
    }

    /// POSTs the link form as multipart to `path`.
    pub async fn link_at(&self, server: &Server, path: &str, fields: &Fields) -> Reply {
        let request = self.apply(http().post(server.url(path))).multipart(fields.multipart());
        reply(request.send().await.unwrap_or_else(|e| panic!("POST {path}: {e}\n{}", server.stderr()))).await
    }

    /// POSTs the link form URL-encoded to [`API`].
    pub async fn link_urlencoded(&self, server: &Server, fields: &Fields) -> Reply {
        let request = self
            .apply(http().post(server.url(API)))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(fields.urlencoded());
        reply(request.send().await.unwrap()).await
    }

    /// POSTs a raw body with a content type to [`API`].
    pub async fn post_raw(&self, server: &Server, content_type: &str, body: Vec<u8>) -> Reply {
        let request = self.apply(http().post(server.url(API))).header("Content-Type", content_type).body(body);
        reply(request.send().await.unwrap()).await
    }

    /// GETs `path`.
    pub async fn get(&self, server: &Server, path: &str) -> Reply {
        reply(self.apply(http().get(server.url(path))).send().await.unwrap()).await
    }
}

/// `GET /health` answers 200 `ok`.
pub async fn assert_healthy(server: &Server) {
    let response = http().get(server.url("/health")).send().await.unwrap_or_else(|e| {
        panic!("/health after the request: {e}\nstderr:\n{}", server.stderr());
    });
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    assert_eq!((status, body.trim()), (200, "ok"), "/health");
}

/// Writes `head` then `body` on a raw connection (from another thread, so that an answer
/// sent before the server has read everything is still seen) and reads the status line of
/// the answer; `None` if the server closed the connection without one within `timeout`.
pub fn raw_status(addr: SocketAddr, head: Vec<u8>, body: Vec<u8>, timeout: Duration) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(timeout)).unwrap();
    let mut writer = stream.try_clone().unwrap();
    writer.set_write_timeout(Some(timeout)).unwrap();
    // The server may answer and close before it has read everything: write errors are expected.
    let write = std::thread::spawn(move || {
        let _ = writer.write_all(&head);
        for chunk in body.chunks(64 * 1024) {
            if writer.write_all(chunk).is_err() {
                break;
            }
        }
    });
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                buffer.extend_from_slice(&chunk[..n]);
                if buffer.windows(2).any(|w| w == b"\r\n") {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
    let _ = write.join();
    let text = String::from_utf8_lossy(&buffer);
    let line = text.lines().next()?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The request head of a POST to [`API`] with `caller`'s cookies and headers, and `extra`
/// header lines (each ending in CRLF).
pub fn raw_head(server: &Server, caller: &Caller, extra: &str) -> Vec<u8> {
    let mut head = format!("POST {API} HTTP/1.1\r\nHost: {}\r\n", server.addr);
    let mut cookies = Vec::new();
    if let Some(token) = &caller.cookie_token {
        cookies.push(jwt_cookies(token));
    }
    if let Some(csrf) = &caller.csrf_cookie {
        cookies.push(format!("csrftoken={csrf}"));
    }
    if !cookies.is_empty() {
        head.push_str(&format!("Cookie: {}\r\n", cookies.join("; ")));
    }
    if let Some(csrf) = &caller.csrf_header {
        head.push_str(&format!("X-CSRFToken: {csrf}\r\n"));
    }
    if let Some(origin) = &caller.origin {
        head.push_str(&format!("Origin: {origin}\r\n"));
    }
    head.push_str("USE-JWT-COOKIE: true\r\n");
    head.push_str(extra);
    head.push_str("\r\n");
    head.into_bytes()
}

// ------------------------------------------------------------------------------------------
// Databases and fixtures
// ------------------------------------------------------------------------------------------

/// A throw-away database of `target` (skipped, or failed with `REQUIRE_DB_TESTS=1`, when its
/// server is not configured).
pub async fn database(target: Target) -> Option<SeaTestDatabase> {
    SeaTestDatabase::create(target).await
}

/// Runs `sql` with `?` placeholders (rewritten to `$n` on PostgreSQL).
pub async fn exec(db: &SeaTestDatabase, sql: &str, values: Vec<Value>) {
    db.execute(&placeholders(db.backend(), sql), values).await;
}

fn placeholders(backend: Backend, sql: &str) -> String {
    if backend != Backend::Postgres {
        return sql.to_owned();
    }
    let mut out = String::new();
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

/// One integer from a query.
pub async fn count(db: &SeaTestDatabase, sql: &str) -> i64 {
    let conn = db.connection();
    let row = conn
        .query_one_raw(Statement::from_string(conn.get_database_backend(), sql.to_owned()))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The admin URL of a server target's environment variable, or `None` (skipped) for SQLite.
pub fn server_url(target: Target, what: &str) -> Option<String> {
    match target {
        Target::Postgres => env_or_skip_for("TEST_POSTGRES_URL", what),
        Target::MySql => env_or_skip_for("TEST_MYSQL_URL", what),
        _ => None,
    }
}

/// The kinds of users the security cases need, and the staff user who acts.
pub struct People {
    /// `support_staff`: `is_staff`.
    pub staff: UserId,
    /// `plain_user`: active, not staff, no role.
    pub plain: UserId,
    /// `support_role`: active, a global `support` role.
    pub support: UserId,
    /// `inactive_support`: a global `support` role, not active.
    pub inactive_support: UserId,
    /// `org_support`: a `support` role for one organisation only (not global).
    pub org_support: UserId,
}

/// Sets `auth_user.is_staff`.
pub async fn set_staff(db: &SeaTestDatabase, user: UserId, staff: bool) {
    exec(db, "UPDATE auth_user SET is_staff = ? WHERE id = ?", vec![staff.into(), user.0.into()]).await;
}

impl People {
    /// Adds them.
    pub async fn add(db: &SeaTestDatabase) -> People {
        let staff = db.add_user("support_staff", "support_staff@example.com").await;
        set_staff(db, staff, true).await;
        let plain = db.add_user("plain_user", "plain_user@example.com").await;
        let support = db.add_user("support_role", "support_role@example.com").await;
        db.add_course_access_role(support, "", "", "support").await;
        let inactive_support = db.add_user("inactive_support", "inactive_support@example.com").await;
        db.add_course_access_role(inactive_support, "", "", "support").await;
        db.deactivate_user(inactive_support).await;
        let org_support = db.add_user("org_support", "org_support@example.com").await;
        db.add_course_access_role(org_support, "edX", "", "support").await;
        People { staff, plain, support, inactive_support, org_support }
    }
}

/// A program and curriculum of the test's own.
pub struct Program {
    /// The program (hyphenated lower case in messages).
    pub uuid: ProgramUuid,
    /// Its curriculum.
    pub curriculum: CurriculumUuid,
}

impl Program {
    /// Random UUIDs.
    pub fn new() -> Program {
        Program {
            uuid: ProgramUuid::from_uuid(uuid::Uuid::new_v4()),
            curriculum: CurriculumUuid::from_uuid(uuid::Uuid::new_v4()),
        }
    }

    /// Hyphenated lower case.
    pub fn text(&self) -> String {
        self.uuid.to_string()
    }

    /// A waiting PE with active PCEs in `courses`.
    pub async fn waiting(&self, db: &SeaTestDatabase, key: &str, courses: &[&str]) {
        let pe = db.add_program_enrollment(Some(key), self.uuid, self.curriculum, None, "enrolled").await;
        for course in courses {
            db.add_program_course_enrollment(pe, course, "active", None).await;
        }
    }

    /// A PE linked to `user`.
    pub async fn linked(&self, db: &SeaTestDatabase, key: &str, user: UserId) {
        db.add_program_enrollment(Some(key), self.uuid, self.curriculum, Some(user), "enrolled").await;
    }
}

/// The linked user of `key` in `program`, if any (by reading the tables).
pub async fn linked_user(db: &SeaTestDatabase, program: &Program, key: &str) -> Option<UserId> {
    let tables = db.tables().await;
    let mut found = tables
        .program_enrollments
        .values()
        .filter(|pe| pe.program_uuid == program.uuid && pe.external_user_key.as_deref() == Some(key));
    let pe = found.next().unwrap_or_else(|| panic!("no PE {key}"));
    pe.user_id
}

/// Every history row's `history_user_id`, of the three history tables.
pub fn history_users(tables: &acceptance::Tables) -> Vec<Option<UserId>> {
    tables
        .program_enrollment_history
        .iter()
        .map(|h| h.history_user_id)
        .chain(tables.program_course_enrollment_history.iter().map(|h| h.history_user_id))
        .chain(tables.course_enrollment_history.iter().map(|h| h.history_user_id))
        .collect()
}

/// Waits for `f` to be true, polling; panics after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < timeout, "{what}: not within {timeout:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Python's `str((key, username))` for each pair, computed by `python3`.
pub fn python_tuple_reprs(pairs: &[(String, String)]) -> Vec<String> {
    let input = serde_json::to_string(pairs).unwrap();
    let mut child = Command::new("python3")
        .args(["-c", "import json,sys; print(json.dumps([str((k, u)) for k, u in json.load(sys.stdin)]))"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("python3: {e} (the tests need python3)"));
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python3 failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Percentile `p` (0..=100) of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Whether the machine has Chromium and chromedriver; `None` (skipped, or a failure with
/// `REQUIRE_DB_TESTS=1`) when not.
pub fn browser_or_skip(what: &str) -> Option<(PathBuf, PathBuf)> {
    let chromium = Path::new("/usr/bin/chromium");
    let driver = Path::new("/usr/bin/chromedriver");
    if chromium.exists() && driver.exists() {
        return Some((chromium.to_owned(), driver.to_owned()));
    }
    if std::env::var("REQUIRE_DB_TESTS").as_deref() == Ok("1") {
        panic!("{what}: /usr/bin/chromium or /usr/bin/chromedriver is missing and REQUIRE_DB_TESTS=1");
    }
    eprintln!("skipped {what}: /usr/bin/chromium or /usr/bin/chromedriver is missing");
    None
}

/// The SQLite file of a `sqlite://PATH?…` URL.
pub fn sqlite_path(url: &str) -> PathBuf {
    PathBuf::from(url.trim_start_matches("sqlite://").split('?').next().unwrap())
}

/// The PE of `program` with `key` (exactly one).
pub use acceptance::pe as pe_row;

/// Django's `_unmask_cipher_token`.
pub fn csrf_unmask(token: &str) -> String {
    let index = |c: u8| CSRF_CHARS.iter().position(|x| *x == c).unwrap();
    let (mask, cipher) = token.split_at(32);
    cipher
        .bytes()
        .zip(mask.bytes())
        .map(|(c, m)| CSRF_CHARS[(index(c) + CSRF_CHARS.len() - index(m)) % CSRF_CHARS.len()] as char)
        .collect()
}

/// The harness itself: the tokens verify with `openssl` against the public key, the JWKS
/// holds that key, masked CSRF tokens unmask to their secret, Python's repr is reached.
#[test]
fn harness_self_check() {
    let keys = keys();
    for signer in [Signer::lms(), Signer::Rsa { bits: 256, key: keys.private_pem.clone() }] {
        let token = Jwt::lms("someone").sign(&signer);
        let (input, signature) = token.rsplit_once('.').unwrap();
        let dir = tempfile::tempdir().unwrap();
        let signature_file = dir.path().join("sig");
        std::fs::write(&signature_file, URL_SAFE_NO_PAD.decode(signature).unwrap()).unwrap();
        let bits = if matches!(signer, Signer::Rsa { bits: 256, .. }) { 256 } else { 512 };
        let out = openssl(
            &[
                "dgst",
                &format!("-sha{bits}"),
                "-verify",
                keys.public_pem.to_str().unwrap(),
                "-signature",
                signature_file.to_str().unwrap(),
            ],
            Some(input.as_bytes()),
        );
        assert_eq!(String::from_utf8_lossy(&out).trim(), "Verified OK");
        let header: Json =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(input.split('.').next().unwrap()).unwrap()).unwrap();
        assert_eq!(header["alg"], json!(format!("RS{bits}")));
        assert_eq!(header["kid"], json!("openedx"));
    }
    let jwks: Json = serde_json::from_str(&keys.jwks).unwrap();
    assert_eq!(URL_SAFE_NO_PAD.decode(jwks["keys"][0]["n"].as_str().unwrap()).unwrap(), keys.modulus);
    assert_eq!(keys.modulus.len(), 256);
    assert_ne!(keys.modulus[0], 0);
    let none = Jwt::lms("x").sign(&Signer::None("none"));
    assert!(none.ends_with('.'), "{none}");
    for _ in 0..20 {
        let secret = csrf_secret();
        let masked = csrf_mask(&secret);
        assert_eq!(masked.len(), 64);
        assert_eq!(csrf_unmask(&masked), secret);
        assert_ne!(&masked[32..], secret);
    }
    assert_eq!(
        python_tuple_reprs(&[("a'b".into(), "c\"d".into()), ("é\u{1}".into(), "x\\".into())]),
        ["(\"a'b\", 'c\"d')", "('é\\x01', 'x\\\\')"]
    );
    assert_eq!(form_encode("a b&c=d/é"), "a+b%26c%3Dd%2F%C3%A9");
    let sorted: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
    assert_eq!(
        (percentile(&sorted, 50.0), percentile(&sorted, 99.0)),
        (Duration::from_millis(50), Duration::from_millis(99))
    );
}

/// The failures seen so far (checked at the end, so that one run lists them all).
#[derive(Default)]
pub struct Failures(Vec<String>);

impl Failures {
    pub fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(what());
        }
    }

    pub fn finish(self) {
        assert!(self.0.is_empty(), "{} failure(s):\n- {}", self.0.len(), self.0.join("\n- "));
    }
}
