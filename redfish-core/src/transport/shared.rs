//! Session sharing across clients (quirk `session_cap`): BMCs allow a handful of sessions
//! (iDRAC 8, XCC 16), so every [`crate::RedfishClient`] of this process built for the same
//! endpoint, user name, password and authentication mode shares one authentication state,
//! hence one session, and the process never holds more sessions on one BMC than the cap it
//! knows.
//!
//! The registry holds weak references: the state lives as long as a client uses it, and the
//! last client to close (or be dropped) deletes the session. The password is never part of a
//! key nor hashed: a candidate state is matched by comparing the stored secret with the new
//! client's, in time independent of where they differ; nothing here is logged or shown by
//! `Debug`.
//!
//! The cap comes from the vendor, so from the service root: the process's first session on a
//! BMC is requested while the root is read (one session never exceeds a cap), and a login
//! while others are held waits for the root first. Logins of several accounts that start at
//! the same instant, before any root is read, are not held back; the BMC's own refusal
//! (`Error::SessionLimit`) covers that case.
//!
//! After a `fork`, the child inherits the parent's registry and its session tokens: the child
//! may use the session, but never deletes one its parent opened (see
//! [`deletes_on_close`]); the parent, which owns it, does.
//!
//! This module imports nothing from the rest of `transport`, so `state` can hold its types.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex as StdMutex, Weak};

use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;
use url::Url;

/// An open Redfish session.
pub(crate) struct Session {
    pub(crate) token: SecretString,
    /// Where to DELETE it; `None` when the BMC gave neither `Location` nor `@odata.id`.
    pub(crate) uri: Option<Url>,
    /// The process that opened it: a forked child never deletes its parent's session.
    pub(crate) owner_pid: u32,
    /// Its place in the process's count of sessions on this BMC, given back when the session
    /// is dropped (deleted, replaced or forgotten).
    pub(crate) _place: CapPlace,
}

/// How requests are authenticated right now.
pub(crate) enum ActiveAuth {
    /// Nothing decided yet: the first authenticated request logs in.
    Pending,
    /// HTTP Basic on every request.
    Basic,
    /// A session token.
    Session(Session),
}

pub(crate) struct AuthState {
    pub(crate) active: ActiveAuth,
    /// Bumped on every login, so that concurrent 401s re-login only once, whichever client
    /// of the shared state saw them.
    pub(crate) generation: u64,
}

/// The authentication state one or more clients share.
pub(crate) struct SharedAuth {
    pub(crate) state: Mutex<AuthState>,
    /// Clients that use this state and are not closed yet.
    users: AtomicUsize,
    /// The endpoint, user name and password it was made for; `None` for a client's private
    /// state (HTTP Basic only, no credentials, or sharing turned off).
    key: Option<(RegistryKey, SecretString)>,
}

impl std::fmt::Debug for SharedAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedAuth")
            .field("endpoint", &self.key.as_ref().map(|(k, _)| &k.endpoint))
            .field("username", &self.key.as_ref().map(|(k, _)| &k.username))
            .field("users", &self.users.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// What makes two clients share: the same endpoint, user name and mode (the password is
/// compared apart, never used as a key).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct RegistryKey {
    endpoint: String,
    username: String,
    /// `Auto` may settle on HTTP Basic; a `Session` client must not inherit that.
    mode: &'static str,
}

type Registry = HashMap<RegistryKey, Vec<Weak<SharedAuth>>>;

static REGISTRY: LazyLock<StdMutex<Registry>> = LazyLock::new(StdMutex::default);

/// Sessions this process holds, by endpoint.
static OPEN_SESSIONS: LazyLock<StdMutex<HashMap<String, usize>>> = LazyLock::new(StdMutex::default);

impl SharedAuth {
    fn fresh(key: Option<(RegistryKey, SecretString)>) -> SharedAuth {
        SharedAuth {
            state: Mutex::new(AuthState {
                active: ActiveAuth::Pending,
                generation: 0,
            }),
            users: AtomicUsize::new(1),
            key,
        }
    }

    /// A state only this client uses.
    pub(crate) fn private() -> Arc<SharedAuth> {
        Arc::new(SharedAuth::fresh(None))
    }

    /// The state of the clients already open on `endpoint` as `username` with this password
    /// and mode, joined; else a new one, registered for the next.
    pub(crate) fn join(
        endpoint: &Url,
        username: &str,
        password: &SecretString,
        mode: &'static str,
    ) -> Arc<SharedAuth> {
        let key = RegistryKey {
            endpoint: endpoint.as_str().to_owned(),
            username: username.to_owned(),
            mode,
        };
        let Ok(mut registry) = REGISTRY.lock() else {
            return SharedAuth::private();
        };
        let entries = registry.entry(key.clone()).or_default();
        entries.retain(|weak| weak.strong_count() > 0);
        let existing = entries.iter().filter_map(Weak::upgrade).find(|shared| {
            shared
                .key
                .as_ref()
                .is_some_and(|(_, stored)| same_secret(stored, password))
        });
        if let Some(shared) = existing {
            shared.users.fetch_add(1, Ordering::AcqRel);
            return shared;
        }
        let shared = Arc::new(SharedAuth::fresh(Some((key, password.clone()))));
        entries.push(Arc::downgrade(&shared));
        shared
    }

    /// One client stops using the state. True when it was the last, which then deletes the
    /// session. Call under the state's lock (or with exclusive access), so that no client
    /// uses the session between this and its removal.
    pub(crate) fn leave(&self) -> bool {
        self.users.fetch_sub(1, Ordering::AcqRel) == 1
    }

    /// Whether other clients than the caller still use this state.
    #[cfg(test)]
    pub(crate) fn users(&self) -> usize {
        self.users.load(Ordering::Acquire)
    }
}

impl Drop for SharedAuth {
    fn drop(&mut self) {
        // Tidy the registry's dead entries for this key, so it does not grow with clients
        // that came and went.
        // `try_lock`: `join` may drop an upgraded reference while holding the registry.
        let Some((key, _)) = &self.key else { return };
        if let Ok(mut registry) = REGISTRY.try_lock()
            && let Some(entries) = registry.get_mut(key)
        {
            entries.retain(|weak| weak.strong_count() > 0);
            if entries.is_empty() {
                registry.remove(key);
            }
        }
    }
}

/// Equal secrets, compared in time that does not depend on where they differ.
fn same_secret(a: &SecretString, b: &SecretString) -> bool {
    let (a, b) = (a.expose_secret().as_bytes(), b.expose_secret().as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A session counted against the process's sessions on one BMC; given back when dropped.
pub(crate) struct CapPlace {
    endpoint: String,
}

impl CapPlace {
    /// Takes a place among the sessions this process holds on `endpoint`, unless it already
    /// holds `cap` of them: then `Err(how many it holds)`. `None` for the cap takes a place
    /// whatever the count (the cap is not known yet, or a replaced session gives its own).
    pub(crate) fn take(endpoint: &Url, cap: Option<u32>) -> Result<CapPlace, usize> {
        let endpoint = endpoint.as_str().to_owned();
        let Ok(mut open) = OPEN_SESSIONS.lock() else {
            return Ok(CapPlace { endpoint });
        };
        let count = open.entry(endpoint.clone()).or_insert(0);
        if !has_room(*count, cap) {
            return Err(*count);
        }
        *count += 1;
        Ok(CapPlace { endpoint })
    }

    /// Sessions this process holds on `endpoint` now.
    pub(crate) fn held(endpoint: &Url) -> usize {
        OPEN_SESSIONS
            .lock()
            .ok()
            .and_then(|open| open.get(endpoint.as_str()).copied())
            .unwrap_or(0)
    }
}

impl Drop for CapPlace {
    fn drop(&mut self) {
        if let Ok(mut open) = OPEN_SESSIONS.lock()
            && let Some(count) = open.get_mut(&self.endpoint)
        {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.endpoint);
            }
        }
    }
}

/// Whether one more session fits under a known cap. Pure.
pub(crate) fn has_room(held: usize, cap: Option<u32>) -> bool {
    cap.is_none_or(|cap| held < usize::try_from(cap).unwrap_or(usize::MAX))
}

/// Whether closing deletes a session opened by `owner`: not in a forked child, which shares
/// its parent's session but must not end it under the parent. Pure.
pub(crate) fn deletes_on_close(owner: u32, current: u32) -> bool {
    owner == current
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn clients_of_one_endpoint_user_password_and_mode_share_and_no_others() {
        let endpoint = url("https://share-test.invalid/");
        let pw = SecretString::from("Pw-share-SECRET");
        let a = SharedAuth::join(&endpoint, "admin", &pw, "auto");
        let b = SharedAuth::join(&endpoint, "admin", &pw, "auto");
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.users(), 2);
        let other_pw = SharedAuth::join(&endpoint, "admin", &SecretString::from("x"), "auto");
        let other_user = SharedAuth::join(&endpoint, "root", &pw, "auto");
        let other_mode = SharedAuth::join(&endpoint, "admin", &pw, "session");
        let other_bmc = SharedAuth::join(&url("https://other.invalid/"), "admin", &pw, "auto");
        for other in [&other_pw, &other_user, &other_mode, &other_bmc] {
            assert!(!Arc::ptr_eq(&a, other));
        }
        assert!(!a.leave(), "b still uses it");
        assert!(b.leave(), "the last one");
        // Gone with its last holder: a new client starts afresh.
        drop((a, b));
        let c = SharedAuth::join(&endpoint, "admin", &pw, "auto");
        assert_eq!(c.users(), 1);
    }

    #[test]
    fn debug_shows_no_password() {
        let shared = SharedAuth::join(
            &url("https://debug-test.invalid/"),
            "admin",
            &SecretString::from("Pw-debug-SECRET"),
            "auto",
        );
        let shown = format!("{shared:?}");
        assert!(
            shown.contains("admin") && shown.contains("debug-test"),
            "{shown}"
        );
        assert!(!shown.contains("Pw-debug-SECRET"), "{shown}");
    }

    #[test]
    fn secrets_compare_by_content() {
        let s = |t: &str| SecretString::from(t.to_owned());
        assert!(same_secret(&s("abc"), &s("abc")));
        assert!(!same_secret(&s("abc"), &s("abd")));
        assert!(!same_secret(&s("abc"), &s("abcd")));
        assert!(same_secret(&s(""), &s("")));
    }

    #[test]
    fn the_cap_counts_places_and_gives_them_back() {
        let endpoint = url("https://cap-test.invalid/");
        let first = CapPlace::take(&endpoint, Some(2)).unwrap();
        let second = CapPlace::take(&endpoint, Some(2)).unwrap();
        assert_eq!(CapPlace::take(&endpoint, Some(2)).err(), Some(2));
        assert_eq!(CapPlace::held(&endpoint), 2);
        drop(first);
        let third = CapPlace::take(&endpoint, Some(2)).unwrap();
        // An unknown cap never refuses.
        let fourth = CapPlace::take(&endpoint, None).unwrap();
        assert_eq!(CapPlace::held(&endpoint), 3);
        drop((second, third, fourth));
        assert_eq!(CapPlace::held(&endpoint), 0);
    }

    #[test]
    fn room_under_a_cap() {
        assert!(has_room(0, Some(1)));
        assert!(!has_room(1, Some(1)));
        assert!(!has_room(0, Some(0)));
        assert!(has_room(1000, None));
    }

    #[test]
    fn a_forked_child_never_deletes_its_parents_session() {
        assert!(deletes_on_close(42, 42));
        assert!(!deletes_on_close(42, 43));
    }
}
