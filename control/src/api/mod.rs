//! The REST/JSON control plane (`/api/v1`): policy read and replace, statistics,
//! sessions (dump and clear), pinholes, SIP dialogs, Skinny stations and calls,
//! health, Prometheus metrics and the OpenAPI document.
//!
//! It runs on its own thread with a single-threaded tokio runtime, started by
//! `pinhole run` after the EAL pinned the main thread to the main lcore (threads it
//! spawns inherit that affinity, so the API never runs on a worker core). It never
//! touches a worker's state directly: counters are shared atomics, session shards are
//! reached through the workers' bounded command channels, port counters through the
//! control thread that owns the ports. Docs: `docs/rest-api.md`.

mod error;
pub mod policy;
pub mod query;
pub mod stats;
pub mod views;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use pinhole_dataplane::engine::{EngineMonitor, PortReport};
use pinhole_dataplane::Dataplane;
use serde_json::json;

pub use self::error::ApiError;
use self::policy::PolicyStore;
use crate::config::{ConfigIssue, ControlConfig};

/// The OpenAPI 3 document describing this API (served at `/api/v1/openapi.json`).
pub const OPENAPI: &str = include_str!("openapi.json");

/// Every route the server answers (kept equal to the OpenAPI paths by a test).
pub const ROUTES: [&str; 10] = [
    "/api/v1/health",
    "/api/v1/policy",
    "/api/v1/stats",
    "/api/v1/metrics",
    "/api/v1/sessions",
    "/api/v1/pinholes",
    "/api/v1/sip/dialogs",
    "/api/v1/sccp/stations",
    "/api/v1/sccp/calls",
    "/api/v1/openapi.json",
];

/// How long one worker command may take before the request fails with 503.
const WORKER_TIMEOUT: Duration = Duration::from_secs(2);
/// Dump steps one `GET /sessions` runs at most (then it returns a short page with a
/// cursor; empty slots cost steps too).
const MAX_STEPS: usize = 256;

/// An oversized body up to this many times `max_body_bytes` is read (and discarded)
/// before the 413, so the client, still sending, reads the answer instead of a reset.
const DRAIN_FACTOR: usize = 8;

/// A request for the ports' counters, answered by the control thread (it owns the ports).
pub type PortStatsRequest = SyncSender<Vec<PortReport>>;

/// Where and how to serve, resolved from `control` and the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiSettings {
    /// Address to bind (port 0: any free port).
    pub listen: SocketAddr,
    /// The bearer token requests must carry, if any.
    pub token: Option<String>,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Longest request.
    pub request_timeout: Duration,
    /// Write the bound address here once listening (tests, scripts).
    pub addr_file: Option<PathBuf>,
}

impl ApiSettings {
    /// The settings for a configuration's `control` section, with `listen` replaced by
    /// the command line's if given (which also turns the API on). `None`: no API.
    pub fn resolve(
        control: Option<&ControlConfig>,
        listen_override: Option<&str>,
        addr_file: Option<PathBuf>,
    ) -> anyhow::Result<Option<ApiSettings>> {
        let defaults = ControlConfig::default();
        let c = match (control, listen_override) {
            (None, None) => return Ok(None),
            (Some(c), None) if !c.enabled => return Ok(None),
            (Some(c), _) => c,
            (None, Some(_)) => &defaults,
        };
        let listen_text = listen_override.unwrap_or(&c.listen);
        let listen: SocketAddr = listen_text
            .parse()
            .with_context(|| format!("control.listen: {listen_text:?} is not an address:port"))?;
        let token = match (&c.token, &c.token_env) {
            (Some(t), _) => Some(t.clone()),
            (None, Some(var)) => match std::env::var(var) {
                Ok(t) if !t.is_empty() => Some(t),
                _ => anyhow::bail!(
                    "control.token_env: environment variable {var} is not set (or empty)"
                ),
            },
            (None, None) => None,
        };
        if token.is_none() && !listen.ip().is_loopback() {
            anyhow::bail!(
                "control.listen: {listen} is not a loopback address: set control.token or control.token_env"
            );
        }
        Ok(Some(ApiSettings {
            listen,
            token,
            max_body_bytes: c.max_body_bytes,
            request_timeout: Duration::from_secs(c.request_timeout_secs.max(1)),
            addr_file,
        }))
    }
}

/// What the handlers share.
pub struct ApiState {
    /// The dataplane (policy publication, shared tables).
    pub dataplane: Arc<Dataplane>,
    /// Live counters and worker command channels.
    pub monitor: EngineMonitor,
    /// Asks the control thread for port counters.
    pub port_stats: SyncSender<PortStatsRequest>,
    /// The running configuration and policy version.
    pub store: Mutex<PolicyStore>,
    /// EAL arguments of the command line (they may declare ports a policy names).
    pub extra_eal: Vec<String>,
    /// When the engine started.
    pub started: Instant,
    token: Option<String>,
    max_body_bytes: usize,
    request_timeout: Duration,
}

impl ApiState {
    /// The shared state of a server with `settings`.
    pub fn new(
        settings: &ApiSettings,
        dataplane: Arc<Dataplane>,
        monitor: EngineMonitor,
        port_stats: SyncSender<PortStatsRequest>,
        store: PolicyStore,
        extra_eal: Vec<String>,
    ) -> Self {
        ApiState {
            dataplane,
            monitor,
            port_stats,
            store: Mutex::new(store),
            extra_eal,
            started: Instant::now(),
            token: settings.token.clone(),
            max_body_bytes: settings.max_body_bytes,
            request_timeout: settings.request_timeout,
        }
    }

    fn store(&self) -> MutexGuard<'_, PolicyStore> {
        self.store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A running API server.
pub struct ApiServer {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ApiServer {
    /// Bind `settings.listen` and serve on a thread of its own.
    pub fn start(settings: &ApiSettings, state: Arc<ApiState>) -> anyhow::Result<ApiServer> {
        let listener = std::net::TcpListener::bind(settings.listen).map_err(|e| {
            anyhow::anyhow!("control.listen: cannot listen on {}: {e}", settings.listen)
        })?;
        listener
            .set_nonblocking(true)
            .context("control.listen: non-blocking socket")?;
        let addr = listener
            .local_addr()
            .context("control.listen: bound address")?;
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = router(state);
        let thread = std::thread::Builder::new()
            .name("pinhole-api".into())
            .spawn(move || serve(listener, app, stopped))
            .context("starting the API thread")?;
        if let Some(path) = &settings.addr_file {
            std::fs::write(path, format!("{addr}\n"))
                .with_context(|| format!("writing {}", path.display()))?;
        }
        tracing::info!(%addr, auth = settings.token.is_some(), "REST API listening");
        Ok(ApiServer {
            addr,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop serving (connections are closed; requests in flight get at most a second).
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.halt();
    }
}

fn serve(
    listener: std::net::TcpListener,
    app: Router,
    stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "REST API: no runtime");
            return;
        }
    };
    rt.block_on(async move {
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(error = %e, "REST API: listener");
                return;
            }
        };
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "REST API stopped");
            }
        });
        let _ = stopped.await;
    });
    rt.shutdown_timeout(Duration::from_secs(1));
}

fn router(state: Arc<ApiState>) -> Router {
    let [health, policy, stats, metrics, sessions, pinholes, dialogs, stations, calls, openapi] =
        ROUTES;
    Router::new()
        .route(health, get(get_health))
        .route(policy, get(get_policy).put(put_policy))
        .route(stats, get(get_stats))
        .route(metrics, get(get_metrics))
        .route(sessions, get(get_sessions).delete(delete_sessions))
        .route(pinholes, get(get_pinholes))
        .route(dialogs, get(get_dialogs))
        .route(stations, get(get_stations))
        .route(calls, get(get_calls))
        .route(openapi, get(get_openapi))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(Arc::clone(&state), guard))
        .with_state(state)
}

/// Authentication and the request timeout, for every route.
async fn guard(State(s): State<Arc<ApiState>>, req: Request, next: Next) -> Response {
    if let Some(token) = &s.token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !same_secret(given.trim().as_bytes(), token.as_bytes()) {
            return ApiError::unauthorized().into_response();
        }
    }
    match tokio::time::timeout(s.request_timeout, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError::new(StatusCode::REQUEST_TIMEOUT, "request timed out").into_response(),
    }
}

/// Compare secrets in time independent of where they differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no such resource (see /api/v1/openapi.json)",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed on this resource",
    )
}

/// Run blocking work (worker commands, the control thread) off the runtime's thread.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| ApiError::unavailable("internal task failed"))?
}

fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

async fn get_health(State(s): State<Arc<ApiState>>) -> Json<serde_json::Value> {
    Json(json!({
        "status": "ok",
        "policy_version": s.dataplane.policy().version,
        "workers": s.monitor.commands().workers(),
        "uptime_secs": s.started.elapsed().as_secs(),
    }))
}

async fn get_policy(State(s): State<Arc<ApiState>>) -> Response {
    let (doc, version) = {
        let store = s.store();
        (store.document(), store.version())
    };
    let mut r = Json(doc).into_response();
    r.headers_mut().insert(header::ETAG, etag(version));
    r
}

/// Whether an `If-Match` value names `version` (or is `*`).
fn if_match_allows(value: &str, version: u64) -> bool {
    value.split(',').map(str::trim).any(|tag| {
        tag == "*" || tag.trim_start_matches("W/").trim_matches('"') == version.to_string()
    })
}

enum BodyError {
    TooLarge,
    Unreadable,
}

/// The body if it is at most `limit` bytes; a larger one is drained up to
/// `drain_limit` bytes (then abandoned) and refused.
async fn read_body(mut body: Body, limit: usize, drain_limit: usize) -> Result<Vec<u8>, BodyError> {
    use http_body_util::BodyExt;
    let mut buf = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| BodyError::Unreadable)?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len());
        if seen <= limit {
            buf.extend_from_slice(&data);
        } else if seen > drain_limit {
            break;
        }
    }
    if seen > limit {
        Err(BodyError::TooLarge)
    } else {
        Ok(buf)
    }
}

async fn put_policy(
    State(s): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
        if !ct.starts_with("application/json") {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the policy is sent as application/json",
            ));
        }
    }
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "request body larger than {} bytes (control.max_body_bytes)",
                s.max_body_bytes
            ),
        )
    };
    let drain_limit = s.max_body_bytes.saturating_mul(DRAIN_FACTOR);
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > drain_limit) {
        return Err(too_large());
    }
    let bytes = read_body(body, s.max_body_bytes, drain_limit)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge => too_large(),
            BodyError::Unreadable => ApiError::new(
                StatusCode::BAD_REQUEST,
                "the request body could not be read",
            ),
        })?;
    let mut store = s.store();
    let current = store.version();
    if let Some(value) = headers.get(header::IF_MATCH) {
        if !if_match_allows(value.to_str().unwrap_or_default(), current) {
            return Err(ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                format!("the policy in force is version {current} (ETag \"{current}\"); nothing applied"),
            ));
        }
    }
    let prepared = store.prepare(&bytes, &s.extra_eal).map_err(|issues| {
        ApiError::invalid(
            format!("policy not applied: {} problem(s)", issues.len()),
            issues,
        )
    })?;
    let version = prepared.policy.version;
    s.dataplane.publish(prepared.policy);
    store.commit(prepared.config, version);
    drop(store);
    tracing::info!(version, "policy published through the API");
    let mut r = Json(json!({ "version": version })).into_response();
    r.headers_mut().insert(header::ETAG, etag(version));
    Ok(r)
}

fn collect_stats(s: &ApiState) -> Result<stats::Stats, ApiError> {
    let (tx, rx): (PortStatsRequest, Receiver<Vec<PortReport>>) = std::sync::mpsc::sync_channel(1);
    s.port_stats
        .try_send(tx)
        .map_err(|_| ApiError::unavailable("the control thread is busy or stopping"))?;
    let ports = rx
        .recv_timeout(WORKER_TIMEOUT)
        .map_err(|_| ApiError::unavailable("the control thread did not answer"))?;
    let commands = s.monitor.commands();
    let inspectors = (0..commands.workers())
        .map(|w| commands.inspectors(w, WORKER_TIMEOUT))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::unavailable(e.to_string()))?;
    let policy = s.dataplane.policy();
    Ok(stats::collect(
        &s.dataplane,
        &policy,
        s.started.elapsed().as_secs(),
        ports,
        &s.monitor.workers(),
        &inspectors,
    ))
}

async fn get_stats(State(s): State<Arc<ApiState>>) -> Result<Json<stats::Stats>, ApiError> {
    blocking(move || collect_stats(&s)).await.map(Json)
}

async fn get_metrics(State(s): State<Arc<ApiState>>) -> Result<Response, ApiError> {
    let st = blocking(move || collect_stats(&s)).await?;
    let mut r = stats::prometheus(&st).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(r)
}

type Params = Result<Query<HashMap<String, String>>, QueryRejection>;

fn session_query(params: Params, paged: bool) -> Result<query::SessionQuery, ApiError> {
    let Query(params) =
        params.map_err(|e| ApiError::bad_parameter("", format!("unreadable query: {e}")))?;
    query::parse(&params, paged)
        .map_err(|issues: Vec<ConfigIssue>| ApiError::invalid("invalid query parameters", issues))
}

async fn get_sessions(
    State(s): State<Arc<ApiState>>,
    params: Params,
) -> Result<Json<serde_json::Value>, ApiError> {
    let q = session_query(params, true)?;
    blocking(move || {
        let commands = s.monitor.commands();
        let mut out = Vec::new();
        let mut at = Some(q.cursor);
        let mut steps = 0;
        while let Some(c) = at {
            if c.worker >= commands.workers() {
                at = None;
                break;
            }
            if out.len() >= q.limit || steps == MAX_STEPS {
                break;
            }
            steps += 1;
            let page = commands
                .sessions(
                    c.worker,
                    &q.filter,
                    c.at,
                    q.limit - out.len(),
                    WORKER_TIMEOUT,
                )
                .map_err(|e| ApiError::unavailable(e.to_string()))?;
            out.extend(page.sessions);
            at = Some(match page.next {
                Some(next) => query::PageCursor {
                    worker: c.worker,
                    at: next,
                },
                None => query::PageCursor {
                    worker: c.worker + 1,
                    at: pinhole_dataplane::session::SessionCursor::START,
                },
            });
        }
        Ok(Json(json!({
            "sessions": out,
            "next_cursor": at.map(query::PageCursor::encode),
        })))
    })
    .await
}

async fn delete_sessions(
    State(s): State<Arc<ApiState>>,
    params: Params,
) -> Result<Json<serde_json::Value>, ApiError> {
    let q = session_query(params, false)?;
    blocking(move || {
        let cleared = s
            .monitor
            .commands()
            .clear_all(&q.filter, WORKER_TIMEOUT)
            .map_err(|e| ApiError::unavailable(e.to_string()))?;
        tracing::info!(cleared, filter = ?q.filter, "sessions cleared through the API");
        Ok(Json(json!({ "cleared": cleared })))
    })
    .await
}

async fn get_pinholes(State(s): State<Arc<ApiState>>) -> Json<serde_json::Value> {
    Json(json!({ "pinholes": views::pinholes(&s.dataplane, s.monitor.now()) }))
}

async fn get_dialogs(State(s): State<Arc<ApiState>>) -> Json<serde_json::Value> {
    let policy = s.dataplane.policy();
    Json(json!({ "dialogs": views::dialogs(&s.dataplane, &policy, s.monitor.now()) }))
}

async fn get_stations(State(s): State<Arc<ApiState>>) -> Json<serde_json::Value> {
    Json(json!({ "stations": views::stations(&s.dataplane, s.monitor.now()) }))
}

async fn get_calls(State(s): State<Arc<ApiState>>) -> Json<serde_json::Value> {
    Json(json!({ "calls": views::skinny_calls(&s.dataplane, s.monitor.now()) }))
}

async fn get_openapi() -> Response {
    let mut r = OPENAPI.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_accepts_the_version_quoted_weak_or_star() {
        assert!(if_match_allows("\"3\"", 3));
        assert!(if_match_allows("W/\"3\"", 3));
        assert!(if_match_allows("\"1\", \"3\"", 3));
        assert!(if_match_allows("*", 9));
        assert!(!if_match_allows("\"2\"", 3));
        assert!(!if_match_allows("", 3));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"ab", b"abc"));
    }

    #[test]
    fn the_openapi_document_lists_exactly_the_routes_served() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI).unwrap_or_default();
        assert_eq!(
            doc["openapi"].as_str().map(|v| v.starts_with("3.")),
            Some(true)
        );
        let mut documented: Vec<String> = doc["paths"]
            .as_object()
            .map(|p| p.keys().map(|k| format!("/api/v1{k}")).collect())
            .unwrap_or_default();
        documented.sort();
        let mut served: Vec<String> = ROUTES.iter().map(|r| (*r).to_owned()).collect();
        served.sort();
        assert_eq!(documented, served);
    }

    #[test]
    fn settings_refuse_a_public_address_without_a_token() {
        let public = ControlConfig {
            listen: "0.0.0.0:8080".into(),
            ..ControlConfig::default()
        };
        assert!(ApiSettings::resolve(Some(&public), None, None).is_err());
        assert!(ApiSettings::resolve(None, Some("192.0.2.1:0"), None).is_err());
        let local = ApiSettings::resolve(None, Some("127.0.0.1:0"), None);
        assert!(matches!(local, Ok(Some(ref s)) if s.token.is_none()));
        assert!(matches!(ApiSettings::resolve(None, None, None), Ok(None)));
        let off = ControlConfig {
            enabled: false,
            ..ControlConfig::default()
        };
        assert!(matches!(
            ApiSettings::resolve(Some(&off), None, None),
            Ok(None)
        ));
        let env = ControlConfig {
            token_env: Some("PINHOLE_TEST_TOKEN_THAT_IS_NOT_SET".into()),
            ..ControlConfig::default()
        };
        assert!(ApiSettings::resolve(Some(&env), None, None).is_err());
    }
}
