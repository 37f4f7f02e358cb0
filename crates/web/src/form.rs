//! A POST's form fields, from `multipart/form-data` (the MFE's `FormData`) or
//! `application/x-www-form-urlencoded` (the page's form): the last value of each name, as
//! Django's `QueryDict.get`. Any other body has no fields, as upstream reads only form data.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;

/// Why the body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// Larger than the limit: 413.
    TooLarge,
    /// Not all sent within the time allowed: 408.
    Timeout,
    /// Not a well-formed body of its type: 400 with the text.
    Malformed(String),
}

/// The fields.
#[derive(Debug, Default)]
pub(crate) struct Fields(HashMap<String, String>);

impl Fields {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

fn too_large(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
            return true;
        }
        current = e.source();
    }
    false
}

/// Reads the form fields of `request` within `timeout`.
pub(crate) async fn read_fields(request: Request, limit: usize, timeout: Duration) -> Result<Fields, BodyError> {
    let raw_content_type =
        request.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let content_type = raw_content_type.to_ascii_lowercase();
    let read = async {
        if content_type.starts_with("multipart/form-data") {
            let (parts, body) = request.into_parts();
            let bytes = axum::body::to_bytes(body, limit).await.map_err(|e| {
                if too_large(&e) {
                    BodyError::TooLarge
                } else {
                    BodyError::Malformed(format!("cannot read the body: {e}"))
                }
            })?;
            // Django reads an empty body, or a lone closing delimiter (an empty `FormData`), as
            // no fields; multer calls both incomplete.
            let boundary = multer::parse_boundary(&raw_content_type).ok();
            let closing = boundary.map(|b| format!("--{b}--"));
            let trimmed = bytes.trim_ascii();
            if trimmed.is_empty() || closing.is_some_and(|c| trimmed == c.as_bytes()) {
                return Ok(Fields::default());
            }
            let request = Request::from_parts(parts, axum::body::Body::from(bytes));
            let mut multipart = Multipart::from_request(request, &())
                .await
                .map_err(|e| BodyError::Malformed(format!("Multipart form parse error - {}", e.body_text())))?;
            let mut fields = HashMap::new();
            loop {
                match multipart.next_field().await {
                    Ok(Some(field)) => {
                        let name = field.name().unwrap_or_default().to_owned();
                        let is_file = field.file_name().is_some();
                        let value = field.bytes().await.map_err(multipart_error)?;
                        // A file part is not a form field (Django puts it in `request.FILES`).
                        if !is_file {
                            fields.insert(name, String::from_utf8_lossy(&value).into_owned());
                        }
                    }
                    Ok(None) => break,
                    Err(e) => return Err(multipart_error(e)),
                }
            }
            Ok(Fields(fields))
        } else {
            let bytes = axum::body::to_bytes(request.into_body(), limit).await.map_err(|e| {
                if too_large(&e) {
                    BodyError::TooLarge
                } else {
                    BodyError::Malformed(format!("cannot read the body: {e}"))
                }
            })?;
            if content_type.starts_with("application/x-www-form-urlencoded") {
                Ok(Fields(form_urlencoded::parse(&bytes).into_owned().collect()))
            } else {
                Ok(Fields::default())
            }
        }
    };
    tokio::time::timeout(timeout, read).await.map_err(|_| BodyError::Timeout)?
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> BodyError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE || too_large(&e) {
        BodyError::TooLarge
    } else {
        BodyError::Malformed(format!("Multipart form parse error - {}", e.body_text()))
    }
}
