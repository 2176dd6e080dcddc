//! Every message the service answers with, named in one place: the DMTF Base registry messages
//! (`Base.1.18.*`) with their text, arguments, related properties and resolution, the error
//! body that carries them, and the vendor messages of the personalities.

use axum::http::{StatusCode, header};
use serde_json::{Value, json};

use crate::bios::Violation;
use crate::personality::VendorError;
use crate::reply::Reply;

/// The Base registry version every `MessageId` names.
pub(crate) const BASE: &str = "Base.1.18";

/// One `@Message.ExtendedInfo` entry.
#[allow(clippy::needless_pass_by_value)]
fn message(id: &str, text: String, args: &[&str], related: &[String], resolution: &str) -> Value {
    json!({
        "@odata.type": "#Message.v1_3_0.Message",
        "MessageId": id,
        "Message": text,
        "MessageArgs": args,
        "MessageSeverity": "Warning",
        "Severity": "Warning",
        "RelatedProperties": related,
        "Resolution": resolution,
    })
}

fn base(name: &str, text: String, args: &[&str], related: &[String], resolution: &str) -> Value {
    message(&format!("{BASE}.{name}"), text, args, related, resolution)
}

/// A DSP0266 error body with these messages (`GeneralError` as the code when there are
/// several).
#[allow(clippy::needless_pass_by_value)]
pub(crate) fn error(status: StatusCode, infos: Vec<Value>) -> Reply {
    let (code, text) = match infos.as_slice() {
        [one] => (
            one["MessageId"].as_str().unwrap_or_default().to_owned(),
            one["Message"].as_str().unwrap_or_default().to_owned(),
        ),
        _ => (
            format!("{BASE}.GeneralError"),
            "A general error has occurred. See ExtendedInfo for more information.".to_owned(),
        ),
    };
    Reply::json(
        status,
        json!({"error": {"code": code, "message": text, "@Message.ExtendedInfo": infos}}),
    )
}

/// A 400 with these messages.
pub(crate) fn bad_request(infos: Vec<Value>) -> Reply {
    error(StatusCode::BAD_REQUEST, infos)
}

/// A personality's own error (status, `MessageId`, `Retry-After`).
pub(crate) fn vendor_error(e: VendorError) -> Reply {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let reply = error(
        status,
        vec![message(
            e.message_id,
            e.message.to_owned(),
            &[],
            &[],
            "Retry the operation later.",
        )],
    );
    match e.retry_after_secs {
        Some(secs) => reply.header(header::RETRY_AFTER, secs.to_string()),
        None => reply,
    }
}

/// iDRAC's refusal of a BIOS PATCH while a configuration job is scheduled.
pub(crate) fn dell_job_already_scheduled() -> Reply {
    bad_request(vec![message(
        "IDRAC.2.8.SYS011",
        "Pending configuration values are already committed, unable to perform another set operation.".into(),
        &[],
        &[],
        "Wait for the scheduled job to complete or delete the configuration jobs before attempting more set attribute operations.",
    )])
}

/// 404 `ResourceNotFound` for a path.
pub(crate) fn not_found(path: &str) -> Reply {
    error(
        StatusCode::NOT_FOUND,
        vec![base(
            "ResourceNotFound",
            format!("The requested resource of type Resource named '{path}' was not found."),
            &["Resource", path],
            &[],
            "Provide a valid resource identifier and resubmit the request.",
        )],
    )
}

/// 400 `MalformedJSON`.
pub(crate) fn malformed_json() -> Reply {
    malformed_json_resolved("Ensure that the request body is valid JSON and resubmit the request.")
}

/// 400 `MalformedJSON` with a resolution of its own (iLO's eject without a body).
pub(crate) fn malformed_json_resolved(resolution: &str) -> Reply {
    bad_request(vec![base(
        "MalformedJSON",
        "The request body submitted was malformed JSON and could not be parsed by the receiving service.".into(),
        &[],
        &[],
        resolution,
    )])
}

/// 401 `NoValidSession`, with no detail: a client must not learn whether the user or the
/// password was wrong.
pub(crate) fn unauthorized() -> Reply {
    error(
        StatusCode::UNAUTHORIZED,
        vec![base(
            "NoValidSession",
            "There is no valid session established with the implementation.".into(),
            &[],
            &[],
            "Establish a session before attempting any operations.",
        )],
    )
    .header(header::WWW_AUTHENTICATE, "Basic realm=\"Redfish\"")
}

/// 405 `OperationNotAllowed` with the `Allow` header.
pub(crate) fn method_not_allowed(allow: &str) -> Reply {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        vec![base(
            "OperationNotAllowed",
            "The HTTP method is not allowed on this resource.".into(),
            &[],
            &[],
            "Use a method listed in the Allow header.",
        )],
    )
    .header(header::ALLOW, allow)
}

/// 413 `PayloadTooLarge`.
pub(crate) fn payload_too_large() -> Reply {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        vec![base(
            "PayloadTooLarge",
            "The supplied payload exceeds the maximum size supported by the service.".into(),
            &[],
            &[],
            "Check that the supplied payload is correct and supported by this service.",
        )],
    )
}

/// `ServiceTemporarilyUnavailable` (the fail-next fault), with `Retry-After` when given.
pub(crate) fn service_temporarily_unavailable(status: StatusCode, retry: Option<u32>) -> Reply {
    let secs = retry.unwrap_or(1).to_string();
    let reply = error(
        status,
        vec![base(
            "ServiceTemporarilyUnavailable",
            format!("The service is temporarily unavailable.  Retry in {secs} seconds."),
            &[&secs],
            &[],
            "Wait the indicated time and retry the operation.",
        )],
    );
    match retry {
        Some(s) => reply.header(header::RETRY_AFTER, s.to_string()),
        None => reply,
    }
}

/// 412 for an `OData-Version` other than 4.0.
pub(crate) fn odata_version_unsupported() -> Reply {
    error(
        StatusCode::PRECONDITION_FAILED,
        vec![base(
            "PreconditionFailed",
            "The OData-Version requested is not supported; this service supports 4.0.".into(),
            &[],
            &[],
            "Send OData-Version: 4.0 or omit the header.",
        )],
    )
}

/// 406: the answer cannot be given in the content coding the request asks for.
pub(crate) fn not_acceptable() -> Reply {
    error(
        StatusCode::NOT_ACCEPTABLE,
        vec![general_error(
            "The requested Accept-Encoding is not supported by this service.",
        )],
    )
}

/// 412 for an `If-Match` that does not match.
pub(crate) fn etag_mismatch() -> Reply {
    error(
        StatusCode::PRECONDITION_FAILED,
        vec![base(
            "PreconditionFailed",
            "The ETag supplied did not match the ETag required to change this resource.".into(),
            &[],
            &[],
            "Try the operation again using the appropriate ETag.",
        )],
    )
}

/// 400 `QueryParameterValueFormatError` for a bad `$expand`.
pub(crate) fn expand_format_error(bad: &str) -> Reply {
    bad_request(vec![base(
        "QueryParameterValueFormatError",
        format!(
            "The value '{bad}' for the parameter $expand is of a different format than the parameter can accept."
        ),
        &[bad, "$expand"],
        &[],
        "Correct the value for the query parameter in the request and resubmit the request if the operation failed.",
    )])
}

/// 501 `QueryNotSupported`.
pub(crate) fn query_not_supported() -> Reply {
    error(
        StatusCode::NOT_IMPLEMENTED,
        vec![base(
            "QueryNotSupported",
            "Querying is not supported by the implementation.".into(),
            &[],
            &[],
            "Remove the query parameters and resubmit the request if the operation failed.",
        )],
    )
}

/// The text of a JSON value as messages quote it.
pub(crate) fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `PropertyUnknown` for `prefix` + `name` (a JSON pointer prefix such as `/Boot/`).
pub(crate) fn property_unknown(name: &str, prefix: &str) -> Value {
    base(
        "PropertyUnknown",
        format!("The property {name} is not in the list of valid properties for the resource."),
        &[name],
        &[format!("{prefix}{name}")],
        "Remove the unknown property from the request body and resubmit the request if the operation failed.",
    )
}

/// `PropertyNotWritable`.
pub(crate) fn property_not_writable(name: &str, prefix: &str) -> Value {
    base(
        "PropertyNotWritable",
        format!("The property {name} is a read only property and cannot be assigned a value."),
        &[name],
        &[format!("{prefix}{name}")],
        "Remove the property from the request body and resubmit the request if the operation failed.",
    )
}

/// `PropertyValueNotInList`.
pub(crate) fn value_not_in_list(name: &str, value: &Value, prefix: &str) -> Value {
    let v = value_text(value);
    base(
        "PropertyValueNotInList",
        format!("The value '{v}' for the property {name} is not in the list of acceptable values."),
        &[&v, name],
        &[format!("{prefix}{name}")],
        "Choose a value from the enumeration list that the implementation can support and resubmit the request if the operation failed.",
    )
}

/// `PropertyValueOutOfRange`, with a resolution of the caller's.
pub(crate) fn value_out_of_range(
    name: &str,
    value: &Value,
    prefix: &str,
    resolution: &str,
) -> Value {
    let t = value_text(value);
    base(
        "PropertyValueOutOfRange",
        format!(
            "The value '{t}' for the property {name} is not in the supported range of acceptable values."
        ),
        &[&t, name],
        &[format!("{prefix}{name}")],
        resolution,
    )
}

/// `PropertyMissing` for a top-level property.
pub(crate) fn property_missing(name: &str) -> Value {
    base(
        "PropertyMissing",
        format!("The property {name} is a required property and must be included in the request."),
        &[name],
        &[format!("/{name}")],
        "Ensure that the property is in the request body and has a valid value and resubmit the request if the operation failed.",
    )
}

const CORRECT_AND_RESUBMIT: &str = "Correct the value for the property in the request body and resubmit the request if the operation failed.";

/// The message for one refused BIOS attribute.
pub(crate) fn violation_message(v: &Violation) -> Value {
    let p = "/Attributes/";
    match v {
        Violation::Unknown { name } => property_unknown(name, p),
        Violation::ReadOnly { name } => property_not_writable(name, p),
        Violation::WrongType { name, value } => {
            let t = value_text(value);
            base(
                "PropertyValueTypeError",
                format!(
                    "The value '{t}' for the property {name} is of a different type than the property can accept."
                ),
                &[&t, name],
                &[format!("{p}{name}")],
                CORRECT_AND_RESUBMIT,
            )
        }
        Violation::NotInList { name, value } => value_not_in_list(name, value, p),
        Violation::OutOfRange { name, value } => {
            value_out_of_range(name, value, p, CORRECT_AND_RESUBMIT)
        }
        Violation::BadFormat { name, value } => {
            let t = value_text(value);
            base(
                "PropertyValueFormatError",
                format!(
                    "The value '{t}' for the property {name} is of a different format than the property can accept."
                ),
                &[&t, name],
                &[format!("{p}{name}")],
                CORRECT_AND_RESUBMIT,
            )
        }
    }
}

/// `ActionParameterMissing`.
pub(crate) fn action_parameter_missing(action: &str, parameter: &str) -> Value {
    base(
        "ActionParameterMissing",
        format!(
            "The action {action} requires the parameter {parameter} to be present in the request body."
        ),
        &[action, parameter],
        &[format!("/{parameter}")],
        "Supply the action with the required parameter in the request body when the request is resubmitted.",
    )
}

/// `GeneralError` whose text alone says what is wrong (how some BMCs report a missing insert
/// parameter: sushy's `transfer_method_required_error.json`).
pub(crate) fn general_error(text: &str) -> Value {
    base(
        "GeneralError",
        text.to_owned(),
        &[],
        &[],
        "See the message text for the property to add, then resubmit the request.",
    )
}

/// `ActionParameterUnknown`.
pub(crate) fn action_parameter_unknown(action: &str, parameter: &str) -> Value {
    base(
        "ActionParameterUnknown",
        format!("The action {action} was submitted with the invalid parameter {parameter}."),
        &[action, parameter],
        &[format!("/{parameter}")],
        "Correct the invalid parameter and resubmit the request if the operation failed.",
    )
}

/// `ActionParameterNotSupported`: `value` (a parameter or one of its values) is not supported;
/// `related` names the parameter.
pub(crate) fn action_parameter_not_supported(
    value: &str,
    action: &str,
    related: &str,
    resolution: &str,
) -> Value {
    base(
        "ActionParameterNotSupported",
        format!(
            "The parameter {value} for the action {action} is not supported on the target resource."
        ),
        &[value, action],
        &[format!("/{related}")],
        resolution,
    )
}

/// `ActionParameterValueConflict` for a reset the power state refuses.
pub(crate) fn reset_conflict(reset_type: &str, why: &str) -> Value {
    base(
        "ActionParameterValueConflict",
        format!("The reset type {reset_type} cannot be applied because {why}."),
        &["ResetType", reset_type],
        &["/ResetType".into()],
        "Wait for the current power state to settle, then retry.",
    )
}

/// `ActionParameterValueFormatError` for an `Image`.
pub(crate) fn image_format_error(image: &str, action: &str, resolution: &str) -> Value {
    base(
        "ActionParameterValueFormatError",
        format!(
            "The value '{image}' for the parameter Image in the action {action} is of a different format than the parameter can accept."
        ),
        &[image, "Image", action],
        &["/Image".into()],
        resolution,
    )
}

/// `ActionParameterValueError` for an `Image` too large.
pub(crate) fn image_value_error(action: &str) -> Value {
    base(
        "ActionParameterValueError",
        format!("The value for the parameter Image in the action {action} is invalid."),
        &["Image", action],
        &["/Image".into()],
        "Provide a smaller image.",
    )
}

/// `ResourceInUse` (a slot already holding media).
pub(crate) fn resource_in_use() -> Value {
    base(
        "ResourceInUse",
        "The change to the requested resource failed because the resource is in use or in transition.".into(),
        &[],
        &[],
        "Eject the inserted media first.",
    )
}

/// `CouldNotEstablishConnection` with the image server.
pub(crate) fn could_not_establish_connection(image: &str) -> Value {
    base(
        "CouldNotEstablishConnection",
        format!("The service failed to establish a connection with the URI '{image}'."),
        &[image],
        &["/Image".into()],
        "Ensure that the URI contains a valid and reachable node name, protocol information, and other URI components.",
    )
}

/// `ResourceAtUriUnauthorized` (the image server answered 401 or 403).
pub(crate) fn resource_at_uri_unauthorized(image: &str, why: &str) -> Value {
    base(
        "ResourceAtUriUnauthorized",
        format!(
            "While accessing the resource at '{image}', the service received an authorization error '{why}'."
        ),
        &[image, why],
        &["/Image".into()],
        "Ensure that the appropriate access is provided for the service in order for it to access the URI.",
    )
}

/// `ResourceNotFound` for an image the image server does not serve.
pub(crate) fn image_not_found(image: &str) -> Value {
    base(
        "ResourceNotFound",
        format!("The requested resource of type Image named '{image}' was not found."),
        &["Image", image],
        &["/Image".into()],
        "Provide an image URL the image server serves and resubmit the request.",
    )
}

/// `Success`, as the BIOS `@Redfish.Settings` `Messages` report an apply.
pub(crate) fn success() -> Value {
    json!({
        "@odata.type": "#Message.v1_3_0.Message",
        "MessageId": format!("{BASE}.Success"),
        "Message": "The request completed successfully.",
        "MessageArgs": [],
        "MessageSeverity": "OK",
        "Severity": "OK",
        "Resolution": "None.",
    })
}

/// `PropertyValueNotInList` for a BIOS attribute the firmware refused at the applying reset
/// (quirk `bios_rejected_at_apply`), as `@Redfish.Settings.Messages` lists it.
pub(crate) fn refused_at_apply(name: &str, value: &Value) -> Value {
    let mut m = value_not_in_list(name, value, "#/Attributes/");
    m["Resolution"] = Value::from(
        "The BIOS did not accept the value at the last reset; choose another value supported by this system.",
    );
    m
}

/// `PreconditionRequired` (428): a PATCH without `If-Match` where the service requires one.
pub(crate) fn precondition_required() -> Reply {
    error(
        StatusCode::PRECONDITION_REQUIRED,
        vec![base(
            "PreconditionRequired",
            "A precondition header or annotation is required to change the resource.".into(),
            &[],
            &[],
            "Try the request again with the If-Match header and the current ETag of the resource.",
        )],
    )
}

/// `GeneralError` with a text, as a failed task's `Messages` carry it.
pub(crate) fn task_failure(text: &str) -> Value {
    json!({
        "@odata.type": "#Message.v1_3_0.Message",
        "MessageId": format!("{BASE}.GeneralError"),
        "Message": text,
        "MessageArgs": [],
        "MessageSeverity": "Critical",
        "Severity": "Critical",
        "Resolution": "Correct the image URL or the image and insert it again.",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_message_names_the_error_several_make_a_general_error() {
        let one = error(StatusCode::BAD_REQUEST, vec![property_missing("Image")]);
        let body = one.json_body().unwrap();
        assert_eq!(body["error"]["code"], "Base.1.18.PropertyMissing");
        let two = bad_request(vec![
            property_unknown("A", "/"),
            property_not_writable("B", "/"),
        ]);
        let body = two.json_body().unwrap();
        assert_eq!(body["error"]["code"], "Base.1.18.GeneralError");
        assert_eq!(
            body["error"]["@Message.ExtendedInfo"][1]["RelatedProperties"][0],
            "/B"
        );
    }
}
