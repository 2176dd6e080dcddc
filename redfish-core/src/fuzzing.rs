//! Entry points for the fuzz targets in `fuzz/` and for the tests that replay their seed
//! corpora on stable (`tests/fuzz_corpus.rs`): each takes arbitrary bytes, feeds them to one of
//! the crate's pure parsers of what a BMC sends, and checks what must hold whatever the input.
//! Not part of the public API (hidden from the docs, no stability promise).

use std::time::{Duration, SystemTime};

use serde::de::DeserializeOwned;

use crate::etag::ETag;
use crate::models::{
    Chassis, ComputerSystem, Drive, EthernetInterface, Manager, Memory, PCIeDevice, Processor,
    ServiceRoot, SimpleStorage, Storage, Task, Volume,
};
use crate::odata::{Collection, Link};
use crate::vendor::{Vendor, detect_vendor, parse_firmware_version};

/// The clock the `Retry-After` target reads dates against (2026-01-01T00:00:00Z), fixed so a
/// corpus replays the same way every day.
const FUZZ_NOW_SECS: u64 = 1_767_225_600;
/// The cap the `Retry-After` target passes.
const RETRY_AFTER_CAP: Duration = Duration::from_secs(300);

/// An error body (`@Message.ExtendedInfo` in its several shapes): never a panic.
pub fn error_body(data: &[u8]) {
    let messages = crate::models::parse_error_messages(data);
    // Every message came out of the body, so there cannot be more of them than bytes.
    assert!(messages.len() <= data.len(), "{} messages", messages.len());
}

fn lenient<T: DeserializeOwned + serde::Serialize>(data: &[u8]) -> Option<T> {
    let model = serde_json::from_slice::<T>(data).ok()?;
    // What was read can be written back (the models are also served by the mock).
    assert!(
        serde_json::to_vec(&model).is_ok(),
        "a decoded model does not serialize"
    );
    Some(model)
}

/// The lenient models, each read from the same bytes, and vendor detection on the service root
/// (with the manager when that parses too).
pub fn lenient_models(data: &[u8]) {
    let root = lenient::<ServiceRoot>(data);
    let manager = lenient::<Manager>(data);
    if let Some(root) = &root {
        let _ = detect_vendor(root, manager.as_ref());
    }
    let _ = lenient::<ComputerSystem>(data);
    let _ = lenient::<Chassis>(data);
    let _ = lenient::<Processor>(data);
    let _ = lenient::<Memory>(data);
    let _ = lenient::<PCIeDevice>(data);
    let _ = lenient::<EthernetInterface>(data);
    let _ = lenient::<Storage>(data);
    let _ = lenient::<Drive>(data);
    let _ = lenient::<Volume>(data);
    let _ = lenient::<SimpleStorage>(data);
    let _ = lenient::<Task>(data);
    let _ = lenient::<Collection<Link>>(data);
}

/// An `ETag` header or `@odata.etag` value (the first byte chooses whether the `-gzip` suffix
/// is stripped). A tag that parses reads back as itself from its own header form.
pub fn etag(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let raw = String::from_utf8_lossy(rest);
    let Some(tag) = ETag::parse(&raw, flags & 1 == 1) else {
        return;
    };
    let again = ETag::parse(&tag.header_value(), false);
    assert_eq!(again.as_ref(), Some(&tag), "{raw:?} does not round-trip");
}

/// A `Retry-After` value (seconds or an HTTP date): the wait never exceeds the cap.
pub fn retry_after(data: &[u8]) {
    let value = String::from_utf8_lossy(data);
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(FUZZ_NOW_SECS);
    if let Some(wait) = crate::retry::parse_retry_after(&value, now, RETRY_AFTER_CAP) {
        assert!(wait <= RETRY_AFTER_CAP, "{value:?} waits {wait:?}");
    }
}

/// A firmware version string, read as every vendor's: a version that parses has at least one
/// number.
pub fn firmware_version(data: &[u8]) {
    let raw = String::from_utf8_lossy(data);
    for vendor in [
        Vendor::Dell,
        Vendor::Hpe,
        Vendor::Lenovo,
        Vendor::Supermicro,
        Vendor::Generic,
        Vendor::Other("fuzz".to_owned()),
    ] {
        if let Some(parts) = parse_firmware_version(&vendor, &raw) {
            assert!(!parts.is_empty(), "{raw:?} as {vendor:?}");
        }
    }
}
