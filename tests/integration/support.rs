//! Running the example binaries that `cargo test` builds beside the test binaries.

use std::path::PathBuf;
use std::process::{Command, Output};

/// `target/<profile>/examples/<name>`, next to `target/<profile>/deps/<this test>`.
pub fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    let binary = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.exists(),
        "{} is missing: cargo test builds examples first",
        binary.display()
    );
    binary
}

/// Runs example `name` with `args`, the password in `FERROFISH_PASSWORD` and no log filter,
/// off the async runtime so the mock BMC in the same process keeps serving.
pub async fn run_example(name: &str, args: &[&str], password: &str) -> Output {
    let mut command = Command::new(example_binary(name));
    command
        .args(args)
        .env("FERROFISH_PASSWORD", password)
        .env_remove("RUST_LOG");
    tokio::task::spawn_blocking(move || command.output().expect("run the example"))
        .await
        .expect("join")
}
