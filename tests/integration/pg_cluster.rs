//! A throwaway `PostgreSQL` cluster for tests and benches: `initdb` into a temporary directory,
//! the server on a free 127.0.0.1 port with its socket in that directory, stopped (and the
//! directory removed) on drop. The binaries are looked up on `PATH`, then under
//! `/usr/lib/postgresql/*/bin` (Debian's packages). The server refuses to run as root, so as
//! root it runs as the `postgres` user through `runuser` (the directory is given to that user).
//! Without binaries (or, as root, without a `postgres` user) `start` says why on stderr and
//! returns `None`, so the test skips; `FERROFISH_REQUIRE_POSTGRES=1` (CI) makes that a failure.

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A running cluster; the database `postgres` is trusted for user `postgres` on 127.0.0.1.
pub struct PgCluster {
    bin: PathBuf,
    run_as: Option<String>,
    data: PathBuf,
    port: u16,
    // Last: removed after the server stopped.
    dir: tempfile::TempDir,
}

fn skip(why: &str) -> Option<PgCluster> {
    assert!(
        std::env::var("FERROFISH_REQUIRE_POSTGRES").as_deref() != Ok("1"),
        "FERROFISH_REQUIRE_POSTGRES=1 but {why}"
    );
    eprintln!("skipping: {why}");
    None
}

/// The directory holding `initdb`, `pg_ctl` and `postgres`.
fn find_binaries() -> Option<PathBuf> {
    let has_all = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|b| dir.join(b).is_file())
    };
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|dir| has_all(dir))
        // /usr/local/bin/initdb may be a link into the version's directory: use that one, so
        // pg_ctl finds the postgres of its own version.
        .map(|dir| {
            std::fs::canonicalize(dir.join("initdb"))
                .ok()
                .and_then(|real| real.parent().map(Path::to_path_buf))
                .filter(|real| has_all(real))
                .unwrap_or(dir)
        });
    let mut debian: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dirs| {
            dirs.filter_map(Result::ok)
                .map(|entry| entry.path().join("bin"))
                .filter(|dir| has_all(dir))
                .collect()
        })
        .unwrap_or_default();
    // The newest version last, numerically (10 after 9).
    debian.sort_by_key(|dir| {
        dir.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.split('.').next())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    on_path.chain(debian.into_iter().rev()).next()
}

fn output(command: &mut Command) -> std::io::Result<Output> {
    command.stdin(Stdio::null()).output()
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

fn id_of(user: &str, flag: &str) -> Option<u32> {
    let out = output(Command::new("id").args([flag, user])).ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().parse().ok())
        .flatten()
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port on 127.0.0.1")
}

impl PgCluster {
    /// Starts a cluster, or says why not and returns `None`.
    pub fn start() -> Option<PgCluster> {
        let Some(bin) = find_binaries() else {
            return skip(
                "no PostgreSQL binaries (initdb, pg_ctl, postgres) on PATH or under /usr/lib/postgresql/*/bin",
            );
        };
        let dir = tempfile::Builder::new()
            .prefix("ferrofish-pg-")
            .tempdir()
            .expect("tempdir");
        let run_as = if running_as_root() {
            let user = "postgres";
            let (Some(uid), Some(gid)) = (id_of(user, "-u"), id_of(user, "-g")) else {
                return skip(
                    "running as root and there is no `postgres` user to run the server as",
                );
            };
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
                .expect("chown the cluster directory");
            Some(user.to_owned())
        } else {
            None
        };
        let mut cluster = PgCluster {
            bin,
            run_as,
            data: dir.path().join("data"),
            port: 0,
            dir,
        };
        let init = output(
            cluster
                .command("initdb")
                .args([
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    "--no-locale",
                    "-N",
                    "-D",
                ])
                .arg(&cluster.data),
        )
        .expect("run initdb");
        assert!(
            init.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        // A port found free may be taken before the server binds it: try a few.
        for _ in 0..3 {
            cluster.port = free_port();
            let options = format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
                cluster.port,
                cluster.dir.path().display()
            );
            let started = output(
                cluster
                    .command("pg_ctl")
                    .args(["-w", "-t", "60", "-D"])
                    .arg(&cluster.data)
                    .arg("-l")
                    .arg(cluster.dir.path().join("server.log"))
                    .args(["-o", &options, "start"]),
            )
            .expect("run pg_ctl start");
            if started.status.success() {
                return Some(cluster);
            }
        }
        let log =
            std::fs::read_to_string(cluster.dir.path().join("server.log")).unwrap_or_default();
        panic!("the PostgreSQL server did not start:\n{log}");
    }

    /// `bin/name`, run as the server's user.
    fn command(&self, name: &str) -> Command {
        let program = self.bin.join(name);
        match &self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(program);
                command
            }
            None => Command::new(program),
        }
    }

    /// The URL of database `postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = output(
            self.command("pg_ctl")
                .args(["-w", "-D"])
                .arg(&self.data)
                .args(["stop", "-m", "immediate"]),
        );
    }
}
