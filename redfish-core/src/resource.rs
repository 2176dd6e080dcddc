//! The public resource layer: what `inventory`, the handles, `ferrofish-bios`,
//! `ferrofish-vmedia` and the facade build on. Typed GET that remembers the ETag and checks
//! `@odata.type`; PATCH with the `If-Match` sequence; POST of an action or to a collection;
//! DELETE; each returns a [`Response`] with status, `Location`, `Retry-After`, `ETag` and the
//! decoded body. Collections and `@Redfish.Settings` objects are read here too.

use std::time::{Duration, SystemTime};

use reqwest::Method;
use reqwest::header;
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use crate::decode::{decode, response_etag};
use crate::etag::{self, ETag};
use crate::models::RedfishMessage;
use crate::models::redfish_enum;
use crate::transport::RequestOptions;
use crate::{Error, RedfishClient};

redfish_enum! {
    /// When the BMC applies pending settings (`@Redfish.SettingsApplyTime`,
    /// `SupportedApplyTimes`).
    ApplyTime {
        /// At once.
        Immediate => "Immediate",
        /// On the next reset of the system.
        OnReset => "OnReset",
        /// When the next maintenance window starts.
        AtMaintenanceWindowStart => "AtMaintenanceWindowStart",
        /// On a reset inside the maintenance window.
        InMaintenanceWindowOnReset => "InMaintenanceWindowOnReset",
    }
}

/// A successful answer: status, the headers that matter, and the body as JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    status: u16,
    url: Url,
    location: Option<String>,
    retry_after: Option<Duration>,
    etag: Option<ETag>,
    body: Value,
}

impl Response {
    /// The HTTP status (2xx).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The URL that answered (after same-origin redirects).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The `Location` header as the BMC sent it: a task monitor after a 202, the new member
    /// after a POST to a collection. Resolve it with [`RedfishClient::resolve_link`], which
    /// refuses another origin.
    pub fn location(&self) -> Option<&str> {
        self.location.as_deref()
    }

    /// The `Retry-After` header as a delay (seconds or an HTTP date), capped at one hour.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// The entity tag (header first, then `@odata.etag` in the body).
    pub fn etag(&self) -> Option<&ETag> {
        self.etag.as_ref()
    }

    /// The body, `Value::Null` when the answer had none (or was not JSON; a write's answer
    /// body is informational).
    pub fn body(&self) -> &Value {
        &self.body
    }

    /// Takes the body.
    pub fn into_body(self) -> Value {
        self.body
    }

    /// `202 Accepted`: the BMC started a task; follow it with [`RedfishClient::wait_task`].
    pub fn is_accepted(&self) -> bool {
        self.status == 202
    }

    /// Builds a response from its parts (for tests and for callers that stitch answers).
    pub fn new(status: u16, url: Url, location: Option<String>, body: Value) -> Response {
        Response {
            status,
            url,
            location,
            retry_after: None,
            etag: None,
            body,
        }
    }
}

/// A resource read with a typed GET: where it lives, its entity tag and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Resource<T> {
    /// The resource's URL.
    pub url: Url,
    /// Its entity tag when the BMC sent one; the next PATCH of this URL sends it.
    pub etag: Option<ETag>,
    /// The decoded body.
    pub value: T,
}

/// A resource's `@Redfish.Settings` object: where pending changes are written and when the
/// BMC can apply them (BIOS, boot settings, network settings on some BMCs).
#[derive(Clone, Debug, PartialEq)]
pub struct SettingsObject {
    /// The resource whose settings these are (for example `…/Bios`).
    pub resource_url: Url,
    /// Where pending values are PATCHed (for example `…/Bios/Settings`, HPE's
    /// `…/Bios/settings`, Supermicro's `…/Bios/SD`).
    pub settings_url: Url,
    /// `SupportedApplyTimes`; empty when the BMC does not say (apply on the next reset).
    pub supported_apply_times: Vec<ApplyTime>,
    /// `Messages`: the BMC's verdict on the last settings it applied.
    pub messages: Vec<RedfishMessage>,
    /// `Time`: when the settings object was last applied.
    pub time: Option<String>,
}

impl RedfishClient {
    /// Resolves a link the BMC sent (`Location`, `@odata.id`, a task monitor) against the
    /// endpoint; a link to another origin is [`Error::OffOriginLink`].
    pub fn resolve_link(&self, link: &str) -> Result<Url, Error> {
        self.inner.endpoint.resolve(link)
    }

    /// GET any Redfish path of this service as JSON. The [`Response`] carries the status,
    /// headers that matter and the body; the ETag is remembered for the next PATCH.
    pub async fn get_json(&self, path: &str) -> Result<Response, Error> {
        let url = self.inner.endpoint.resolve_caller_path(path)?;
        self.send(Method::GET, &url, None, &RequestOptions::default())
            .await
    }

    /// PATCH any Redfish path: [`RedfishClient::patch`], under the name the raw JSON calls
    /// share.
    pub async fn patch_json(&self, path: &str, body: &Value) -> Result<Response, Error> {
        self.patch(path, body).await
    }

    /// POST to any Redfish path (an action, a collection): [`RedfishClient::post`], under the
    /// name the raw JSON calls share. Retried only on the BMC's known-transient messages.
    pub async fn post_json(&self, path: &str, body: &Value) -> Result<Response, Error> {
        self.post(path, body).await
    }

    /// GETs any resource of this service and decodes it as `T` (a model or
    /// [`serde_json::Value`]), remembering its ETag for the next PATCH.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<Resource<T>, Error> {
        let url = self.inner.endpoint.resolve_caller_path(path)?;
        self.get_url(&url, None).await
    }

    /// Like [`RedfishClient::get`], refusing a resource whose `@odata.type` names another
    /// type than `resource_type` (for example `"Bios"`) with [`Error::WrongResourceType`]; a
    /// body without `@odata.type` is accepted, as some firmware leaves it out.
    pub async fn get_as<T: DeserializeOwned>(
        &self,
        path: &str,
        resource_type: &'static str,
    ) -> Result<Resource<T>, Error> {
        let url = self.inner.endpoint.resolve_caller_path(path)?;
        self.get_url(&url, Some(resource_type)).await
    }

    pub(crate) async fn get_url<T: DeserializeOwned>(
        &self,
        url: &Url,
        resource_type: Option<&'static str>,
    ) -> Result<Resource<T>, Error> {
        let value = match resource_type {
            Some(expected) => self.inner.get_resource::<T>(url, expected).await?,
            None => self.inner.get_typed::<T>(url).await?,
        };
        Ok(Resource {
            url: url.clone(),
            etag: self.inner.etag_for(url),
            value,
        })
    }

    /// PATCHes any resource with `If-Match` from its last GET, falling back weak → strong →
    /// none on 412 (and `*` where the BMC requires the header but no tag is known).
    pub async fn patch(&self, path: &str, body: &Value) -> Result<Response, Error> {
        let url = self.inner.endpoint.resolve_caller_path(path)?;
        self.patch_at(&url, body).await
    }

    pub(crate) async fn patch_at(&self, url: &Url, body: &Value) -> Result<Response, Error> {
        // The `If-Match` rules are vendor data (quirk `patch_requires_if_match`): a PATCH that
        // is a client's first request must not go out under the DMTF default.
        let quirks = self.vendor_and_quirks().await?.1.clone();
        let known = self.inner.etag_for(url);
        let mut sequence = etag::if_match_sequence(known.as_ref(), quirks.if_match_required)
            .into_iter()
            .peekable();
        loop {
            let options = RequestOptions {
                if_match: sequence.next().flatten(),
                ..RequestOptions::default()
            };
            match self.send(Method::PATCH, url, Some(body), &options).await {
                Err(err) if err.is_precondition_failed() && sequence.peek().is_some() => {
                    tracing::debug!(path = %url.path(), "412 on PATCH; trying the next If-Match form");
                }
                other => return other,
            }
        }
    }

    /// POSTs to an action target or a collection. Retried only on the BMC's known-transient
    /// messages (the vendor's table is resolved first).
    pub async fn post(&self, path: &str, body: &Value) -> Result<Response, Error> {
        let url = self.inner.endpoint.resolve_caller_path(path)?;
        self.post_at(&url, body).await
    }

    pub(crate) async fn post_at(&self, url: &Url, body: &Value) -> Result<Response, Error> {
        // The transient-message table is vendor data: make sure it is known.
        self.vendor_and_quirks().await?;
        self.send(Method::POST, url, Some(body), &RequestOptions::default())
            .await
    }

    /// DELETEs any resource (a session, a task monitor to cancel its task, a job).
    pub async fn delete(&self, path: &str) -> Result<Response, Error> {
        let url = self.inner.endpoint.resolve_caller_path(path)?;
        self.send(Method::DELETE, &url, None, &RequestOptions::default())
            .await
    }

    /// A resource's `@Redfish.Settings` object, or `None` when the resource has none (the
    /// resource itself then takes writes). The resource is read once; its ETag is kept.
    pub async fn settings_object(&self, path: &str) -> Result<Option<SettingsObject>, Error> {
        let resource: Resource<Value> = self.get(path).await?;
        settings_object_of(&self.inner.endpoint, &resource.url, &resource.value)
    }

    /// A value computed at most once per client under `key` (for example a BIOS attribute
    /// registry): the first caller runs `init`, concurrent callers wait for it, later callers
    /// get a clone. A failed `init` is not cached. Values are kept by key and type, so two
    /// crates that pick the same key for different types do not collide.
    pub async fn cached<T, F, Fut>(&self, key: &str, init: F) -> Result<T, Error>
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, Error>>,
    {
        let slot = {
            let mut map = self
                .inner
                .extensions
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            std::sync::Arc::clone(
                map.entry((key.to_owned(), std::any::TypeId::of::<T>()))
                    .or_default(),
            )
        };
        let value = slot
            .get_or_try_init(|| async {
                let value: std::sync::Arc<dyn std::any::Any + Send + Sync> =
                    std::sync::Arc::new(init().await?);
                Ok::<_, Error>(value)
            })
            .await?;
        // The slot is keyed by `T`'s type id, so it holds a `T`.
        value.downcast_ref::<T>().cloned().ok_or(Error::Closed)
    }

    /// Sends one request and turns the answer into a [`Response`].
    pub(crate) async fn send(
        &self,
        method: Method,
        url: &Url,
        body: Option<&Value>,
        options: &RequestOptions,
    ) -> Result<Response, Error> {
        let method_is_get = method == Method::GET;
        let wire = self.inner.request(method, url, body, options).await?;
        let strip = self.inner.quirks_now().strip_gzip_etag_suffix;
        let body = if wire.body.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            match decode::<Value>(&wire.url, &wire.body) {
                Ok(value) => value,
                // A read must be JSON: say where it was not.
                Err(err) if method_is_get => {
                    let mut err = err;
                    self.inner.scrub_credentials(&mut err);
                    return Err(err);
                }
                // A write's answer body is informational.
                Err(_) => {
                    tracing::debug!(url = %wire.url, "the answer to a write is not JSON; ignoring its body");
                    Value::Null
                }
            }
        };
        let body_etag = body.get("@odata.etag").and_then(Value::as_str);
        let etag = response_etag(&wire.headers, body_etag, strip);
        if method_is_get {
            self.inner.remember_etag(&wire.url, etag.clone());
        }
        let text = |name| {
            wire.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        Ok(Response {
            status: wire.status.as_u16(),
            location: text(header::LOCATION),
            retry_after: text(header::RETRY_AFTER).and_then(|v| {
                crate::retry::parse_retry_after(&v, SystemTime::now(), MAX_RETRY_AFTER)
            }),
            url: wire.url,
            etag,
            body,
        })
    }
}

/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Reads `@Redfish.Settings` out of a resource body. Pure.
pub(crate) fn settings_object_of(
    endpoint: &crate::Endpoint,
    resource_url: &Url,
    body: &Value,
) -> Result<Option<SettingsObject>, Error> {
    let Some(settings) = body.get("@Redfish.Settings") else {
        return Ok(None);
    };
    let Some(link) = settings
        .get("SettingsObject")
        .and_then(|o| o.get("@odata.id"))
        .and_then(Value::as_str)
    else {
        return Ok(None);
    };
    let settings_url = endpoint.resolve(link)?;
    let supported_apply_times = settings
        .get("SupportedApplyTimes")
        .and_then(Value::as_array)
        .map(|values| {
            values
                .iter()
                .filter_map(Value::as_str)
                .map(ApplyTime::from)
                .collect()
        })
        .unwrap_or_default();
    let messages = settings
        .get("Messages")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|m| serde_json::from_value(m.clone()).ok())
                .collect()
        })
        .unwrap_or_default();
    Ok(Some(SettingsObject {
        resource_url: resource_url.clone(),
        settings_url,
        supported_apply_times,
        messages,
        time: settings
            .get("Time")
            .and_then(Value::as_str)
            .map(str::to_owned),
    }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn settings_object_with_apply_times_and_messages() {
        let endpoint = crate::Endpoint::parse("https://bmc").unwrap();
        let bios = endpoint.resolve("/redfish/v1/Systems/1/Bios").unwrap();
        let body = json!({
            "@Redfish.Settings": {
                "SettingsObject": {"@odata.id": "/redfish/v1/Systems/1/Bios/Settings"},
                "SupportedApplyTimes": ["OnReset", "AtMaintenanceWindowStart", "Vendorish"],
                "Messages": [{"MessageId": "Base.1.8.Success"}],
                "Time": "2026-12-06T03:00:00Z"
            }
        });
        let settings = settings_object_of(&endpoint, &bios, &body)
            .unwrap()
            .unwrap();
        assert_eq!(
            settings.settings_url.path(),
            "/redfish/v1/Systems/1/Bios/Settings"
        );
        assert_eq!(
            settings.supported_apply_times,
            vec![
                ApplyTime::OnReset,
                ApplyTime::AtMaintenanceWindowStart,
                ApplyTime::Other("Vendorish".into())
            ]
        );
        assert_eq!(
            settings.messages[0].message_id.as_deref(),
            Some("Base.1.8.Success")
        );
        assert_eq!(settings.time.as_deref(), Some("2026-12-06T03:00:00Z"));
        assert_eq!(
            settings_object_of(&endpoint, &bios, &json!({})).unwrap(),
            None
        );
    }

    #[tokio::test]
    async fn cached_runs_init_once_per_client_and_not_after_a_failure() {
        let client = RedfishClient::builder("bmc.invalid").build().unwrap();
        let calls = std::sync::atomic::AtomicU32::new(0);
        let failed: Result<u32, Error> = client.cached("k", || async { Err(Error::Closed) }).await;
        assert!(failed.is_err());
        for _ in 0..3 {
            let v: u32 = client
                .cached("k", || async {
                    calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    Ok(7)
                })
                .await
                .unwrap();
            assert_eq!(v, 7);
        }
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
        let other: String = client
            .cached("k", || async { Ok("s".to_owned()) })
            .await
            .unwrap();
        assert_eq!(
            other, "s",
            "another type under the same key is its own value"
        );
        let first: u32 = client.cached("k", || async { Ok(8) }).await.unwrap();
        assert_eq!(first, 7, "and did not replace the first");
        let clone = client.clone();
        let again: String = clone
            .cached("k", || async { Ok("t".to_owned()) })
            .await
            .unwrap();
        assert_eq!(again, "s", "clones share the cache");
    }

    #[test]
    fn a_settings_object_on_another_origin_is_refused() {
        let endpoint = crate::Endpoint::parse("https://bmc").unwrap();
        let bios = endpoint.resolve("/redfish/v1/Systems/1/Bios").unwrap();
        let body =
            json!({"@Redfish.Settings": {"SettingsObject": {"@odata.id": "https://evil/x"}}});
        let err = settings_object_of(&endpoint, &bios, &body).unwrap_err();
        assert!(matches!(err, Error::OffOriginLink { .. }), "{err}");
    }
}
