//! The service's resources, one module per area, each owning the GET, PATCH, POST and DELETE
//! of the rows of [`crate::routes::ROUTES`] that name it. Payloads are generated on demand from
//! the personality table, the node's compact state, its inventory counts and its index (the
//! seed); nothing here is stored per node.
//!
//! | area | module | serves |
//! |---|---|---|
//! | service root and metadata | [`root`] | `/redfish`, the service root, `$metadata`, `odata` |
//! | sessions and accounts | [`sessions`] | `SessionService`, sessions (login, logout), `AccountService`, accounts, roles |
//! | systems with power and boot | [`systems`] | the Systems, `ComputerSystem.Reset`, the boot override PATCH, `BootProgress` |
//! | BIOS | [`bios`] | `Bios`, its settings object (PATCH, Dell jobs), `ResetBios`, the attribute registry |
//! | virtual media | [`vmedia`] | slots, `InsertMedia` / `EjectMedia`, insert by PATCH, image download and checks |
//! | tasks and jobs | [`tasks`] | `TaskService`, tasks, task monitors (DELETE cancels), Dell jobs |
//! | inventory | [`inventory`] | processors, memory, storage, NICs, chassis, `PCIe` devices |
//! | managers | [`managers`] | the Manager |
//! | Dell OEM | [`dell`] | `DellLCService`, `DellJobService`, `JobService/Jobs` (Dell personality) |

pub(crate) mod bios;
mod common;
pub(crate) mod dell;
pub(crate) mod inventory;
pub(crate) mod managers;
pub(crate) mod root;
pub(crate) mod sessions;
pub(crate) mod systems;
pub(crate) mod tasks;
pub(crate) mod vmedia;

use serde_json::{Map, Value};

pub(crate) use common::{Answer, Cx};

use crate::messages;
use crate::reply::Reply;
use crate::routes::{Params, Resource};
use crate::state::NodeState;

/// GET of `resource`; `None` is a 404.
pub(crate) fn get(
    cx: &Cx<'_>,
    st: &mut NodeState,
    resource: Resource,
    p: &Params<'_>,
) -> Option<Answer> {
    match resource {
        Resource::Root(r) => Some(root::get(cx, r)),
        Resource::Sessions(r) => sessions::get(cx, st, r, p).map(Answer::Resource),
        Resource::Systems(r) => systems::get(cx, st, r, p).map(Answer::Resource),
        Resource::Bios(r) => bios::get(cx, st, r, p).map(Answer::Resource),
        Resource::Vmedia(r) => vmedia::get(cx, st, r, p).map(Answer::Resource),
        Resource::Tasks(r) => tasks::get(cx, st, r, p),
        Resource::Inventory(r) => inventory::get(cx, st, r, p).map(Answer::Resource),
        Resource::Managers(r) => Some(Answer::Resource(managers::get(cx, st, r))),
        Resource::Dell(r) => dell::get(cx, st, r, p),
    }
}

/// PATCH of `resource` (which exists, allows PATCH, and whose `If-Match` held).
pub(crate) async fn patch(
    cx: &Cx<'_>,
    resource: Resource,
    p: &Params<'_>,
    changes: &Map<String, Value>,
) -> Reply {
    match resource {
        Resource::Systems(r) => systems::patch(cx, r, p, changes),
        Resource::Bios(r) => bios::patch(cx, r, p, changes),
        Resource::Sessions(r) => sessions::patch(cx, r, changes),
        Resource::Vmedia(r) => vmedia::patch(cx, r, p, changes).await,
        _ => common::read_only(changes),
    }
}

/// POST to `resource` (which allows POST).
pub(crate) async fn post(cx: &Cx<'_>, resource: Resource, p: &Params<'_>, body: &[u8]) -> Reply {
    match resource {
        Resource::Sessions(r) => sessions::post(cx, r, body),
        Resource::Systems(r) => systems::post(cx, r, p, body),
        Resource::Bios(r) => bios::post(cx, r, p, body),
        Resource::Vmedia(r) => vmedia::post(cx, r, p, body).await,
        Resource::Dell(r) => dell::post(cx, r, body),
        Resource::Tasks(r) => tasks::post(cx, r, body),
        _ => messages::not_found(""),
    }
}

/// DELETE of `resource` (which allows DELETE).
pub(crate) fn delete(cx: &Cx<'_>, resource: Resource, p: &Params<'_>, path: &str) -> Reply {
    match resource {
        Resource::Sessions(r) => sessions::delete(cx, r, p, path),
        Resource::Tasks(r) => tasks::delete(cx, r, p, path),
        _ => messages::not_found(path),
    }
}
