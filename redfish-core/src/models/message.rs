//! Redfish messages (`@Message.ExtendedInfo`) and error bodies.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::de;

/// One Redfish message, as found in `@Message.ExtendedInfo` or a Task's `Messages`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct RedfishMessage {
    /// For example `Base.1.8.PropertyValueNotInList` or `IDRAC.2.8.SYS518`.
    #[serde(deserialize_with = "de::opt_string")]
    pub message_id: Option<String>,
    /// Human-readable text. A BMC may echo request values here.
    #[serde(deserialize_with = "de::opt_string")]
    pub message: Option<String>,
    /// What the BMC suggests doing.
    #[serde(deserialize_with = "de::opt_string")]
    pub resolution: Option<String>,
    /// `Severity` (deprecated in newer schemas, still common).
    #[serde(deserialize_with = "de::opt_string")]
    pub severity: Option<String>,
    /// `MessageSeverity` (newer schemas).
    #[serde(deserialize_with = "de::opt_string")]
    pub message_severity: Option<String>,
    /// `MessageArgs`, string arguments only.
    #[serde(deserialize_with = "de::string_list")]
    pub message_args: Vec<String>,
    /// Every other property, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl RedfishMessage {
    /// The last dot-separated part of the `MessageId` (`SYS518` for `IDRAC.2.8.SYS518`), which
    /// stays the same across registry versions.
    pub fn short_id(&self) -> Option<&str> {
        self.message_id
            .as_deref()
            .map(|id| id.rsplit('.').next().unwrap_or(id))
    }

    /// Replaces every occurrence of `secret` in the text fields, for messages that answer a
    /// request which carried the secret (a BMC may echo a refused password).
    pub(crate) fn scrub(&mut self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        let scrub = |field: &mut Option<String>| {
            if let Some(text) = field.as_mut().filter(|t| t.contains(secret)) {
                *text = text.replace(secret, "[redacted]");
            }
        };
        // A MessageId reaches `Display`; a hostile or careless BMC can put anything there.
        scrub(&mut self.message_id);
        scrub(&mut self.message);
        scrub(&mut self.resolution);
        for arg in &mut self.message_args {
            if arg.contains(secret) {
                *arg = arg.replace(secret, "[redacted]");
            }
        }
        let mut extra = Value::Object(std::mem::take(&mut self.extra));
        scrub_value(&mut extra, secret);
        if let Value::Object(map) = extra {
            self.extra = map;
        }
    }
}

fn scrub_value(value: &mut Value, secret: &str) {
    match value {
        Value::String(s) if s.contains(secret) => *s = s.replace(secret, "[redacted]"),
        Value::Array(items) => items.iter_mut().for_each(|v| scrub_value(v, secret)),
        Value::Object(map) => map.values_mut().for_each(|v| scrub_value(v, secret)),
        _ => {}
    }
}

/// Extracts the messages from an error body. Accepts `@Message.ExtendedInfo` as a list or as a
/// single object (quirk `extended_info_single_object`), inside `error` or at the top level; falls back to `error.code` and
/// `error.message`. Anything unparseable yields an empty list: the status still tells the story.
pub fn parse_error_messages(body: &[u8]) -> Vec<RedfishMessage> {
    let Ok(doc) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    let error = doc.get("error");
    let info = error
        .and_then(|e| e.get("@Message.ExtendedInfo"))
        .or_else(|| doc.get("@Message.ExtendedInfo"));
    let mut messages: Vec<RedfishMessage> = match info {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| serde_json::from_value(v.clone()).ok())
            .collect(),
        Some(obj @ Value::Object(_)) => serde_json::from_value(obj.clone()).into_iter().collect(),
        _ => Vec::new(),
    };
    if messages.is_empty()
        && let Some(error) = error
    {
        let code = error.get("code").and_then(Value::as_str);
        let text = error.get("message").and_then(Value::as_str);
        if code.is_some() || text.is_some() {
            messages.push(RedfishMessage {
                message_id: code.map(str::to_owned),
                message: text.map(str::to_owned),
                ..RedfishMessage::default()
            });
        }
    }
    messages
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ids(body: &Value) -> Vec<String> {
        parse_error_messages(body.to_string().as_bytes())
            .into_iter()
            .filter_map(|m| m.message_id)
            .collect()
    }

    #[test]
    fn extended_info_as_list() {
        let body = json!({"error": {"code": "Base.1.8.GeneralError", "message": "x",
        "@Message.ExtendedInfo": [
            {"MessageId": "Base.1.8.PropertyUnknown", "Message": "m", "Resolution": "r",
             "Severity": "Warning", "MessageArgs": ["Foo", 3]},
            {"MessageId": "IDRAC.2.8.SYS518"}
        ]}});
        assert_eq!(
            ids(&body),
            vec!["Base.1.8.PropertyUnknown", "IDRAC.2.8.SYS518"]
        );
        let parsed = parse_error_messages(body.to_string().as_bytes());
        assert_eq!(parsed[0].resolution.as_deref(), Some("r"));
        assert_eq!(parsed[0].severity.as_deref(), Some("Warning"));
        assert_eq!(parsed[0].message_args, vec!["Foo"]);
        assert_eq!(parsed[1].short_id(), Some("SYS518"));
    }

    #[test]
    fn extended_info_as_single_object() {
        let body = json!({"error": {"@Message.ExtendedInfo":
            {"MessageId": "iLO.2.14.InvalidOperationForSystemState"}}});
        assert_eq!(ids(&body), vec!["iLO.2.14.InvalidOperationForSystemState"]);
    }

    #[test]
    fn top_level_extended_info() {
        let body = json!({"@Message.ExtendedInfo": [{"MessageId": "Base.1.0.Success"}]});
        assert_eq!(ids(&body), vec!["Base.1.0.Success"]);
    }

    #[test]
    fn falls_back_to_error_code() {
        let body = json!({"error": {"code": "Base.1.8.InsufficientPrivilege", "message": "no"}});
        assert_eq!(ids(&body), vec!["Base.1.8.InsufficientPrivilege"]);
    }

    #[test]
    fn garbage_yields_nothing() {
        assert!(parse_error_messages(b"<html>502</html>").is_empty());
        assert!(parse_error_messages(b"").is_empty());
        assert!(ids(&json!({"error": "text"})).is_empty());
    }

    #[test]
    fn scrub_removes_secret_everywhere() {
        let mut m = RedfishMessage {
            message_id: Some("Base.1.8.PropertyValueTypeError".into()),
            message: Some("The value 'pw123' for Password is wrong".into()),
            message_args: vec!["pw123".into(), "Password".into()],
            ..RedfishMessage::default()
        };
        m.extra.insert("Oem".into(), json!({"Echo": ["x pw123 y"]}));
        m.message_id = Some("Oem.1.0.pw123".into());
        m.scrub("pw123");
        assert_eq!(m.message_id.as_deref(), Some("Oem.1.0.[redacted]"));
        assert!(!format!("{m:?}").contains("pw123"));
        assert_eq!(m.message_args[1], "Password");
    }
}
