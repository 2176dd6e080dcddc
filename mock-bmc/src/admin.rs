//! The admin API: plain HTTP on loopback, no authentication, JSON bodies (the routes are
//! listed in the crate documentation). It reads node state and the request logs, arms faults
//! (Redfish and IPMI) and switches run-time options.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};

use crate::handle::NodeHandle;
use crate::ipmi;
use crate::node::FaultSpec;

pub(crate) type Fleet = Arc<Vec<NodeHandle>>;

/// The admin API's router over the fleet.
pub(crate) fn router(nodes: Fleet) -> Router {
    Router::new()
        .route("/nodes", get(admin_list))
        .route("/nodes/{i}", get(admin_view))
        .route(
            "/nodes/{i}/requests",
            get(admin_requests).delete(admin_clear_requests),
        )
        .route(
            "/nodes/{i}/faults",
            post(admin_faults).delete(admin_clear_faults),
        )
        .route("/faults", post(admin_faults_all))
        .route(
            "/nodes/{i}/options",
            get(admin_options_get).post(admin_options),
        )
        .route("/options", post(admin_options_all))
        .route(
            "/nodes/{i}/ipmi/faults",
            get(admin_ipmi_faults_get)
                .post(admin_ipmi_faults)
                .delete(admin_clear_ipmi_faults),
        )
        .with_state(nodes)
}

/// A node as the admin API and the binary's JSON line describe it.
pub(crate) fn node_entry(n: &NodeHandle) -> serde_json::Value {
    serde_json::json!({
        "index": n.index(),
        "addr": n.addr().to_string(),
        "url": n.url(),
        "ipmi": n.ipmi_addr().map(|a| a.to_string()),
        "basic_auth_only": n.basic_auth_only(),
    })
}

async fn admin_list(State(nodes): State<Fleet>) -> impl IntoResponse {
    axum::Json(nodes.iter().map(node_entry).collect::<Vec<_>>())
}

fn pick(nodes: &Fleet, i: usize) -> Result<&NodeHandle, (StatusCode, &'static str)> {
    nodes.get(i).ok_or((StatusCode::NOT_FOUND, "no such node"))
}

async fn admin_view(
    State(nodes): State<Fleet>,
    Path(i): Path<usize>,
) -> Result<impl IntoResponse, (StatusCode, &'static str)> {
    Ok(axum::Json(pick(&nodes, i)?.view()))
}

async fn admin_requests(
    State(nodes): State<Fleet>,
    Path(i): Path<usize>,
) -> Result<impl IntoResponse, (StatusCode, &'static str)> {
    let n = pick(&nodes, i)?;
    Ok(axum::Json(
        serde_json::json!({"count": n.request_count(), "entries": n.requests()}),
    ))
}

async fn admin_clear_requests(
    State(nodes): State<Fleet>,
    Path(i): Path<usize>,
) -> Result<StatusCode, (StatusCode, &'static str)> {
    pick(&nodes, i)?.clear_requests();
    Ok(StatusCode::NO_CONTENT)
}

fn parse_spec(body: &[u8]) -> Result<FaultSpec, (StatusCode, String)> {
    serde_json::from_slice(body).map_err(|e| {
        (
            StatusCode::BAD_REQUEST,
            format!("invalid fault description: {e}"),
        )
    })
}

async fn admin_faults(
    State(nodes): State<Fleet>,
    Path(i): Path<usize>,
    body: axum::body::Bytes,
) -> Result<StatusCode, (StatusCode, String)> {
    let spec = parse_spec(&body)?;
    let n = nodes
        .get(i)
        .ok_or((StatusCode::NOT_FOUND, "no such node".to_owned()))?;
    n.faults().apply(&spec);
    Ok(StatusCode::NO_CONTENT)
}

async fn admin_clear_faults(
    State(nodes): State<Fleet>,
    Path(i): Path<usize>,
) -> Result<StatusCode, (StatusCode, &'static str)> {
    pick(&nodes, i)?.faults().clear();
    Ok(StatusCode::NO_CONTENT)
}

async fn admin_faults_all(
    State(nodes): State<Fleet>,
    body: axum::body::Bytes,
) -> Result<StatusCode, (StatusCode, String)> {
    let spec = parse_spec(&body)?;
    for n in nodes.iter() {
        n.faults().apply(&spec);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Run-time options of a node as the admin API takes and shows them (`/nodes/{i}/options`).
#[derive(Debug, Default, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct OptionsBody {
    /// [`MockBmcBuilder::basic_auth_only`]; absent: unchanged.
    #[serde(default)]
    basic_auth_only: Option<bool>,
    /// The BIOS quirk switches ([`crate::BiosOptionsChange`]); absent fields: unchanged.
    #[serde(default)]
    bios: Option<crate::BiosOptionsChange>,
    /// The power, boot and Manager identity switches ([`crate::SystemOptionsChange`]);
    /// absent fields: unchanged.
    #[serde(default)]
    system: Option<crate::SystemOptionsChange>,
}

impl OptionsBody {
    fn of(n: &NodeHandle) -> Self {
        let b = n.bios_options();
        OptionsBody {
            basic_auth_only: Some(n.basic_auth_only()),
            bios: Some(crate::BiosOptionsChange {
                rejected_at_apply: Some(b.rejected_at_apply),
                rejected_at_patch: Some(b.rejected_at_patch),
                never_applies: Some(b.never_applies),
                suffixed_names: Some(b.suffixed_names),
                settings_if_match_star: Some(b.settings_if_match_star),
                reset_bios_needs_body: Some(b.reset_bios_needs_body),
            }),
            system: Some(crate::SystemOptionsChange::of(&n.system_options())),
        }
    }

    fn apply(&self, n: &NodeHandle) {
        if let Some(on) = self.basic_auth_only {
            n.set_basic_auth_only(on);
        }
        if let Some(change) = &self.bios {
            n.set_bios_options(change);
        }
        if let Some(change) = &self.system {
            n.set_system_options(change);
        }
    }
}

fn parse_options(body: &[u8]) -> Result<OptionsBody, (StatusCode, String)> {
    serde_json::from_slice(body)
        .map_err(|e| (StatusCode::BAD_REQUEST, format!("invalid options: {e}")))
}

async fn admin_options_get(
    State(nodes): State<Fleet>,
    Path(i): Path<usize>,
) -> Result<impl IntoResponse, (StatusCode, &'static str)> {
    Ok(axum::Json(OptionsBody::of(pick(&nodes, i)?)))
}

async fn admin_options(
    State(nodes): State<Fleet>,
    Path(i): Path<usize>,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, (StatusCode, String)> {
    let options = parse_options(&body)?;
    let n = nodes
        .get(i)
        .ok_or((StatusCode::NOT_FOUND, "no such node".to_owned()))?;
    options.apply(n);
    Ok(axum::Json(OptionsBody::of(n)))
}

async fn admin_options_all(
    State(nodes): State<Fleet>,
    body: axum::body::Bytes,
) -> Result<StatusCode, (StatusCode, String)> {
    let options = parse_options(&body)?;
    for n in nodes.iter() {
        options.apply(n);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// IPMI faults as the admin API takes and shows them (`/nodes/{i}/ipmi/faults`).
#[derive(Debug, Default, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct IpmiFaultBody {
    /// Drop every Nth reply (`null`: none).
    #[serde(default)]
    drop_every_nth_reply: Option<u32>,
    /// Delay before each reply, milliseconds.
    #[serde(default)]
    reply_delay_ms: u64,
    /// Suite IDs (3, 17) refused in Open Session although still listed.
    #[serde(default)]
    refused_suites: Vec<u8>,
}

impl IpmiFaultBody {
    fn into_faults(self) -> Result<ipmi::IpmiFaults, String> {
        let refused_suites = self
            .refused_suites
            .iter()
            .map(|id| match id {
                3 => Ok(ipmi::CipherSuite::Suite3),
                17 => Ok(ipmi::CipherSuite::Suite17),
                other => Err(format!("cipher suite {other} is not served (3 or 17)")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ipmi::IpmiFaults {
            drop_every_nth_reply: self.drop_every_nth_reply,
            reply_delay: std::time::Duration::from_millis(self.reply_delay_ms),
            refused_suites,
        })
    }

    fn of(faults: &ipmi::IpmiFaults) -> Self {
        IpmiFaultBody {
            drop_every_nth_reply: faults.drop_every_nth_reply,
            reply_delay_ms: u64::try_from(faults.reply_delay.as_millis()).unwrap_or(u64::MAX),
            refused_suites: faults.refused_suites.iter().map(|s| s.id()).collect(),
        }
    }
}

fn pick_ipmi(nodes: &Fleet, i: usize) -> Result<&ipmi::IpmiServerHandle, (StatusCode, String)> {
    let n = nodes
        .get(i)
        .ok_or((StatusCode::NOT_FOUND, "no such node".to_owned()))?;
    n.ipmi().ok_or((
        StatusCode::NOT_FOUND,
        "this fleet serves no ipmi".to_owned(),
    ))
}

async fn admin_ipmi_faults_get(
    State(nodes): State<Fleet>,
    Path(i): Path<usize>,
) -> Result<impl IntoResponse, (StatusCode, String)> {
    let server = pick_ipmi(&nodes, i)?;
    Ok(axum::Json(IpmiFaultBody::of(&server.faults())))
}

async fn admin_ipmi_faults(
    State(nodes): State<Fleet>,
    Path(i): Path<usize>,
    body: axum::body::Bytes,
) -> Result<StatusCode, (StatusCode, String)> {
    let server = pick_ipmi(&nodes, i)?;
    let faults = serde_json::from_slice::<IpmiFaultBody>(&body)
        .map_err(|e| e.to_string())
        .and_then(IpmiFaultBody::into_faults)
        .map_err(|e| {
            (
                StatusCode::BAD_REQUEST,
                format!("invalid ipmi fault description: {e}"),
            )
        })?;
    server.set_faults(faults);
    Ok(StatusCode::NO_CONTENT)
}

async fn admin_clear_ipmi_faults(
    State(nodes): State<Fleet>,
    Path(i): Path<usize>,
) -> Result<StatusCode, (StatusCode, String)> {
    pick_ipmi(&nodes, i)?.set_faults(ipmi::IpmiFaults::default());
    Ok(StatusCode::NO_CONTENT)
}
