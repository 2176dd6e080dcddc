//! Sessions and accounts: `SessionService` (its timeout is writable), session login (POST) and
//! logout (DELETE), `AccountService` with its one account and the predefined roles. Without a
//! `SessionService` ([`crate::MockBmcBuilder::basic_auth_only`]) the table has no session rows.

use axum::http::{StatusCode, header};
use serde_json::{Map, Value, json};

use super::common::{Cx, collection, link, parse_body, status_ok};
use crate::messages;
use crate::node::lock;
use crate::reply::Reply;
use crate::routes::{Params, SessionsRes};
use crate::state::{NodeState, Session};

const SESSIONS: &str = "/redfish/v1/SessionService/Sessions";

const ROLES: &[(&str, &[&str])] = &[
    (
        "Administrator",
        &[
            "Login",
            "ConfigureManager",
            "ConfigureUsers",
            "ConfigureSelf",
            "ConfigureComponents",
        ],
    ),
    (
        "Operator",
        &["Login", "ConfigureSelf", "ConfigureComponents"],
    ),
    ("ReadOnly", &["Login", "ConfigureSelf"]),
];

pub(crate) fn get(
    cx: &Cx<'_>,
    st: &mut NodeState,
    r: SessionsRes,
    p: &Params<'_>,
) -> Option<Value> {
    Some(match r {
        SessionsRes::SessionService => json!({
            "@odata.id": "/redfish/v1/SessionService",
            "@odata.type": "#SessionService.v1_2_0.SessionService",
            "Id": "SessionService", "Name": "Session Service",
            "ServiceEnabled": true,
            "SessionTimeout": st.session_timeout_secs,
            "Sessions": link(SESSIONS),
            "Status": status_ok(),
        }),
        SessionsRes::Sessions => {
            st.expire_sessions(cx.now);
            collection(
                SESSIONS,
                "SessionCollection",
                "Session Collection",
                st.sessions.iter().map(|s| format!("{SESSIONS}/{}", s.id)),
            )
        }
        SessionsRes::Session => {
            st.expire_sessions(cx.now);
            let s = st.sessions.iter().find(|s| s.id.to_string() == p.id(0))?;
            session_body(s.id, &s.user)
        }
        SessionsRes::AccountService => json!({
            "@odata.id": "/redfish/v1/AccountService",
            "@odata.type": "#AccountService.v1_18_1.AccountService",
            "Id": "AccountService", "Name": "Account Service",
            "ServiceEnabled": true,
            "MinPasswordLength": 8, "MaxPasswordLength": 20,
            "AccountLockoutThreshold": 0,
            "Accounts": link("/redfish/v1/AccountService/Accounts"),
            "Roles": link("/redfish/v1/AccountService/Roles"),
            "Status": status_ok(),
        }),
        SessionsRes::Accounts => collection(
            "/redfish/v1/AccountService/Accounts",
            "ManagerAccountCollection",
            "Accounts Collection",
            ["/redfish/v1/AccountService/Accounts/1".to_owned()],
        ),
        SessionsRes::Account if p.id(0) == "1" => json!({
            "@odata.id": "/redfish/v1/AccountService/Accounts/1",
            "@odata.type": "#ManagerAccount.v1_14_1.ManagerAccount",
            "Id": "1", "Name": "User Account",
            "UserName": cx.node.shared.user,
            "Password": null,
            "RoleId": "Administrator",
            "Enabled": true, "Locked": false,
            "AccountTypes": ["Redfish"],
            "Links": {"Role": link("/redfish/v1/AccountService/Roles/Administrator")},
        }),
        // `Members` is only a login target; the one account is `1`.
        SessionsRes::SessionsMembers | SessionsRes::Account => return None,
        SessionsRes::Roles => collection(
            "/redfish/v1/AccountService/Roles",
            "RoleCollection",
            "Roles Collection",
            ROLES
                .iter()
                .map(|(r, _)| format!("/redfish/v1/AccountService/Roles/{r}")),
        ),
        SessionsRes::Role => {
            let (name, privs) = ROLES.iter().find(|(r, _)| *r == p.id(0))?;
            json!({
                "@odata.id": format!("/redfish/v1/AccountService/Roles/{name}"),
                "@odata.type": "#Role.v1_3_3.Role",
                "Id": name, "Name": format!("{name} Role"), "RoleId": name,
                "IsPredefined": true, "AssignedPrivileges": privs,
            })
        }
    })
}

/// PATCH of the `SessionService`: `SessionTimeout` (30 to 86 400 seconds).
pub(crate) fn patch(cx: &Cx<'_>, r: SessionsRes, changes: &Map<String, Value>) -> Reply {
    if r != SessionsRes::SessionService {
        return super::common::read_only(changes);
    }
    let mut infos = Vec::new();
    let mut timeout = None;
    for (k, v) in changes {
        match (k.as_str(), v.as_u64()) {
            ("SessionTimeout", Some(t)) if (30..=86_400).contains(&t) => timeout = Some(t),
            // The value as JSON text (a string keeps its quotes), as this answer always had it.
            ("SessionTimeout", _) => infos.push(messages::value_out_of_range(
                "SessionTimeout",
                &Value::from(v.to_string()),
                "/",
                "Use a value between 30 and 86400.",
            )),
            _ => infos.push(messages::property_unknown(k, "/")),
        }
    }
    if !infos.is_empty() {
        return messages::bad_request(infos);
    }
    let mut st = cx.node.state_at(cx.now);
    if let Some(t) = timeout {
        st.session_timeout_secs = t;
    }
    Reply::empty(StatusCode::NO_CONTENT)
}

/// POST to the session collection (or its `Members`): log in.
pub(crate) fn post(cx: &Cx<'_>, r: SessionsRes, bytes: &[u8]) -> Reply {
    match r {
        SessionsRes::Sessions | SessionsRes::SessionsMembers => create_session(cx, bytes),
        _ => messages::not_found(SESSIONS),
    }
}

/// DELETE of a session: log out.
pub(crate) fn delete(cx: &Cx<'_>, r: SessionsRes, p: &Params<'_>, path: &str) -> Reply {
    let mut st = cx.node.state_at(cx.now);
    st.expire_sessions(cx.now);
    let before = st.sessions.len();
    if r == SessionsRes::Session {
        st.sessions.retain(|s| s.id.to_string() != p.id(0));
    }
    if st.sessions.len() == before {
        return messages::not_found(path);
    }
    Reply::empty(StatusCode::NO_CONTENT)
}

fn create_session(cx: &Cx<'_>, bytes: &[u8]) -> Reply {
    let node = cx.node;
    let body = match parse_body(bytes, false) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let user = body.get("UserName").and_then(Value::as_str);
    let pass = body.get("Password").and_then(Value::as_str);
    let (Some(user), Some(pass)) = (user, pass) else {
        let missing = if user.is_none() {
            "UserName"
        } else {
            "Password"
        };
        return messages::bad_request(vec![messages::property_missing(missing)]);
    };
    if !node.credentials_ok(user, pass) {
        return messages::unauthorized();
    }
    let mut st = lock(&node.state);
    st.expire_sessions(cx.now);
    if st.sessions.len() >= node.profile().session_cap {
        drop(st);
        return messages::vendor_error(node.profile().session_limit_error);
    }
    let id = st.take_id();
    let token = new_token();
    st.sessions.push(Session {
        id,
        token: token.clone(),
        user: user.to_owned(),
        last_used: cx.now,
    });
    Reply::json(StatusCode::CREATED, session_body(id, user))
        .header(header::LOCATION, format!("{SESSIONS}/{id}"))
        .header(header::HeaderName::from_static("x-auth-token"), token)
}

fn session_body(id: u32, user: &str) -> Value {
    json!({
        "@odata.id": format!("{SESSIONS}/{id}"),
        "@odata.type": "#Session.v1_8_0.Session",
        "Id": id.to_string(), "Name": "User Session",
        "UserName": user,
        "Password": null,
    })
}

/// 43 characters from a 62-symbol alphabet: about 256 bits of randomness.
fn new_token() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(43);
    while out.len() < 43 {
        let mut r = rand::random::<u128>();
        for _ in 0..21 {
            out.push(char::from(ALPHABET[(r % 62) as usize]));
            r /= 62;
        }
    }
    out.truncate(43);
    out
}
