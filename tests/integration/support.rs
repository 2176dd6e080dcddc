//! Running the example binaries that `cargo test` builds beside the test binaries.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

/// `target/<profile>/examples/<name>`, next to `target/<profile>/deps/<this test>`, built
/// first so a test never runs a stale example (`cargo test --test integration` alone does not
/// rebuild examples).
pub fn example_binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<bool> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        match Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--examples", "-p", "ferrofish"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
        {
            Ok(status) => status.success(),
            // A test binary run by another user than the one who built it (the PostgreSQL
            // tests as a non-root user) may not reach cargo: it takes the examples as the
            // `cargo test` that built it left them, and says so.
            Err(err) => {
                eprintln!("cannot run cargo ({err}): using the examples as built");
                true
            }
        }
    });
    assert!(*built, "cargo build --examples failed");
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
    let name = name.to_owned();
    let args: Vec<String> = args.iter().map(|&arg| arg.to_owned()).collect();
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        Command::new(example_binary(&name))
            .args(&args)
            .env("FERROFISH_PASSWORD", &password)
            .env_remove("RUST_LOG")
            .output()
            .expect("run the example")
    })
    .await
    .expect("join")
}
