//! The I/O: reading current and pending attributes, locating the registry (cached per
//! client), and staging a validated diff with one PATCH. Built only on the public resource
//! layer of `ferrofish-redfish-core` and its [`System`] handle; every decision is a pure
//! function of this crate. Over 600 lines: about 650 are that I/O and the quirk switches it
//! reads, the rest the unit tests of its pure helpers.

use std::sync::Arc;

use ferrofish_redfish_core::oem::dell::{DellOem, LcStatus};
use ferrofish_redfish_core::{ApplyTime, RedfishMessage, Resource, System, TaskWait, Vendor};
use serde_json::{Map, Value, json};
use url::Url;

use crate::diff::Diff;
use crate::error::BiosError;
use crate::locate;
use crate::portable::VendorRow;
use crate::profile::Profile;
use crate::registry::{AttributeKind, AttributeRegistry};
use crate::validate::{self, Context, Validated};
use crate::value::{AttributeValue, Attributes};

/// BIOS quirks, by name, keyed on the vendor redfish-core detected.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
#[allow(clippy::struct_excessive_bools)] // independent switches
pub struct BiosQuirks {
    /// `paths_case_insensitive`: the server ignores case and trailing slashes in paths (iLO
    /// links `/redfish/v1/systems/1/bios/settings/` from `/redfish/v1/Systems/1`).
    pub paths_case_insensitive: bool,
    /// `pending_lists_all_attributes`: the settings object lists every writable attribute, not
    /// only the changed ones (HPE, Lenovo; seen in Ironic's `redfish/bios.py`), so presence in it means nothing.
    pub pending_lists_all_attributes: bool,
    /// `settings_patch_schedules_job`: a settings PATCH with an apply time creates the
    /// configuration job itself; never schedule another (Dell; quadsproject/quads#726).
    /// Switched off on a Dell, the PATCH is taken to only stage values and the configuration
    /// job is created after it (`POST {manager}/Jobs` with `TargetSettingsURI`), as Dell's
    /// scripts do.
    pub settings_patch_schedules_job: bool,
    /// `settings_apply_time_refused`: the settings object refuses
    /// `@Redfish.SettingsApplyTime` (`Base.PropertyUnknown`) and applies at the next reset
    /// anyway, whatever it advertises (Lenovo XCC `Bios/Pending`; bmclib `providers/lenovo/bios.go`).
    pub settings_apply_time_refused: bool,
}

impl BiosQuirks {
    /// The quirks of a vendor. Pure.
    pub fn for_vendor(vendor: &Vendor) -> BiosQuirks {
        BiosQuirks {
            paths_case_insensitive: matches!(vendor, Vendor::Hpe),
            pending_lists_all_attributes: matches!(vendor, Vendor::Hpe | Vendor::Lenovo),
            settings_patch_schedules_job: matches!(vendor, Vendor::Dell),
            settings_apply_time_refused: matches!(vendor, Vendor::Lenovo),
        }
    }

    /// These quirks with the user's choices applied last (a `None` keeps the vendor's). Pure.
    #[must_use]
    pub fn overridden_by(self, user: &BiosQuirksOverride) -> BiosQuirks {
        BiosQuirks {
            paths_case_insensitive: user
                .paths_case_insensitive
                .unwrap_or(self.paths_case_insensitive),
            pending_lists_all_attributes: user
                .pending_lists_all_attributes
                .unwrap_or(self.pending_lists_all_attributes),
            settings_patch_schedules_job: user
                .settings_patch_schedules_job
                .unwrap_or(self.settings_patch_schedules_job),
            settings_apply_time_refused: user
                .settings_apply_time_refused
                .unwrap_or(self.settings_apply_time_refused),
        }
    }
}

/// The user's override of [`BiosQuirks`], as redfish-core's `QuirksOverride` is of its
/// quirks: each field `Some` forces that switch on or off for this BMC, whatever the vendor
/// detected; applied last ([`Bios::with_quirks_override`]). Deserializes from a map of
/// field names ([`BIOS_QUIRK_FIELDS`]) to booleans; an unknown name is refused.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct BiosQuirksOverride {
    /// Forces quirk `paths_case_insensitive`.
    pub paths_case_insensitive: Option<bool>,
    /// Forces quirk `pending_lists_all_attributes`.
    pub pending_lists_all_attributes: Option<bool>,
    /// Forces quirk `settings_patch_schedules_job`.
    pub settings_patch_schedules_job: Option<bool>,
    /// Forces quirk `settings_apply_time_refused`.
    pub settings_apply_time_refused: Option<bool>,
}

/// The names of the [`BiosQuirksOverride`] fields (the same as [`BiosQuirks`]'s).
pub const BIOS_QUIRK_FIELDS: &[&str] = &[
    "paths_case_insensitive",
    "pending_lists_all_attributes",
    "settings_patch_schedules_job",
    "settings_apply_time_refused",
];

/// The attribute registry as found for one BMC, or why there is none.
#[derive(Clone, Debug, PartialEq)]
pub struct RegistryInfo {
    /// The registry; `None` when none could be had.
    pub registry: Option<Arc<AttributeRegistry>>,
    /// The URL it was read from.
    pub url: Option<String>,
    /// What to tell the user: why it is missing, or that the BMC offered another version
    /// than the Bios resource names.
    pub note: Option<String>,
}

/// Where pending values are written, as the Bios resource's `@Redfish.Settings` says.
#[derive(Clone, Debug, PartialEq)]
pub struct SettingsInfo {
    /// The settings object (`…/Bios/Settings`, HPE `…/bios/settings/`, Lenovo `…/Bios/Pending`,
    /// Supermicro `…/Bios/SD`); the Bios resource itself when it has no `@Redfish.Settings`.
    pub url: Url,
    /// `SupportedApplyTimes` (empty when not advertised).
    pub supported_apply_times: Vec<ApplyTime>,
    /// `Messages`: the BMC's verdict on the last apply.
    pub messages: Vec<RedfishMessage>,
    /// `Time` of the last apply.
    pub time: Option<String>,
}

/// One reading of a system's BIOS.
#[derive(Clone, Debug)]
pub struct BiosSnapshot {
    /// The Bios resource.
    pub url: Url,
    /// `AttributeRegistry` as the Bios resource names it.
    pub attribute_registry: Option<String>,
    /// Current values.
    pub current: Attributes,
    /// Pending values (empty when nothing is pending).
    pub pending: Attributes,
    /// Where changes go.
    pub settings: SettingsInfo,
    /// The registry.
    pub registry: RegistryInfo,
    /// The vendor row for portable names.
    pub vendor: VendorRow,
    /// The BIOS quirks in effect.
    pub quirks: BiosQuirks,
}

impl BiosSnapshot {
    /// The current value of `name` and the name the BMC gives it: exact, or the one
    /// attribute that is `name` plus a Supermicro `#XXXX` suffix (quirk `bios_suffixed_names`).
    pub fn value(&self, name: &str) -> Option<(&str, &AttributeValue)> {
        crate::value::lookup(&self.current, name)
    }

    /// The pending value of `name`, found as [`BiosSnapshot::value`] finds it.
    pub fn pending_value(&self, name: &str) -> Option<(&str, &AttributeValue)> {
        crate::value::lookup(&self.pending, name)
    }

    /// Validates `profile` against this reading (every problem at once).
    pub fn validate(&self, profile: &Profile) -> Result<Validated, BiosError> {
        let ctx = Context {
            registry: self.registry.registry.as_deref(),
            current: &self.current,
            pending: &self.pending,
            vendor: self.vendor,
        };
        validate::validate(profile, &ctx).map_err(|problems| BiosError::Invalid { problems })
    }

    /// Validates `profile` and compares it with current and pending values.
    pub fn plan(&self, profile: &Profile) -> Result<Plan, BiosError> {
        let validated = self.validate(profile)?;
        let diff = Diff::compute(
            &validated,
            &self.current,
            &self.pending,
            self.quirks.pending_lists_all_attributes,
        );
        Ok(Plan { validated, diff })
    }
}

/// A validated profile and what it changes.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The validated settings (and whether the registry was missing).
    pub validated: Validated,
    /// What would be sent.
    pub diff: Diff,
}

/// What staging did.
#[derive(Clone, Debug)]
pub struct StageOutcome {
    /// The plan that was staged.
    pub plan: Plan,
    /// Whether a PATCH was sent (`false`: the diff was empty, nothing was sent).
    pub sent: bool,
    /// The settings object written.
    pub settings_url: Url,
    /// `@Redfish.SettingsApplyTime` sent, when the service advertises it.
    pub apply_time: Option<ApplyTime>,
    /// The job or task the BMC created for the change (Dell: the BIOS configuration job).
    pub job: Option<String>,
}

/// BIOS operations on one system: `Bios::new(&system)`.
#[derive(Clone, Debug)]
pub struct Bios {
    system: System,
    lc_wait: TaskWait,
    quirks_override: BiosQuirksOverride,
}

/// How long staging waits for a busy Dell Lifecycle Controller by default (quirk
/// `lc_busy_refuses_config`): ten minutes, polled from 1 s doubling to 15 s.
pub const DEFAULT_LC_WAIT: TaskWait = TaskWait {
    timeout: std::time::Duration::from_secs(600),
    initial_delay: std::time::Duration::from_secs(1),
    max_delay: std::time::Duration::from_secs(15),
};

/// The resource type of Bios resources and settings objects.
const BIOS: &str = "Bios";

impl Bios {
    /// BIOS operations on `system`. Sends nothing.
    pub fn new(system: &System) -> Bios {
        Bios {
            system: system.clone(),
            lc_wait: DEFAULT_LC_WAIT,
            quirks_override: BiosQuirksOverride::default(),
        }
    }

    /// Forces BIOS quirks on or off, whatever the detected vendor implies (applied last).
    #[must_use]
    pub fn with_quirks_override(mut self, user: BiosQuirksOverride) -> Bios {
        self.quirks_override = user;
        self
    }

    /// How long and how often [`Bios::stage`] waits for a busy Dell Lifecycle Controller
    /// (default [`DEFAULT_LC_WAIT`]).
    #[must_use]
    pub fn with_lc_wait(mut self, wait: TaskWait) -> Bios {
        self.lc_wait = wait;
        self
    }

    /// The system.
    pub fn system(&self) -> &System {
        &self.system
    }

    /// The Bios resource's path, from the system's `Bios` link (read once per client).
    pub async fn bios_path(&self) -> Result<String, BiosError> {
        let system = self.system.clone();
        let key = format!("ferrofish-bios/bios-path{}", system.path());
        let link: Option<String> = self
            .system
            .client()
            .cached(&key, || async move { system.link("Bios").await })
            .await?;
        link.ok_or_else(|| BiosError::NoBios {
            system: self.system.path().to_owned(),
        })
    }

    /// Reads current and pending values and the registry (found once per client).
    pub async fn read(&self) -> Result<BiosSnapshot, BiosError> {
        let client = self.system.client();
        let vendor = client.vendor().await?;
        let quirks = BiosQuirks::for_vendor(&vendor).overridden_by(&self.quirks_override);
        let path = self.bios_path().await?;
        let bios: Resource<Value> = client.get_as(&path, BIOS).await?;
        let url = bios.url.clone();
        let attribute_registry = bios
            .value
            .get("AttributeRegistry")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let registry = self
            .registry_for(attribute_registry.as_deref(), url.path())
            .await?;
        let reg = registry.registry.as_deref();
        let current = typed_attributes(url.as_str(), &bios.value, reg, false)?;
        let settings = settings_info(client, &url, &bios.value)?;
        let pending = if locate::same_path(
            settings.url.path(),
            url.path(),
            quirks.paths_case_insensitive,
        ) {
            Attributes::new()
        } else {
            let body: Resource<Value> = client.get_as(settings.url.path(), BIOS).await?;
            typed_attributes(settings.url.as_str(), &body.value, reg, true)?
        };
        Ok(BiosSnapshot {
            url,
            attribute_registry,
            current,
            pending,
            settings,
            registry,
            vendor: VendorRow::of(&vendor),
            quirks,
        })
    }

    /// The attribute registry of this system's BIOS (found once per client).
    pub async fn registry(&self) -> Result<RegistryInfo, BiosError> {
        let path = self.bios_path().await?;
        let bios: Resource<Value> = self.system.client().get_as(&path, BIOS).await?;
        let name = bios.value.get("AttributeRegistry").and_then(Value::as_str);
        self.registry_for(name, bios.url.path()).await
    }

    async fn registry_for(
        &self,
        name: Option<&str>,
        bios_path: &str,
    ) -> Result<RegistryInfo, BiosError> {
        let client = self.system.client().clone();
        let key = format!("ferrofish-bios/registry/{}", name.unwrap_or(""));
        let wanted = name.map(str::to_owned);
        let bios_path = bios_path.to_owned();
        let found: Arc<Result<RegistryInfo, (String, String, String)>> = client
            .clone()
            .cached(&key, || async move {
                Ok(Arc::new(
                    find_registry(&client, wanted.as_deref(), &bios_path).await?,
                ))
            })
            .await?;
        match &*found {
            Ok(info) => Ok(info.clone()),
            Err((url, json_path, reason)) => Err(BiosError::Malformed {
                url: url.clone(),
                json_path: json_path.clone(),
                reason: reason.clone(),
            }),
        }
    }

    /// Reads, validates and diffs `profile`; sends nothing.
    pub async fn plan(&self, profile: &Profile) -> Result<(BiosSnapshot, Plan), BiosError> {
        let snapshot = self.read().await?;
        let plan = snapshot.plan(profile)?;
        Ok((snapshot, plan))
    }

    /// Validates `profile` and stages what it changes with one PATCH of the settings object
    /// (`If-Match` from the read just before; `@Redfish.SettingsApplyTime: OnReset` only where
    /// the service advertises it). A profile with any problem sends nothing
    /// ([`BiosError::Invalid`]); an empty diff sends nothing either (`sent == false`). On a
    /// Dell iDRAC the Lifecycle Controller is asked first whether it is ready, and waited for
    /// when it is not (quirk `lc_busy_refuses_config`, switch `lc_ready_before_config`): one
    /// request when it is ready (the first stage on a client also reads the `DellLCService`
    /// resource once). An iDRAC that does not offer the action (404, 405, 501) is staged as
    /// before, with a warning.
    pub async fn stage(&self, profile: &Profile) -> Result<StageOutcome, BiosError> {
        let (snapshot, plan) = self.plan(profile).await?;
        self.stage_plan(&snapshot, plan).await
    }

    /// Stages a plan made from `snapshot` (the read that precedes the PATCH, so its ETag is
    /// the one `If-Match` carries).
    pub async fn stage_plan(
        &self,
        snapshot: &BiosSnapshot,
        plan: Plan,
    ) -> Result<StageOutcome, BiosError> {
        let settings_url = snapshot.settings.url.clone();
        if plan.diff.is_empty() {
            tracing::info!(bios = %snapshot.url, "{}", plan.diff);
            return Ok(StageOutcome {
                plan,
                sent: false,
                settings_url,
                apply_time: None,
                job: None,
            });
        }
        let client = self.system.client();
        if client.quirks().await?.lc_ready_before_config {
            let dell = DellOem::new(client);
            let mut seen = |status: &LcStatus| {
                if !status.is_ready() {
                    tracing::info!(%status, "the Lifecycle Controller is busy; waiting before the BIOS change");
                }
            };
            match dell.wait_until_ready(&self.lc_wait, &mut seen).await {
                Ok(_) => {}
                // An iDRAC without the OEM action (older firmware) cannot say: go ahead, as
                // before this check existed; a busy LC then refuses the PATCH itself.
                Err(err) if lc_status_unavailable(&err) => {
                    tracing::warn!(error = %err, "cannot ask the Lifecycle Controller whether it is ready; staging anyway");
                }
                Err(err) => return Err(err.into()),
            }
        }
        let apply_time = apply_time_for(&snapshot.settings, &snapshot.quirks);
        let body = patch_body(&plan.diff.patch_attributes(), apply_time.as_ref());
        let response = self
            .system
            .client()
            .patch(settings_url.path(), &body)
            .await?;
        let job = response.location().map(str::to_owned).or_else(|| {
            response
                .body()
                .get("@odata.id")
                .and_then(Value::as_str)
                .filter(|_| response.is_accepted())
                .map(str::to_owned)
        });
        // Without quirk `settings_patch_schedules_job` a Dell PATCH only stages values, and the
        // job that applies them is created here, as Dell's scripts do.
        let job = if !snapshot.quirks.settings_patch_schedules_job
            && client.vendor().await? == Vendor::Dell
        {
            Some(create_dell_config_job(client, settings_url.path()).await?)
        } else {
            job
        };
        tracing::info!(settings = %settings_url, changes = plan.diff.changes.len(), job = ?job, "BIOS changes staged");
        Ok(StageOutcome {
            plan,
            sent: true,
            settings_url,
            apply_time,
            job,
        })
    }
}

/// Creates the Dell configuration job that applies the pending BIOS values at the next reset
/// (`POST {manager}/Jobs` with `TargetSettingsURI`), as Dell's scripts do after a PATCH: only
/// with quirk `settings_patch_schedules_job` switched off, since an iDRAC whose PATCH made the
/// job refuses a second one (`SYS011`). Returns the job's URI from `Location`.
async fn create_dell_config_job(
    client: &ferrofish_redfish_core::RedfishClient,
    settings: &str,
) -> Result<String, BiosError> {
    let jobs = DellOem::new(client).jobs_path().await?;
    let response = client
        .post(&jobs, &json!({ "TargetSettingsURI": settings }))
        .await?;
    response
        .location()
        .map(str::to_owned)
        .ok_or_else(|| BiosError::Malformed {
            url: jobs,
            json_path: "Location".into(),
            reason: "the job queue answered without the new job's Location".into(),
        })
}

/// Whether an error from the LC status action means the BMC does not offer it (404, 405,
/// 501, or an answer without its fields), rather than that the LC is busy. Pure.
fn lc_status_unavailable(err: &ferrofish_redfish_core::Error) -> bool {
    matches!(err.status(), Some(404 | 405 | 501))
        || matches!(err, ferrofish_redfish_core::Error::Unsupported { .. })
}

/// `@Redfish.SettingsApplyTime` to send: `OnReset` where the service advertises it and does
/// not refuse the annotation, else none (the change applies at the next reset). Pure.
pub fn apply_time_for(settings: &SettingsInfo, quirks: &BiosQuirks) -> Option<ApplyTime> {
    (settings.supported_apply_times.contains(&ApplyTime::OnReset)
        && !quirks.settings_apply_time_refused)
        .then_some(ApplyTime::OnReset)
}

/// The PATCH body. Pure.
pub fn patch_body(attributes: &Map<String, Value>, apply_time: Option<&ApplyTime>) -> Value {
    let mut body = json!({ "Attributes": attributes });
    if let Some(at) = apply_time {
        body["@Redfish.SettingsApplyTime"] = json!({ "ApplyTime": at.to_string() });
    }
    body
}

/// Finds and parses the registry. A missing one is `Ok` with a note; a malformed one is the
/// inner `Err` (URL, JSON path, reason), cached like a found one.
async fn find_registry(
    client: &ferrofish_redfish_core::RedfishClient,
    wanted: Option<&str>,
    bios_path: &str,
) -> Result<Result<RegistryInfo, (String, String, String)>, ferrofish_redfish_core::Error> {
    let missing = |note: String| {
        Ok(Ok(RegistryInfo {
            registry: None,
            url: None,
            note: Some(note),
        }))
    };
    let root = client.service_root().await?;
    let Some(collection) = root
        .registries
        .as_ref()
        .and_then(ferrofish_redfish_core::Link::path)
        .map(str::to_owned)
    else {
        return missing("the service root links no Registries collection".into());
    };
    let members = match client.collection_links(&collection).await {
        Ok(m) => m,
        Err(err) if err.is_not_found() => {
            return missing("the service has no Registries collection".into());
        }
        Err(err) => return Err(err),
    };
    let chosen = wanted
        .and_then(|w| locate::best_member(w, &members))
        .or_else(|| locate::bios_registry_members(&members).into_iter().next());
    let Some(member) = chosen else {
        return missing(format!(
            "no registry in {collection} matches {}",
            wanted.unwrap_or("a BIOS attribute registry")
        ));
    };
    let file: Resource<Value> = client.get_as(member, "MessageRegistryFile").await?;
    let location = locate::location_uri(&file.value, "en")
        // Dell's own place for it, when a file names no location.
        .unwrap_or_else(|| format!("{}/BiosRegistry", bios_path.trim_end_matches('/')));
    let registry: Resource<Value> = match client.get_as(&location, "AttributeRegistry").await {
        Ok(r) => r,
        Err(err) if err.is_not_found() => {
            return missing(format!(
                "the registry file {member} points to {location}, which is not found"
            ));
        }
        Err(err) => return Err(err),
    };
    let url = registry.url.to_string();
    Ok(match AttributeRegistry::parse(&url, &registry.value) {
        Ok(parsed) => {
            let member_id = locate::last_segment(member);
            let note = wanted
                .filter(|w| {
                    !w.eq_ignore_ascii_case(&parsed.id) && !w.eq_ignore_ascii_case(member_id)
                })
                .map(|w| {
                    format!(
                        "the Bios resource names {w}; the BMC offers {member_id} ({})",
                        parsed.id
                    )
                });
            Ok(RegistryInfo {
                registry: Some(Arc::new(parsed)),
                url: Some(url),
                note,
            })
        }
        Err(BiosError::Malformed {
            url,
            json_path,
            reason,
        }) => Err((url, json_path, reason)),
        Err(other) => Err((url, "$".into(), other.to_string())),
    })
}

/// `@Redfish.Settings` of a Bios body; the resource itself when it has none.
fn settings_info(
    client: &ferrofish_redfish_core::RedfishClient,
    bios_url: &Url,
    body: &Value,
) -> Result<SettingsInfo, BiosError> {
    let settings = body.get("@Redfish.Settings");
    let link = settings
        .and_then(|s| s.get("SettingsObject"))
        .and_then(|o| o.get("@odata.id"))
        .and_then(Value::as_str);
    let url = match link {
        Some(link) => client.resolve_link(link)?,
        None => bios_url.clone(),
    };
    let list = |k: &str| settings.and_then(|s| s.get(k)).and_then(Value::as_array);
    Ok(SettingsInfo {
        url,
        supported_apply_times: list("SupportedApplyTimes")
            .map(|v| {
                v.iter()
                    .filter_map(Value::as_str)
                    .map(ApplyTime::from)
                    .collect()
            })
            .unwrap_or_default(),
        messages: list("Messages")
            .map(|v| {
                v.iter()
                    .filter_map(|m| serde_json::from_value(m.clone()).ok())
                    .collect()
            })
            .unwrap_or_default(),
        time: settings
            .and_then(|s| s.get("Time"))
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

/// The `Attributes` of a Bios resource or settings object, typed by the registry. A missing
/// `Attributes` is empty only in a settings object (Supermicro `Bios/SD` leaves it out when
/// nothing is pending). Values the registry types differently are kept untyped; `null`s (write-only
/// passwords) are left out. Pure.
pub fn typed_attributes(
    url: &str,
    body: &Value,
    registry: Option<&AttributeRegistry>,
    settings_object: bool,
) -> Result<Attributes, BiosError> {
    let malformed = |json_path: &str, reason: &str| BiosError::Malformed {
        url: url.to_owned(),
        json_path: json_path.to_owned(),
        reason: reason.to_owned(),
    };
    if !body.is_object() {
        return Err(malformed("$", "not a JSON object"));
    }
    let attrs = match body.get("Attributes") {
        Some(Value::Object(map)) => map,
        None | Some(Value::Null) if settings_object => return Ok(Attributes::new()),
        None => return Err(malformed("$.Attributes", "missing")),
        Some(_) => return Err(malformed("$.Attributes", "not an object")),
    };
    Ok(attrs
        .iter()
        .filter_map(|(name, raw)| {
            let kind = registry.and_then(|r| r.get(name)).map(|d| &d.kind);
            let typed = match (kind, raw) {
                (_, Value::Null) => None,
                (Some(AttributeKind::Enumeration { .. }), Value::String(s)) => {
                    Some(AttributeValue::Enum(s.clone()))
                }
                (Some(AttributeKind::Password { .. }), Value::String(s)) => Some(
                    AttributeValue::Password(secrecy::SecretString::from(s.clone())),
                ),
                _ => AttributeValue::from_json_untyped(raw),
            };
            typed.map(|v| (name.clone(), v))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_attributes_follow_the_registry_and_tolerate_missing_pending() {
        let registry = AttributeRegistry::parse(
            "/r",
            &json!({"RegistryEntries": {"Attributes": [
                {"AttributeName": "BootMode", "Type": "Enumeration", "Value": [{"ValueName": "Uefi"}]},
                {"AttributeName": "SetupPassword", "Type": "Password"}]}}),
        )
        .unwrap();
        let body = json!({"Attributes": {"BootMode": "Uefi", "Retry": 3, "SetupPassword": null, "Tag": "x"}});
        let a = typed_attributes("/b", &body, Some(&registry), false).unwrap();
        assert_eq!(a["BootMode"], AttributeValue::Enum("Uefi".into()));
        assert_eq!(a["Retry"], AttributeValue::Integer(3));
        assert_eq!(a["Tag"], AttributeValue::String("x".into()));
        assert!(!a.contains_key("SetupPassword"));
        assert!(
            typed_attributes("/sd", &json!({"Id": "SD"}), None, true)
                .unwrap()
                .is_empty()
        );
        let err = typed_attributes("/b", &json!({"Id": "Bios"}), None, false).unwrap_err();
        assert!(
            err.to_string().contains("/b") && err.to_string().contains("$.Attributes"),
            "{err}"
        );
        let err = typed_attributes("/b", &json!({"Attributes": [1]}), None, true).unwrap_err();
        assert!(matches!(err, BiosError::Malformed { .. }));
    }

    #[test]
    fn the_apply_time_goes_in_only_when_given() {
        let mut attrs = Map::new();
        attrs.insert("A".into(), Value::from("B"));
        assert_eq!(
            patch_body(&attrs, Some(&ApplyTime::OnReset)),
            json!({"Attributes": {"A": "B"}, "@Redfish.SettingsApplyTime": {"ApplyTime": "OnReset"}})
        );
        assert_eq!(patch_body(&attrs, None), json!({"Attributes": {"A": "B"}}));
    }

    #[test]
    fn quirks_by_vendor() {
        assert!(BiosQuirks::for_vendor(&Vendor::Hpe).paths_case_insensitive);
        assert!(BiosQuirks::for_vendor(&Vendor::Lenovo).pending_lists_all_attributes);
        assert!(BiosQuirks::for_vendor(&Vendor::Dell).settings_patch_schedules_job);
        assert_eq!(
            BiosQuirks::for_vendor(&Vendor::Generic),
            BiosQuirks {
                paths_case_insensitive: false,
                pending_lists_all_attributes: false,
                settings_patch_schedules_job: false,
                settings_apply_time_refused: false,
            }
        );
    }

    #[test]
    fn an_lc_status_action_the_bmc_lacks_does_not_block_staging_but_a_busy_lc_does() {
        use ferrofish_redfish_core::Error;
        let missing = Error::Unsupported {
            operation: "remote_services_status",
            url: "u".into(),
            missing: "LCStatus in the answer",
        };
        assert!(lc_status_unavailable(&missing));
        let busy = Error::WaitTimeout {
            url: "u".into(),
            what: "LCStatus",
            wanted: "Ready".into(),
            last: Some("NotReady".into()),
            after: std::time::Duration::from_secs(1),
        };
        assert!(!lc_status_unavailable(&busy));
    }

    /// The user's override is applied last and only where it says something.
    #[test]
    fn the_user_overrides_bios_quirks_one_by_one() {
        let lenovo = BiosQuirks::for_vendor(&Vendor::Lenovo);
        assert_eq!(
            lenovo.clone().overridden_by(&BiosQuirksOverride::default()),
            lenovo
        );
        let user = BiosQuirksOverride {
            settings_apply_time_refused: Some(false),
            paths_case_insensitive: Some(true),
            ..BiosQuirksOverride::default()
        };
        let now = lenovo.overridden_by(&user);
        assert!(!now.settings_apply_time_refused);
        assert!(now.paths_case_insensitive);
        assert!(now.pending_lists_all_attributes, "kept from the vendor");
        assert!(!now.settings_patch_schedules_job, "kept from the vendor");
    }

    /// The override reads from a map of field names (Python's `Bios(..., quirks={...})`):
    /// every listed field is one, and a misspelt name is refused, never ignored.
    #[test]
    fn the_bios_override_reads_every_listed_field_and_refuses_unknown_names() {
        let all: Map<String, Value> = BIOS_QUIRK_FIELDS
            .iter()
            .map(|f| ((*f).to_owned(), Value::Bool(true)))
            .collect();
        let user: BiosQuirksOverride = serde_json::from_value(Value::Object(all)).unwrap();
        assert_eq!(
            BiosQuirks::for_vendor(&Vendor::Generic).overridden_by(&user),
            BiosQuirks {
                paths_case_insensitive: true,
                pending_lists_all_attributes: true,
                settings_patch_schedules_job: true,
                settings_apply_time_refused: true,
            }
        );
        assert!(
            serde_json::from_value::<BiosQuirksOverride>(json!({"paths_case_insensitiv": true}))
                .is_err()
        );
        assert!(
            serde_json::from_value::<BiosQuirksOverride>(json!({"paths_case_insensitive": 1}))
                .is_err()
        );
    }

    #[test]
    fn apply_time_only_where_advertised_and_not_refused() {
        let settings = |times: Vec<ApplyTime>| SettingsInfo {
            url: Url::parse("http://bmc/redfish/v1/Systems/1/Bios/Settings").unwrap(),
            supported_apply_times: times,
            messages: Vec::new(),
            time: None,
        };
        let generic = BiosQuirks::for_vendor(&Vendor::Generic);
        let lenovo = BiosQuirks::for_vendor(&Vendor::Lenovo);
        assert_eq!(
            apply_time_for(
                &settings(vec![ApplyTime::Immediate, ApplyTime::OnReset]),
                &generic
            ),
            Some(ApplyTime::OnReset)
        );
        assert_eq!(
            apply_time_for(&settings(vec![ApplyTime::Immediate]), &generic),
            None
        );
        assert_eq!(apply_time_for(&settings(vec![]), &generic), None);
        assert_eq!(
            apply_time_for(&settings(vec![ApplyTime::OnReset]), &lenovo),
            None
        );
    }
}
