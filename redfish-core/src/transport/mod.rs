//! The thin HTTP layer, by concern: `state` (settings, counters, auth state, ETag cache),
//! `send` (one logical request with retries; one HTTP exchange), `session` (authentication
//! and the session lifecycle) and `read` (GET, decode, ETag). Every decision is delegated to
//! the pure functions in `retry`, `etag`, `decode` and `endpoint`.
//!
//! The submodules import `state` and each other only downwards (`session` → `send` →
//! `state`), never this module, so there is no import loop.

mod read;
mod send;
mod session;
mod state;

pub use state::{AuthMode, RequestCounts};
pub(crate) use state::{Credentials, Inner, InnerConfig, RequestOptions};
