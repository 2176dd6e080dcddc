//! The client's shared state: settings, counters, authentication state and the ETag cache.

use std::collections::HashMap;
use std::sync::Mutex as StdMutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use reqwest::Method;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tokio::sync::{OnceCell, Semaphore};
use url::Url;

use super::shared::SharedAuth;
use crate::endpoint::{Endpoint, resource_key};
use crate::etag::ETag;
use crate::models::ServiceRoot;
use crate::quirks::{Quirks, QuirksOverride};
use crate::retry::RetryPolicy;
use crate::vendor::Vendor;

/// How the client authenticates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthMode {
    /// Only a Redfish session (`X-Auth-Token`), created at the sessions collection. Re-created
    /// once on a 401; deleted by [`crate::RedfishClient::close`]. A refused login is an
    /// error.
    Session,
    /// HTTP Basic on every request.
    Basic,
    /// The default, and what works wherever sushy works: a session first; HTTP Basic when
    /// the service root advertises no SessionService or the BMC refuses to create a session
    /// (401, 403, 404, 405 or 501). Decided once per client and remembered. When Basic is
    /// then refused too, the error is [`crate::Error::Authentication`].
    #[default]
    Auto,
}

/// A username and password. `Debug` never shows the password.
#[derive(Clone)]
pub(crate) struct Credentials {
    pub(crate) username: String,
    pub(crate) password: SecretString,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// Requests sent, by method.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestCounts {
    /// GET requests.
    pub get: u64,
    /// POST requests.
    pub post: u64,
    /// PATCH requests.
    pub patch: u64,
    /// PUT requests.
    pub put: u64,
    /// DELETE requests.
    pub delete: u64,
    /// Any other method.
    pub other: u64,
    /// All requests.
    pub total: u64,
}

#[derive(Default)]
pub(super) struct Counters {
    get: AtomicU64,
    post: AtomicU64,
    patch: AtomicU64,
    put: AtomicU64,
    delete: AtomicU64,
    other: AtomicU64,
}

impl Counters {
    pub(super) fn slot(&self, method: &Method) -> &AtomicU64 {
        match *method {
            Method::GET => &self.get,
            Method::POST => &self.post,
            Method::PATCH => &self.patch,
            Method::PUT => &self.put,
            Method::DELETE => &self.delete,
            _ => &self.other,
        }
    }

    fn snapshot(&self) -> RequestCounts {
        let read = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut c = RequestCounts {
            get: read(&self.get),
            post: read(&self.post),
            patch: read(&self.patch),
            put: read(&self.put),
            delete: read(&self.delete),
            other: read(&self.other),
            total: 0,
        };
        c.total = [c.get, c.post, c.patch, c.put, c.delete, c.other]
            .into_iter()
            .fold(0, u64::saturating_add);
        c
    }

    fn reset(&self) {
        for a in [
            &self.get,
            &self.post,
            &self.patch,
            &self.put,
            &self.delete,
            &self.other,
        ] {
            a.store(0, Ordering::Relaxed);
        }
    }
}

/// A response with a success status, body read.
pub(crate) struct Response {
    pub(crate) status: StatusCode,
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

/// Options of one logical request.
#[derive(Default)]
pub(crate) struct RequestOptions {
    /// Send credentials (everything but the service root and the login itself).
    pub(crate) unauthenticated: bool,
    /// The `If-Match` value to send.
    pub(crate) if_match: Option<String>,
}

/// The shared state behind every clone of a client.
pub(crate) struct Inner {
    pub(crate) endpoint: Endpoint,
    pub(super) http: std::sync::Arc<crate::http::HttpClient>,
    /// The connection kept between requests on the lean path.
    pub(super) parked: crate::http::parked::ParkedSlot,
    pub(super) auth_mode: AuthMode,
    pub(super) credentials: Option<Credentials>,
    pub(super) request_timeout: Duration,
    pub(super) retry: RetryPolicy,
    pub(super) limiter: Semaphore,
    pub(super) counters: Counters,
    /// The authentication state, shared with the other clients of this process on the same
    /// endpoint, user and password (see `shared`).
    pub(super) shared: std::sync::Arc<SharedAuth>,
    pub(crate) service_root: OnceCell<ServiceRoot>,
    pub(crate) vendor_quirks: OnceCell<(Vendor, Quirks)>,
    /// The first Manager, once read (for vendor and firmware detection, or the identity).
    /// Boxed: most clients never read it, and a `Manager` inline would cost each of them.
    pub(crate) first_manager: OnceCell<Option<Box<crate::models::Manager>>>,
    /// The firmware-independent quirks of a vendor the service root names, kept until the
    /// firmware is read (so reads retry on that vendor's transient messages meanwhile).
    pub(crate) root_quirks: std::sync::OnceLock<Quirks>,
    pub(crate) quirks_override: QuirksOverride,
    /// Quirks used before the vendor is known: the DMTF default plus the user override.
    pub(super) early_quirks: Quirks,
    pub(super) etags: StdMutex<HashMap<String, ETag>>,
    pub(super) closed: AtomicBool,
    /// Per-client caches of capability crates (a BIOS registry, ...), by key.
    pub(crate) extensions: StdMutex<HashMap<(String, std::any::TypeId), ExtensionSlot>>,
    /// Why the session login was refused, when `Auto` fell back to Basic.
    pub(super) login_refusal: StdMutex<Option<crate::Error>>,
    /// The largest answer body read, in bytes.
    pub(crate) max_response_bytes: u64,
    /// The most members followed in one collection.
    pub(crate) max_collection_members: usize,
}

/// One per-client cache entry: computed once, shared by every clone of the client.
pub(crate) type ExtensionSlot =
    std::sync::Arc<OnceCell<std::sync::Arc<dyn std::any::Any + Send + Sync>>>;

/// Settings the builder hands over.
pub(crate) struct InnerConfig {
    pub(crate) endpoint: Endpoint,
    pub(crate) http: std::sync::Arc<crate::http::HttpClient>,
    pub(crate) auth_mode: AuthMode,
    pub(crate) credentials: Option<Credentials>,
    pub(crate) request_timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) max_concurrent_requests: usize,
    pub(crate) quirks_override: QuirksOverride,
    pub(crate) max_response_bytes: u64,
    pub(crate) max_collection_members: usize,
    /// Share the session with the process's other clients of the same endpoint and account.
    pub(crate) share_session: bool,
}

impl Inner {
    pub(crate) fn new(config: InnerConfig) -> Inner {
        let mut early_quirks = Quirks::default();
        config.quirks_override.apply(&mut early_quirks);
        let shared = match (&config.credentials, config.auth_mode) {
            (Some(credentials), AuthMode::Auto | AuthMode::Session) if config.share_session => {
                SharedAuth::join(
                    config.endpoint.url(),
                    &credentials.username,
                    &credentials.password,
                    if config.auth_mode == AuthMode::Auto {
                        "auto"
                    } else {
                        "session"
                    },
                )
            }
            _ => SharedAuth::private(),
        };
        Inner {
            endpoint: config.endpoint,
            http: config.http,
            parked: crate::http::parked::ParkedSlot::default(),
            auth_mode: config.auth_mode,
            credentials: config.credentials,
            request_timeout: config.request_timeout,
            retry: config.retry,
            limiter: Semaphore::new(
                config
                    .max_concurrent_requests
                    .clamp(1, Semaphore::MAX_PERMITS),
            ),
            counters: Counters::default(),
            shared,
            service_root: OnceCell::new(),
            vendor_quirks: OnceCell::new(),
            first_manager: OnceCell::new(),
            root_quirks: std::sync::OnceLock::new(),
            quirks_override: config.quirks_override,
            early_quirks,
            etags: StdMutex::new(HashMap::new()),
            closed: AtomicBool::new(false),
            login_refusal: StdMutex::new(None),
            extensions: StdMutex::new(HashMap::new()),
            max_response_bytes: config.max_response_bytes,
            max_collection_members: config.max_collection_members,
        }
    }

    pub(crate) fn request_counts(&self) -> RequestCounts {
        self.counters.snapshot()
    }

    pub(crate) fn reset_request_counts(&self) {
        self.counters.reset();
    }

    /// The quirks in force: resolved ones once known; before that, those the service root
    /// alone decides (vendor named there, firmware not read yet); else the early ones.
    pub(crate) fn quirks_now(&self) -> &Quirks {
        match self.vendor_quirks.get() {
            Some((_, quirks)) => quirks,
            None => self.root_quirks.get().unwrap_or(&self.early_quirks),
        }
    }

    /// What the service root alone decides: the firmware-independent quirks of the vendor it
    /// names, what it advertises, and the user's override. Pure given the root.
    pub(crate) fn quirks_from_root(&self, root: &ServiceRoot) -> Quirks {
        let named = crate::vendor::detect_vendor(root, None);
        crate::quirks::resolve_quirks(root, &named, None, &self.quirks_override)
    }

    /// The last ETag seen for a resource.
    pub(crate) fn etag_for(&self, url: &Url) -> Option<ETag> {
        self.etags.lock().ok()?.get(resource_key(url)).cloned()
    }

    pub(crate) fn remember_etag(&self, url: &Url, tag: Option<ETag>) {
        if url.query().is_some() {
            return;
        }
        if let Ok(mut map) = self.etags.lock() {
            let key = resource_key(url);
            match (tag, map.get_mut(key)) {
                // In place: a poll re-reads the same resources, and a new key costs a copy.
                (Some(tag), Some(remembered)) => *remembered = tag,
                (Some(tag), None) => {
                    map.insert(key.to_owned(), tag);
                }
                (None, _) => {
                    map.remove(key);
                }
            }
        }
    }
}

/// The credential a request carries.
pub(super) enum AuthHeader {
    Token(SecretString),
    Basic(Credentials),
}
