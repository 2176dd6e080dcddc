//! The client handle, its builder and the operations.
//!
//! Long (about 1,000 lines) because the builder and the system operations (reset, power wait,
//! boot override, collections) share the client's private helpers; the transport, the
//! resource layer, tasks, handles and the inventory each live in their own module.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use secrecy::SecretString;
use serde_json::{Value, json};
use url::Url;

use crate::Error;
use crate::boot::{
    BootAttempt, BootOverride, BootOverrideOutcome, BootPatch, BootRetry, fill_missing_allowable,
    judge_read_back, next_boot_attempt, plan_boot_patch,
};
use crate::decode::decode_value;
use crate::endpoint::Endpoint;
use crate::models::{Boot, ComputerSystem, Manager, PowerState, ResetType, ServiceRoot};
use crate::odata::{Collection, Link, has_resource_basics};
use crate::quirks::{Quirks, QuirksOverride, firmware_matters, resolve_quirks};
use crate::retry::RetryPolicy;
use crate::transport::{AuthMode, Credentials, Inner, InnerConfig, RequestCounts, RequestOptions};
use crate::vendor::{Vendor, detect_vendor};

/// How the BMC's TLS certificate is checked.
///
/// `Debug` shows the variant and the size of the PEM, never its text: a PEM file often holds
/// the private key next to the certificate.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum TlsVerification {
    /// The operating system's trust store.
    #[default]
    SystemRoots,
    /// Only the CA certificates in this PEM bundle.
    CaBundlePem(String),
    /// Only this end-entity certificate: the BMC must present exactly it (byte for byte) and
    /// prove it holds its key. Host name, issuer and validity dates are not checked, because
    /// the pin is the identity; a CA certificate given here makes nothing it signed
    /// acceptable. Several certificates in the PEM are each accepted (for a rotation). The
    /// usual answer to a self-signed BMC certificate.
    PinnedCertificatePem(String),
    /// Only a certificate with this SHA-256 fingerprint (of its DER): as
    /// [`TlsVerification::PinnedCertificatePem`], for when only the fingerprint is at hand
    /// (a BMC's web page or `openssl x509 -fingerprint -sha256` shows it). Written
    /// `sha256:AB:CD:…` or as 64 hex digits, colons optional; several, separated by commas,
    /// are each accepted (for a rotation). Text that is not a fingerprint is refused by
    /// [`ClientBuilder::build`] with [`crate::Error::TlsConfig`]. A mismatch names both
    /// fingerprints.
    PinnedSha256(String),
    /// No verification at all. Anyone on the path can read the credentials. Logged as a
    /// warning when the client is built.
    DangerAcceptInvalidCerts,
}

impl std::fmt::Debug for TlsVerification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pem = |f: &mut std::fmt::Formatter<'_>, name: &str, pem: &str| {
            write!(f, "{name}(<{} bytes of PEM>)", pem.len())
        };
        match self {
            TlsVerification::SystemRoots => f.write_str("SystemRoots"),
            TlsVerification::CaBundlePem(text) => pem(f, "CaBundlePem", text),
            TlsVerification::PinnedCertificatePem(text) => pem(f, "PinnedCertificatePem", text),
            // A fingerprint is public (the BMC shows it to anyone who connects).
            TlsVerification::PinnedSha256(text) => write!(f, "PinnedSha256({text:?})"),
            TlsVerification::DangerAcceptInvalidCerts => f.write_str("DangerAcceptInvalidCerts"),
        }
    }
}

/// Builds a [`RedfishClient`]. No I/O happens until the first operation.
#[derive(Debug)]
pub struct ClientBuilder {
    endpoint: String,
    username: Option<String>,
    password: Option<SecretString>,
    auth: AuthMode,
    tls: TlsVerification,
    connect_timeout: Duration,
    request_timeout: Duration,
    retry: RetryPolicy,
    max_concurrent_requests: usize,
    max_idle_connections: usize,
    user_agent: String,
    quirks_override: QuirksOverride,
    max_response_bytes: u64,
    max_collection_members: usize,
    share_session: bool,
}

impl ClientBuilder {
    fn new(endpoint: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            endpoint: endpoint.into(),
            username: None,
            password: None,
            auth: AuthMode::Auto,
            tls: TlsVerification::SystemRoots,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            // An inventory's independent reads come in one wave of five (PCIe devices,
            // storage, processors, memory, NICs): five slots keep it one round trip.
            max_concurrent_requests: 5,
            // One kept-alive connection per BMC: each costs about 25 KiB in the client (and a
            // slot on the BMC), and polls and sequential operations need no more.
            max_idle_connections: 1,
            user_agent: concat!("ferrofish/", env!("CARGO_PKG_VERSION")).to_owned(),
            quirks_override: QuirksOverride::default(),
            max_response_bytes: 16 * 1024 * 1024,
            max_collection_members: 10_000,
            share_session: true,
        }
    }

    /// The account to log in with.
    #[must_use]
    pub fn credentials(mut self, username: impl Into<String>, password: SecretString) -> Self {
        self.username = Some(username.into());
        self.password = Some(password);
        self
    }

    /// [`AuthMode::Auto`] (default: session, else Basic), [`AuthMode::Session`] or
    /// [`AuthMode::Basic`].
    #[must_use]
    pub fn auth(mut self, mode: AuthMode) -> Self {
        self.auth = mode;
        self
    }

    /// How to check the BMC's certificate (default: the system trust store).
    #[must_use]
    pub fn tls(mut self, tls: TlsVerification) -> Self {
        self.tls = tls;
        self
    }

    /// How long connecting may take (default 10 s).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long one request may take, body included (default 60 s).
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The retry policy (default: 4 retries, 0.5 s doubling up to 30 s).
    #[must_use]
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// How many requests may be in flight to this BMC at once (default 5, at least 1). Lower
    /// it for a BMC that answers 503 under load; 1 sends one request at a time, as sushy does.
    #[must_use]
    pub fn max_concurrent_requests(mut self, limit: usize) -> Self {
        self.max_concurrent_requests = limit.max(1);
        self
    }

    /// How many idle connections to this BMC are kept alive for reuse (default 1). Requests
    /// sent at once (an inventory's wave of reads) open more, which are closed after use
    /// beyond this many. Raise it for a client that reads inventories repeatedly from a BMC
    /// with slow TLS handshakes; a process polling thousands of BMCs wants the default. 0
    /// closes every connection after its request.
    #[must_use]
    pub fn max_idle_connections(mut self, limit: usize) -> Self {
        self.max_idle_connections = limit;
        self
    }

    /// The `User-Agent` header (default `ferrofish/<version>`).
    #[must_use]
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Quirk overrides, applied after detection.
    #[must_use]
    pub fn quirks_override(mut self, overrides: QuirksOverride) -> Self {
        self.quirks_override = overrides;
        self
    }

    /// The largest answer body the client reads (default 16 MiB). A larger answer is
    /// [`Error::ResponseTooLarge`]; nothing past the limit is buffered, so a broken or hostile
    /// BMC cannot exhaust memory.
    #[must_use]
    pub fn max_response_bytes(mut self, limit: u64) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// The most members the client follows in one collection, pages included (default
    /// 10,000). A larger collection is [`Error::CollectionTooLarge`].
    #[must_use]
    pub fn max_collection_members(mut self, limit: usize) -> Self {
        self.max_collection_members = limit;
        self
    }

    /// Whether this client shares its session with the other clients of this process built
    /// for the same endpoint, user name, password and authentication mode (default: yes).
    /// BMCs allow a handful of sessions (quirk `session_cap`), so one is opened per BMC and
    /// account, re-created once for all on a 401, and deleted when the last of those clients
    /// closes. `false` gives this client a session of its own (still counted against the
    /// BMC's known cap).
    #[must_use]
    pub fn share_session(mut self, share: bool) -> Self {
        self.share_session = share;
        self
    }

    /// Builds the client. Validates the endpoint and TLS material; sends nothing.
    pub fn build(self) -> Result<RedfishClient, Error> {
        let endpoint = Endpoint::parse(&self.endpoint)?;
        if matches!(self.tls, TlsVerification::DangerAcceptInvalidCerts) {
            tracing::warn!(
                bmc = %endpoint.origin(),
                "TLS verification is disabled (danger_accept_invalid_certs); \
                 credentials can be intercepted"
            );
        }
        let http = crate::http::http_client(&crate::http::HttpSettings {
            tls: &self.tls,
            connect_timeout: self.connect_timeout,
            user_agent: &self.user_agent,
            max_idle_connections: self.max_idle_connections,
            https: endpoint.url().scheme() == "https",
        })?;
        if endpoint.is_plain_http() && self.username.is_some() {
            tracing::warn!(
                bmc = %endpoint.origin(),
                "plain http:// endpoint with credentials: the password or session token \
                 crosses the network unencrypted"
            );
        }
        let credentials = match (self.username, self.password) {
            (Some(username), Some(password)) => Some(Credentials { username, password }),
            _ => None,
        };
        let inner = Inner::new(InnerConfig {
            endpoint,
            http,
            auth_mode: self.auth,
            credentials,
            request_timeout: self.request_timeout,
            retry: self.retry,
            max_concurrent_requests: self.max_concurrent_requests,
            quirks_override: self.quirks_override,
            max_response_bytes: self.max_response_bytes,
            max_collection_members: self.max_collection_members,
            share_session: self.share_session,
        });
        Ok(RedfishClient {
            inner: Arc::new(inner),
        })
    }
}

/// A Redfish client for one BMC. Cheap to clone; clones share the session, caches and counters.
///
/// Separate clients of this process built for the same endpoint, user name, password and
/// authentication mode share one session too (quirk `session_cap`; see
/// [`ClientBuilder::share_session`]): the first to need it logs in, a 401 on any re-logs in
/// once for all, and the process never opens more sessions on one BMC than the cap it knows
/// ([`Error::SessionCapReached`]).
///
/// Call [`RedfishClient::close`] when done: the session is deleted when the last client
/// sharing it closes. Dropping the last clone without closing deletes it in the background
/// (with a warning) when a tokio runtime is available. A child process forked from one
/// holding a session may use that session but never deletes it: its parent owns it.
#[derive(Clone)]
pub struct RedfishClient {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for RedfishClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedfishClient")
            .field("endpoint", &self.inner.endpoint.origin())
            .finish()
    }
}

impl RedfishClient {
    /// Starts a builder for the service at `endpoint` (`host[:port]`, or a full
    /// `https://`/`http://` URL).
    pub fn builder(endpoint: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(endpoint)
    }

    /// The endpoint this client talks to.
    pub fn endpoint(&self) -> &Url {
        self.inner.endpoint.url()
    }

    /// The service root, fetched once and cached.
    pub async fn service_root(&self) -> Result<ServiceRoot, Error> {
        self.inner.service_root().await.cloned()
    }

    /// The `@odata.id` of every member of the Systems collection.
    pub async fn system_ids(&self) -> Result<Vec<String>, Error> {
        self.inner.prime(true).await?;
        let path = self.systems_path().await?;
        let links = self.member_links(&path).await?;
        Ok(links
            .into_iter()
            .filter_map(|l| l.odata_id.map(|id| id.as_str().to_owned()))
            .collect())
    }

    /// The detected vendor (resolved with the quirks, once).
    pub async fn vendor(&self) -> Result<Vendor, Error> {
        Ok(self.vendor_and_quirks().await?.0.clone())
    }

    /// The quirks in force for this BMC (resolved once: the service root and the first
    /// manager are read).
    pub async fn quirks(&self) -> Result<Quirks, Error> {
        Ok(self.vendor_and_quirks().await?.1.clone())
    }

    /// Who the BMC is: the vendor detected, the first Manager's model and firmware, and the
    /// quirks in force where they differ from DMTF behaviour (by [`Quirks`] field). Reads the
    /// first Manager when detection did not need it (two GETs), once per client.
    pub async fn identity(&self) -> Result<BmcIdentity, Error> {
        let (vendor, quirks) = self.vendor_and_quirks().await?.clone();
        let root = self.inner.service_root().await?.clone();
        let manager = self.first_manager(&root).await?;
        Ok(BmcIdentity {
            vendor,
            model: manager.and_then(|m| m.model.clone()),
            firmware: manager.and_then(|m| m.firmware_version.clone()),
            quirks: quirks.differences_from_default(),
        })
    }

    /// Resets a system, after checking `reset_type` against
    /// `ResetType@Redfish.AllowableValues` (or the action's `@Redfish.ActionInfo`).
    pub async fn reset(&self, system: &str, reset_type: ResetType) -> Result<(), Error> {
        let system_url = self.system_url(system).await?;
        let current: ComputerSystem = self
            .inner
            .get_resource(&system_url, COMPUTER_SYSTEM)
            .await?;
        self.reset_as_read(&system_url, &current, reset_type).await
    }

    /// [`RedfishClient::reset`] of the system at `system_url` as `current` shows it (its
    /// action, allowable values and power state), without reading it again.
    pub(crate) async fn reset_as_read(
        &self,
        system_url: &Url,
        current: &ComputerSystem,
        reset_type: ResetType,
    ) -> Result<(), Error> {
        let quirks = self.quirks().await?;
        let action = current.reset_action().ok_or_else(|| Error::Unsupported {
            operation: "reset",
            url: system_url.to_string(),
            missing: "Actions.#ComputerSystem.Reset",
        })?;
        let mut allowed = action.allowable_values.clone();
        if allowed.is_empty()
            && let Some(info) = &action.action_info
        {
            allowed = self.action_info_allowable(info, "ResetType").await?;
        }
        let mut reset_type = reset_type;
        if !allowed.is_empty() && !allowed.contains(&reset_type) {
            match on_by_button(&quirks, &allowed, &reset_type, current.power_state.as_ref()) {
                Some(ButtonPress::NothingToDo) => return Ok(()),
                Some(ButtonPress::Press) => reset_type = ResetType::PushPowerButton,
                None => {}
            }
        }
        if !allowed.is_empty() && !allowed.contains(&reset_type) {
            return Err(Error::NotAllowed {
                property: "ResetType",
                requested: reset_type.to_string(),
                allowed: allowed.iter().map(ToString::to_string).collect(),
            });
        }
        let target = match &action.target {
            Some(target) => self.inner.endpoint.resolve(target)?,
            None => reset_fallback_url(system_url).ok_or_else(|| Error::Unsupported {
                operation: "reset",
                url: system_url.to_string(),
                missing: "the action target",
            })?,
        };
        let body = json!({ "ResetType": reset_type.as_str() });
        match self
            .inner
            .request(
                Method::POST,
                &target,
                Some(&body),
                &RequestOptions::default(),
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(err)
                if err.is_conflict()
                    && quirks.redundant_power_action_conflicts
                    && already_in_state(current.power_state.as_ref(), &reset_type) =>
            {
                tracing::debug!("reset into the current power state answered 409; nothing to do");
                Ok(())
            }
            Err(err) => Err(err),
        }
    }

    /// Polls the system (with backoff from 250 ms to 5 s) until its `PowerState` is `wanted`.
    pub async fn wait_for_power_state(
        &self,
        system: &str,
        wanted: PowerState,
        timeout: Duration,
    ) -> Result<(), Error> {
        let url = self.system_url(system).await?;
        let started = tokio::time::Instant::now();
        let deadline = started + timeout;
        let mut delay = Duration::from_millis(250);
        let mut last = None;
        let timed_out = |last: Option<PowerState>| Error::WaitTimeout {
            url: url.to_string(),
            what: "PowerState",
            wanted: wanted.to_string(),
            last: last.map(|s| s.to_string()),
            after: started.elapsed(),
        };
        loop {
            // The request in flight counts against the deadline too: a BMC that hangs must
            // not stretch the wait to the request timeout.
            let read = tokio::time::timeout_at(
                deadline,
                self.inner
                    .get_resource::<ComputerSystem>(&url, COMPUTER_SYSTEM),
            )
            .await;
            let current = match read {
                Ok(result) => result?,
                Err(_) => return Err(timed_out(last)),
            };
            if current.power_state.as_ref() == Some(&wanted) {
                return Ok(());
            }
            last = current.power_state.or(last);
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(timed_out(last));
            }
            tokio::time::sleep(delay.min(deadline - now)).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }

    /// Sets the boot source override, validated against the allowable values, then read back:
    /// a value the BMC accepted but did not apply is [`Error::NotApplied`].
    ///
    /// The read-back gives the outcome: [`BootOverrideOutcome::Applied`], or, when a `Once`
    /// override was stored as `Continuous` with the target and mode asked for (quirk
    /// `once_stored_as_continuous`), [`BootOverrideOutcome::AppliedAsContinuous`]: the caller
    /// must then clear the override after the boot
    /// ([`BootOverrideOutcome::must_clear_after_boot`]).
    ///
    /// Where the write goes (quirk `boot_settings_object`): to the `@Redfish.Settings` object
    /// when it carries `Boot`, else to the System, and to the settings object after all when
    /// the System refuses `Boot` as not writable. A BMC that refuses `BootSourceOverrideMode`
    /// (quirk `boot_mode_refused`) gets Target and Enabled alone; the mode is still checked on
    /// read-back. Vendor rewrites: `Cd` becomes `UsbCd` and Enabled and Mode are always sent
    /// on Supermicro (quirks `virtual_cd_is_usb_cd`, `override_needs_enabled`,
    /// `override_mode_needs_resend`); an unchanged mode is not sent elsewhere, since iDRAC
    /// queues a BIOS job for it (quirk `unchanged_mode_queues_bios_job`); a mode on a system
    /// without one is [`Error::Unsupported`] (quirk `no_boot_mode`).
    pub async fn set_boot_override(
        &self,
        system: &str,
        wanted: BootOverride,
    ) -> Result<BootOverrideOutcome, Error> {
        let system_url = self.system_url(system).await?;
        let current: ComputerSystem = self
            .inner
            .get_resource(&system_url, COMPUTER_SYSTEM)
            .await?;
        self.set_boot_override_as_read(&system_url, &current, wanted)
            .await
    }

    /// [`RedfishClient::set_boot_override`] of the system at `system_url` as `current` shows
    /// it (its `Boot`, allowable values and settings object), without reading it again.
    pub(crate) async fn set_boot_override_as_read(
        &self,
        system_url: &Url,
        current: &ComputerSystem,
        wanted: BootOverride,
    ) -> Result<BootOverrideOutcome, Error> {
        let quirks = self.quirks().await?;
        let system_url = system_url.clone();
        let system_boot = current.boot.clone().unwrap_or_default();
        let settings_url = match current
            .settings
            .as_ref()
            .and_then(|s| s.settings_object.as_ref())
            .and_then(Link::path)
        {
            Some(path) => Some(self.inner.endpoint.resolve(path)?),
            None => None,
        };
        // Quirk `boot_settings_object`: when the settings object carries Boot, writes go there.
        let mut write_url = system_url.clone();
        let mut boot = system_boot.clone();
        if let Some(settings_url) = &settings_url {
            let settings = self.inner.get_value(settings_url).await?;
            if let Some(settings_boot) = settings.get("Boot") {
                let mut parsed: Boot = decode_value(settings_url, "Boot", settings_boot.clone())?;
                fill_missing_allowable(&mut parsed, &system_boot);
                boot = parsed;
                write_url = settings_url.clone();
            }
        }
        let mut patch =
            plan_boot_patch(&wanted, &boot, &system_boot, &quirks, system_url.as_str())?;
        let mut attempt = BootAttempt {
            on_settings_object: write_url != system_url,
            settings_object_untried: settings_url.is_some() && write_url == system_url,
            mode_sent: patch.send_mode.is_some(),
        };
        let answer = loop {
            let err = match self.patch_url(&write_url, &patch.body()).await {
                Ok(answer) => break answer,
                Err(err) => err,
            };
            match (next_boot_attempt(&err, attempt), &settings_url) {
                (BootRetry::SettingsObject, Some(settings_url)) => {
                    tracing::debug!(error = %err, "the System refuses Boot; using its settings object");
                    // The probe above read it: the PATCH carries its own ETag.
                    write_url = settings_url.clone();
                    attempt.on_settings_object = true;
                    attempt.settings_object_untried = false;
                }
                (BootRetry::WithoutMode, _) => {
                    tracing::debug!(error = %err, "BootSourceOverrideMode refused; sending without it");
                    patch.send_mode = None;
                    attempt.mode_sent = false;
                }
                _ => return Err(err),
            }
        };

        self.verify_boot(&write_url, &patch, &answer).await
    }

    /// Judges Boot after a write ([`judge_read_back`]): "accepted but not applied" is
    /// [`Error::NotApplied`]; a `Once` stored as `Continuous` is an outcome. A PATCH answered
    /// with the resource showing what was written saves the read; any other answer (none, or
    /// one that may predate the change) is checked by reading Boot back.
    async fn verify_boot(
        &self,
        url: &Url,
        patch: &BootPatch,
        answer: &Value,
    ) -> Result<BootOverrideOutcome, Error> {
        if let Some(answered) = answer.get("Boot")
            && let Ok(read) = decode_value::<Boot>(url, "Boot", answered.clone())
            && let Ok(outcome) = judge_read_back(url.as_str(), patch, &read)
        {
            return Ok(outcome);
        }
        let after = self.inner.get_value(url).await?;
        let read: Boot =
            decode_value(url, "Boot", after.get("Boot").cloned().unwrap_or(json!({})))?;
        judge_read_back(url.as_str(), patch, &read)
    }

    /// The `@odata.id` of every member of the collection at `path` (for example
    /// `/redfish/v1/Chassis`), page after page through `Members@odata.nextLink`. Members
    /// without an id are skipped. A `nextLink` to another origin is refused with
    /// [`Error::OffOriginLink`] and nothing is sent there.
    ///
    /// ```no_run
    /// # async fn demo(client: &ferrofish_redfish_core::RedfishClient) -> Result<(), ferrofish_redfish_core::Error> {
    /// for chassis in client.collection_links("/redfish/v1/Chassis").await? {
    ///     println!("{chassis}");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn collection_links(&self, path: &str) -> Result<Vec<String>, Error> {
        self.inner.endpoint.resolve_caller_path(path)?;
        let links = self.member_links(path).await?;
        Ok(links
            .into_iter()
            .filter_map(|l| l.odata_id.map(|id| id.as_str().to_owned()))
            .collect())
    }

    /// Every member of the collection at `path`, decoded as `T` (a model such as
    /// [`crate::models::Chassis`], or [`serde_json::Value`]), following
    /// `Members@odata.nextLink` with the same link safety as
    /// [`RedfishClient::collection_links`]. Read with one `$expand` request per page where the
    /// BMC's quirks allow it (members the expansion left incomplete are fetched one by one),
    /// else with one GET per member, concurrently within the client's limit; repeated member
    /// links are fetched once.
    pub async fn collection<T>(&self, path: &str) -> Result<Vec<T>, Error>
    where
        T: serde::de::DeserializeOwned,
    {
        self.inner.endpoint.resolve_caller_path(path)?;
        let expand = self.vendor_and_quirks().await?.1.expand_collections;
        self.collection_members(path, expand).await
    }

    /// Requests sent so far, by method (every attempt counts, logins and retries included).
    pub fn request_counts(&self) -> RequestCounts {
        self.inner.request_counts()
    }

    /// Sets every request counter back to zero.
    pub fn reset_request_counts(&self) {
        self.inner.reset_request_counts();
    }

    /// Deletes the session on the BMC. Later operations fail with [`Error::Closed`].
    /// Closing twice is harmless.
    pub async fn close(&self) -> Result<(), Error> {
        self.inner.close().await
    }

    // ----- helpers shared with the inventory -----

    /// The vendor and the quirks, resolved once and kept for every later request. The
    /// Manager is read only when the service root does not name a known vendor, or when the
    /// vendor has a rule that depends on the firmware version ([`firmware_matters`]); reads
    /// that need no such rule go through [`RedfishClient::read_quirks`] instead, so the Manager
    /// is read just before the first operation one of those rules is about.
    pub(crate) async fn vendor_and_quirks(&self) -> Result<&(Vendor, Quirks), Error> {
        self.inner
            .vendor_quirks
            .get_or_try_init(|| async {
                let root = self.inner.service_root().await?.clone();
                let named = detect_vendor(&root, None);
                let manager = if matches!(named, Vendor::Generic | Vendor::Other(_))
                    || firmware_matters(&named)
                {
                    self.first_manager(&root).await?.cloned()
                } else {
                    None
                };
                let vendor = detect_vendor(&root, manager.as_ref());
                let quirks = resolve_quirks(
                    &root,
                    &vendor,
                    manager.as_ref(),
                    &self.inner.quirks_override,
                );
                tracing::debug!(
                    ?vendor,
                    manager_read = manager.is_some(),
                    "BMC vendor detected"
                );
                Ok((vendor, quirks))
            })
            .await
    }

    /// The first manager, for vendor and firmware detection. A manager that cannot be read
    /// (missing, forbidden, malformed) only weakens detection.
    pub(crate) async fn first_manager(
        &self,
        root: &ServiceRoot,
    ) -> Result<Option<&Manager>, Error> {
        let read = self
            .inner
            .first_manager
            .get_or_try_init(|| async {
                Ok::<_, Error>(self.read_first_manager(root).await?.map(Box::new))
            })
            .await?;
        Ok(read.as_deref())
    }

    async fn read_first_manager(&self, root: &ServiceRoot) -> Result<Option<Manager>, Error> {
        let Some(path) = root.managers.as_ref().and_then(Link::path) else {
            return Ok(None);
        };
        let url = self.inner.endpoint.resolve(path)?;
        let collection: Collection<Link> = match self.inner.get_typed(&url).await {
            Ok(c) => c,
            Err(err) if err.status().is_some() || err.is_decode() => {
                tracing::warn!(error = %err, "cannot read the managers collection");
                return Ok(None);
            }
            Err(err) => return Err(err),
        };
        let Some(first) = collection.members.iter().find_map(Link::path) else {
            return Ok(None);
        };
        let url = self.inner.endpoint.resolve(first)?;
        match self.inner.get_typed::<Manager>(&url).await {
            Ok(m) => Ok(Some(m)),
            Err(err) if err.status().is_some() || err.is_decode() => {
                tracing::warn!(error = %err, "cannot read the manager");
                Ok(None)
            }
            Err(err) => Err(err),
        }
    }

    pub(crate) async fn systems_path(&self) -> Result<String, Error> {
        let root = self.inner.service_root().await?;
        Ok(root
            .systems
            .as_ref()
            .and_then(Link::path)
            .unwrap_or("/redfish/v1/Systems")
            .to_owned())
    }

    /// Turns a path or bare `Id` into the system's URL.
    pub(crate) async fn system_url(&self, system: &str) -> Result<Url, Error> {
        let system = system.trim();
        if system.starts_with('/') || system.contains("://") {
            let url = self.inner.endpoint.resolve_caller_path(system)?;
            self.inner.prime(false).await?;
            return Ok(url);
        }
        if system.is_empty()
            || system == "."
            || system == ".."
            || system.contains(['/', '?', '#', '\\'])
        {
            return Err(Error::InvalidPath {
                path: system.to_owned(),
                reason: "a system is a path like /redfish/v1/Systems/1 or a bare Id like 1",
            });
        }
        // The Systems path comes from the service root; log in while it is read.
        self.inner.prime(true).await?;
        let mut url = self.inner.endpoint.resolve(&self.systems_path().await?)?;
        url.path_segments_mut()
            .map_err(|()| Error::InvalidPath {
                path: system.to_owned(),
                reason: "cannot be joined",
            })?
            .pop_if_empty()
            .push(system);
        Ok(url)
    }

    /// Every member link of a collection, following `Members@odata.nextLink`.
    pub(crate) async fn member_links(&self, path: &str) -> Result<Vec<Link>, Error> {
        let mut url = self.inner.endpoint.resolve(path)?;
        let mut members = Vec::new();
        let mut seen = std::collections::HashSet::new();
        loop {
            seen.insert(url.clone());
            let page: Collection<Link> = self.inner.get_typed(&url).await?;
            members.extend(page.members);
            self.check_member_count(path, members.len())?;
            match page.next_link {
                Some(next) => {
                    let next = self.inner.endpoint.resolve(&next)?;
                    if seen.contains(&next) || seen.len() >= MAX_PAGES {
                        tracing::warn!(path = %next.path(), "collection paging loops; stopping");
                        break;
                    }
                    url = next;
                }
                None => break,
            }
        }
        Ok(members)
    }

    /// Every member of a collection, decoded. With `expand`, one `$expand` request per page in
    /// the one-level form the service advertises (`.`, else `*`; see
    /// [`crate::models::ExpandQuery::expand_value`]); members the expansion left incomplete
    /// (quirk `expand_drops_required_properties`) are fetched one by one. Without, or when
    /// nothing usable is advertised, one GET per member, run concurrently within the client's
    /// limit.
    pub(crate) async fn collection_members<T>(
        &self,
        path: &str,
        expand: bool,
    ) -> Result<Vec<T>, Error>
    where
        T: serde::de::DeserializeOwned,
    {
        if !expand {
            let links = self.member_links(path).await?;
            return self.fetch_links(&links).await;
        }
        // The form is the one `ProtocolFeaturesSupported` allows for one level.
        let form = self
            .inner
            .service_root()
            .await?
            .protocol_features_supported
            .as_ref()
            .and_then(|f| f.expand_query.as_ref())
            .and_then(|e| e.expand_value(1));
        let Some((form, _)) = form else {
            return Box::pin(self.collection_members(path, false)).await;
        };
        let mut url = self.inner.endpoint.resolve(path)?;
        url.set_query(Some(&format!("$expand={form}")));
        let mut slots: Vec<MemberSlot<T>> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        loop {
            seen.insert(url.clone());
            let page: Collection<Value> = self.inner.get_typed(&url).await?;
            for (index, member) in page.members.into_iter().enumerate() {
                if has_resource_basics(&member) {
                    let prefix = format!("Members[{index}]");
                    slots.push(MemberSlot::Ready(decode_value(&url, &prefix, member)?));
                } else {
                    let link = member
                        .get("@odata.id")
                        .and_then(Value::as_str)
                        .map(|id| Link {
                            odata_id: Some(id.into()),
                        });
                    match link {
                        Some(link) => slots.push(MemberSlot::Fetch(link)),
                        // Without even an id, only the plain collection can tell.
                        None => return Box::pin(self.collection_members(path, false)).await,
                    }
                }
            }
            self.check_member_count(path, slots.len())?;
            match page.next_link {
                Some(next) => {
                    let next = self.inner.endpoint.resolve(&next)?;
                    if seen.contains(&next) || seen.len() >= MAX_PAGES {
                        break;
                    }
                    url = next;
                }
                None => break,
            }
        }
        let to_fetch: Vec<Link> = slots
            .iter()
            .filter_map(|s| match s {
                MemberSlot::Fetch(link) => Some(link.clone()),
                MemberSlot::Ready(_) => None,
            })
            .collect();
        if !to_fetch.is_empty() {
            tracing::debug!(
                path,
                count = to_fetch.len(),
                "expanded members incomplete; fetching them"
            );
        }
        let mut fetched = self.fetch_links::<T>(&to_fetch).await?.into_iter();
        Ok(slots
            .into_iter()
            .filter_map(|slot| match slot {
                MemberSlot::Ready(value) => Some(value),
                MemberSlot::Fetch(_) => fetched.next(),
            })
            .collect())
    }

    /// GETs every link concurrently (bounded by the client's limit), in order. Links without
    /// an id and repeated links are skipped.
    pub(crate) async fn fetch_links<T>(&self, links: &[Link]) -> Result<Vec<T>, Error>
    where
        T: serde::de::DeserializeOwned,
    {
        let mut seen = std::collections::HashSet::new();
        let mut urls = Vec::new();
        for path in links.iter().filter_map(Link::path) {
            let url = self.inner.endpoint.resolve(path)?;
            if seen.insert(crate::endpoint::resource_key(&url).to_owned()) {
                urls.push(url);
            }
        }
        futures::future::try_join_all(urls.iter().map(|url| self.inner.get_typed::<T>(url))).await
    }

    /// PATCH with the ETag sequence: as known, strong form, none.
    async fn patch_url(&self, url: &Url, body: &Value) -> Result<Value, Error> {
        Ok(self.patch_at(url, body).await?.into_body())
    }

    async fn action_info_allowable(
        &self,
        info: &str,
        parameter: &str,
    ) -> Result<Vec<ResetType>, Error> {
        let url = self.inner.endpoint.resolve(info)?;
        let value = self.inner.get_value(&url).await?;
        let allowed = value
            .get("Parameters")
            .and_then(Value::as_array)
            .and_then(|params| {
                params
                    .iter()
                    .find(|p| p.get("Name").and_then(Value::as_str) == Some(parameter))
            })
            .and_then(|p| p.get("AllowableValues"))
            .and_then(Value::as_array)
            .map(|values| {
                values
                    .iter()
                    .filter_map(Value::as_str)
                    .map(ResetType::from)
                    .collect()
            })
            .unwrap_or_default();
        Ok(allowed)
    }
}

impl RedfishClient {
    /// Refuses a collection with more members than the client follows (a broken or hostile
    /// BMC may list millions).
    pub(crate) fn check_member_count(&self, path: &str, count: usize) -> Result<(), Error> {
        if count > self.inner.max_collection_members {
            return Err(Error::CollectionTooLarge {
                url: self.inner.endpoint.resolve(path)?.to_string(),
                limit: self.inner.max_collection_members,
            });
        }
        Ok(())
    }

    /// The quirks that govern reads. Once resolved, those. Before, when the service root
    /// names no vendor ferrofish knows, or one whose rules depend on the firmware
    /// ([`firmware_matters`]),
    /// what the root alone decides, computed without a request and kept apart (the transport
    /// uses them until the vendor is known); the first operation a vendor or firmware rule is
    /// about still reads the Manager and resolves them all. Otherwise the full resolution,
    /// which needs no Manager when the root names the vendor.
    pub(crate) async fn read_quirks(&self) -> Result<Quirks, Error> {
        if let Some((_, quirks)) = self.inner.vendor_quirks.get() {
            return Ok(quirks.clone());
        }
        let root = self.inner.service_root().await?;
        let named = detect_vendor(root, None);
        // A root that names no vendor ferrofish knows: reads go by what it advertises (DMTF
        // behaviour) and the Manager is read only when a write needs the vendor, so no read
        // waits two round trips for it. An expansion such a BMC gets wrong (an AMI board
        // under another name) costs member reads, not a failure: incomplete members are read.
        if firmware_matters(&named) || matches!(named, Vendor::Generic | Vendor::Other(_)) {
            let quirks = self
                .inner
                .root_quirks
                .get_or_init(|| self.inner.quirks_from_root(root));
            return Ok(quirks.clone());
        }
        Ok(self.vendor_and_quirks().await?.1.clone())
    }
}

/// Who a BMC is ([`RedfishClient::identity`]).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct BmcIdentity {
    /// The vendor detected from the service root and the first Manager.
    pub vendor: Vendor,
    /// The first Manager's `Model` (`14G Monolithic`, `iLO 5`).
    pub model: Option<String>,
    /// The first Manager's `FirmwareVersion`.
    pub firmware: Option<String>,
    /// The quirks in force that differ from DMTF behaviour, by [`Quirks`] field, with their
    /// values.
    pub quirks: serde_json::Map<String, Value>,
}

const MAX_PAGES: usize = 1000;

/// The `@odata.type` namespace of the resources the system operations accept.
pub(crate) const COMPUTER_SYSTEM: &str = "ComputerSystem";

enum MemberSlot<T> {
    Ready(T),
    Fetch(Link),
}

/// The Reset action's conventional URL, for a system that names no target: the system's
/// path with `Actions/ComputerSystem.Reset` appended (keeping its last segment, which a
/// plain URL join would replace). Pure.
fn reset_fallback_url(system_url: &Url) -> Option<Url> {
    let mut url = system_url.clone();
    url.set_query(None);
    url.path_segments_mut()
        .ok()?
        .pop_if_empty()
        .extend(["Actions", "ComputerSystem.Reset"]);
    Some(url)
}

/// How a power-on the BMC does not offer is done instead (quirk
/// `irmc_power_on_is_a_button_press`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ButtonPress {
    /// The system is on already: pressing would turn it off.
    NothingToDo,
    /// Press the power button.
    Press,
}

/// Whether a refused `On` becomes a button press: only with the quirk, only for `On`, only
/// where `PushPowerButton` is offered, and never while the system is on or on its way (a
/// press there would turn it off). `None` leaves the refusal as it is. Pure.
fn on_by_button(
    quirks: &Quirks,
    allowed: &[ResetType],
    requested: &ResetType,
    current: Option<&PowerState>,
) -> Option<ButtonPress> {
    if !quirks.power_on_by_push_button
        || *requested != ResetType::On
        || !allowed.contains(&ResetType::PushPowerButton)
    {
        return None;
    }
    match current {
        Some(PowerState::On | PowerState::PoweringOn) => Some(ButtonPress::NothingToDo),
        Some(PowerState::Off) => Some(ButtonPress::Press),
        // Powering off, paused or unknown: a press could do either; leave the refusal.
        _ => None,
    }
}

/// Whether a reset would leave the system where it is (quirk `redundant_power_conflict`).
fn already_in_state(current: Option<&PowerState>, reset: &ResetType) -> bool {
    match reset {
        ResetType::On | ResetType::ForceOn => current == Some(&PowerState::On),
        ResetType::ForceOff | ResetType::GracefulShutdown => current == Some(&PowerState::Off),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn irmc_power_on_is_a_button_press_only_from_off_and_only_with_the_quirk() {
        let irmc = [
            ResetType::ForceOff,
            ResetType::ForceRestart,
            ResetType::Nmi,
            ResetType::PushPowerButton,
        ];
        let on = Quirks {
            power_on_by_push_button: true,
            ..Quirks::default()
        };
        let off = Some(&PowerState::Off);
        assert_eq!(
            on_by_button(&on, &irmc, &ResetType::On, off),
            Some(ButtonPress::Press)
        );
        assert_eq!(
            on_by_button(&on, &irmc, &ResetType::On, Some(&PowerState::On)),
            Some(ButtonPress::NothingToDo)
        );
        assert_eq!(
            on_by_button(&on, &irmc, &ResetType::On, Some(&PowerState::PoweringOff)),
            None
        );
        assert_eq!(on_by_button(&on, &irmc, &ResetType::On, None), None);
        assert_eq!(
            on_by_button(&on, &irmc, &ResetType::PowerCycle, off),
            None,
            "only On"
        );
        assert_eq!(
            on_by_button(&on, &irmc[..3], &ResetType::On, off),
            None,
            "no button offered"
        );
        assert_eq!(
            on_by_button(&Quirks::default(), &irmc, &ResetType::On, off),
            None,
            "quirk off"
        );
    }

    #[test]
    fn redundant_power_actions() {
        assert!(already_in_state(Some(&PowerState::On), &ResetType::On));
        assert!(already_in_state(
            Some(&PowerState::Off),
            &ResetType::ForceOff
        ));
        assert!(!already_in_state(
            Some(&PowerState::On),
            &ResetType::ForceRestart
        ));
        assert!(!already_in_state(None, &ResetType::On));
    }

    #[test]
    fn reset_fallback_keeps_the_system_segment() {
        for path in ["/redfish/v1/Systems/1", "/redfish/v1/Systems/1/"] {
            let url = Url::parse(&format!("https://bmc{path}")).unwrap();
            assert_eq!(
                reset_fallback_url(&url).unwrap().path(),
                "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset"
            );
        }
    }

    #[test]
    fn build_does_not_need_a_network_and_defaults_to_https() {
        let client = RedfishClient::builder("bmc.invalid:8443").build().unwrap();
        assert_eq!(client.endpoint().as_str(), "https://bmc.invalid:8443/");
        assert_eq!(client.request_counts(), RequestCounts::default());
    }

    #[test]
    fn build_refuses_bad_tls_material() {
        let err = RedfishClient::builder("bmc")
            .tls(TlsVerification::CaBundlePem("not a pem".into()))
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::TlsConfig { .. }), "{err}");
    }

    #[test]
    fn tls_debug_never_shows_the_pem_which_may_hold_a_key() {
        let pem = "-----BEGIN PRIVATE KEY-----\nS3cr3tKeyMaterial\n-----END PRIVATE KEY-----\n";
        for tls in [
            TlsVerification::PinnedCertificatePem(pem.into()),
            TlsVerification::CaBundlePem(pem.into()),
        ] {
            let builder = RedfishClient::builder("bmc").tls(tls.clone());
            let shown = format!("{tls:?} {builder:?}");
            assert!(!shown.contains("S3cr3tKeyMaterial"), "{shown}");
            assert!(
                shown.contains(&format!("<{} bytes of PEM>", pem.len())),
                "{shown}"
            );
        }
        assert_eq!(format!("{:?}", TlsVerification::SystemRoots), "SystemRoots");
    }

    #[test]
    fn client_is_send_sync_static_clone() {
        fn check<T: Clone + Send + Sync + 'static>() {}
        check::<RedfishClient>();
    }
}
