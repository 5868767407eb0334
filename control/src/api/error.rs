//! The API's error responses: `{"error": "...", "details": [{"path", "message"}]}`
//! with the status code that says whose fault it is.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::config::ConfigIssue;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// One-line summary.
    pub error: String,
    /// Problems by JSON path (configuration issues, bad parameters).
    pub details: Vec<ConfigIssue>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    details: &'a [ConfigIssue],
}

impl ApiError {
    /// An error without details.
    pub fn new(status: StatusCode, error: impl Into<String>) -> Self {
        ApiError {
            status,
            error: error.into(),
            details: Vec::new(),
        }
    }

    /// 400 with the issues found.
    pub fn invalid(error: impl Into<String>, details: Vec<ConfigIssue>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            error: error.into(),
            details,
        }
    }

    /// 400 about one query parameter.
    pub fn bad_parameter(name: &str, message: impl Into<String>) -> Self {
        Self::invalid(
            "invalid query parameter",
            vec![ConfigIssue::new(name, message)],
        )
    }

    /// 401 (with the challenge).
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "missing or wrong bearer token (Authorization: Bearer ...)",
        )
    }

    /// 503: the engine did not answer.
    pub fn unavailable(error: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&Body {
            error: &self.error,
            details: &self.details,
        })
        .unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"pinhole\""),
            );
        }
        response
    }
}
