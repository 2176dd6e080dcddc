//! Reading resources: GET, decode, check the declared type, remember the ETag.

use reqwest::Method;
use serde_json::Value;
use url::Url;

use super::state::{Inner, RequestOptions, Response};
use crate::Error;
use crate::decode::{Annotations, check_resource_type, decode, response_etag};

impl Inner {
    pub(crate) async fn get_value(&self, url: &Url) -> Result<Value, Error> {
        let response = self
            .request(Method::GET, url, None, &RequestOptions::default())
            .await?;
        let value: Value =
            decode(&response.url, &response.body).map_err(|e| self.scrubbed_decode(e))?;
        self.remember_from(&response, &value);
        Ok(value)
    }

    /// GET a resource and decode it, remembering its ETag.
    pub(crate) async fn get_typed<T: serde::de::DeserializeOwned>(
        &self,
        url: &Url,
    ) -> Result<T, Error> {
        self.get_checked(url, None).await
    }

    /// GET a resource that must be of type `expected` (for example `ComputerSystem`): a body
    /// whose `@odata.type` names another type is [`Error::WrongResourceType`]. A body without
    /// `@odata.type` is accepted, as some firmware leaves it out.
    pub(crate) async fn get_resource<T: serde::de::DeserializeOwned>(
        &self,
        url: &Url,
        expected: &'static str,
    ) -> Result<T, Error> {
        self.get_checked(url, Some(expected)).await
    }

    pub(super) async fn get_checked<T: serde::de::DeserializeOwned>(
        &self,
        url: &Url,
        expected: Option<&'static str>,
    ) -> Result<T, Error> {
        let response = self
            .request(Method::GET, url, None, &RequestOptions::default())
            .await?;
        let annotations = serde_json::from_slice::<Annotations>(&response.body).ok();
        if let Some(expected) = expected {
            // Checked before decoding: another resource may decode as this one, emptily.
            let declared = annotations.as_ref().and_then(|a| a.odata_type.as_deref());
            check_resource_type(url, declared, expected)?;
        }
        let typed: T =
            decode(&response.url, &response.body).map_err(|e| self.scrubbed_decode(e))?;
        let etag_in_body = annotations.and_then(|a| a.etag);
        let strip = self.quirks_now().strip_gzip_etag_suffix;
        let tag = response_etag(&response.headers, etag_in_body.as_deref(), strip);
        self.remember_etag(&response.url, tag);
        Ok(typed)
    }

    /// A decode error may quote a value from the body: a BMC that echoes the password or the
    /// session token there must not get it into an error.
    fn scrubbed_decode(&self, mut err: Error) -> Error {
        self.scrub_credentials(&mut err);
        if let Ok(state) = self.shared.state.try_lock()
            && let super::shared::ActiveAuth::Session(session) = &state.active
        {
            err.scrub_messages(secrecy::ExposeSecret::expose_secret(&session.token));
        }
        err
    }

    pub(super) fn remember_from(&self, response: &Response, value: &Value) {
        let strip = self.quirks_now().strip_gzip_etag_suffix;
        let body_etag = value.get("@odata.etag").and_then(Value::as_str);
        let tag = response_etag(&response.headers, body_etag, strip);
        self.remember_etag(&response.url, tag);
    }
}
