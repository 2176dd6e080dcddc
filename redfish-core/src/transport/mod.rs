//! The thin HTTP layer, by concern: `state` (settings, counters, auth state, ETag cache),
//! `send` (one logical request with retries; one HTTP exchange), `session` (authentication
//! and the session lifecycle), `read` (GET, decode, ETag) and `shared` (the authentication
//! state clients of one BMC and account share, and the process's session count per BMC). Every decision is delegated to
//! the pure functions in `retry`, `etag`, `decode` and `endpoint`.
//!
//! The submodules import `state` and each other only downwards (`session` → `send` → `lean`
//! → `state` → `shared`), never this module, so there is no import loop. The bytes go through
//! `crate::http` (the HTTP clients and the kept connections), which imports nothing from here.

mod lean;
mod read;
mod send;
mod session;
mod shared;
mod state;

pub use state::{AuthMode, RequestCounts};
pub(crate) use state::{Credentials, Inner, InnerConfig, RequestOptions};
