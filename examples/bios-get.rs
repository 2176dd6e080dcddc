//! Prints a system's BIOS attributes: current and pending values, with each attribute's type
//! from the attribute registry.
//!
//! ```text
//! cargo run --example bios-get -- --bmc https://10.0.0.5 --user root [--json] [--filter 'Proc*']
//! cargo run --example bios-get            # no --bmc: an embedded mock BMC
//! ```
//!
//! The password comes from `FERROFISH_PASSWORD` or a prompt, never from the command line.
//! `--filter` takes a glob (`*`, `?`), matched without regard to case. Exit codes: 0 printed,
//! 1 error, 2 invalid input.

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::Parser;
use ferrofish::bios::{AttributeDef, AttributeKind, Bios, BiosSnapshot};
use serde_json::{Value, json};

mod support;

/// Command-line arguments.
#[derive(Debug, Parser)]
#[command(about = "Print BIOS attributes: current and pending values, with their types")]
struct Args {
    #[command(flatten)]
    bmc: support::BmcArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Only attributes whose name matches this glob (`*`, `?`; case-insensitive).
    #[arg(long, value_name = "GLOB")]
    filter: Option<String>,
}

/// Whether `name` matches `glob` (`*` any run, `?` one character), ignoring case. Pure.
fn glob_matches(glob: &str, name: &str) -> bool {
    let glob: Vec<char> = glob.to_lowercase().chars().collect();
    let name: Vec<char> = name.to_lowercase().chars().collect();
    // Iterative wildcard matching with one backtrack point: linear in practice.
    let (mut g, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if g < glob.len() && (glob[g] == '?' || glob[g] == name[n]) {
            g += 1;
            n += 1;
        } else if g < glob.len() && glob[g] == '*' {
            star = Some((g, n));
            g += 1;
        } else if let Some((sg, sn)) = star {
            g = sg + 1;
            n = sn + 1;
            star = Some((sg, sn + 1));
        } else {
            return false;
        }
    }
    glob[g..].iter().all(|&c| c == '*')
}

/// The type as shown, with its limits.
fn describe(kind: &AttributeKind) -> (String, Value) {
    match kind {
        AttributeKind::Enumeration { values } => {
            ("enumeration".into(), json!({ "values": values }))
        }
        AttributeKind::Integer {
            lower,
            upper,
            increment,
        } => (
            "integer".into(),
            json!({ "lower": lower, "upper": upper, "increment": increment }),
        ),
        AttributeKind::String {
            min_length,
            max_length,
            pattern,
        } => (
            "string".into(),
            json!({ "min_length": min_length, "max_length": max_length, "pattern": pattern }),
        ),
        AttributeKind::Boolean => ("boolean".into(), json!({})),
        AttributeKind::Password {
            min_length,
            max_length,
        } => (
            "password".into(),
            json!({ "min_length": min_length, "max_length": max_length }),
        ),
        AttributeKind::Other(other) => (other.to_lowercase(), json!({})),
    }
}

/// One row: the registry's definition when there is one, the values read.
struct Row<'a> {
    name: &'a str,
    def: Option<&'a AttributeDef>,
}

/// Every attribute the registry or the BMC names, registry order first, filtered. Pure.
fn rows<'a>(snapshot: &'a BiosSnapshot, filter: Option<&str>) -> Vec<Row<'a>> {
    let keep = |name: &str| filter.is_none_or(|glob| glob_matches(glob, name));
    let mut rows: Vec<Row<'a>> = Vec::new();
    if let Some(registry) = snapshot.registry.registry.as_deref() {
        rows.extend(
            registry
                .attributes
                .iter()
                .filter(|def| keep(&def.name))
                .map(|def| Row {
                    name: &def.name,
                    def: Some(def),
                }),
        );
    }
    // Attributes the BMC shows but its registry does not describe (or there is no registry).
    let described = |name: &str| rows.iter().any(|r| r.name == name);
    let extra: Vec<Row<'a>> = snapshot
        .current
        .keys()
        .chain(snapshot.pending.keys())
        .filter(|name| keep(name) && !described(name))
        .map(|name| Row {
            name: name.as_str(),
            def: None,
        })
        .collect();
    for row in extra {
        if !rows.iter().any(|r| r.name == row.name) {
            rows.push(row);
        }
    }
    rows
}

fn kind_name(snapshot: &BiosSnapshot, row: &Row<'_>) -> String {
    match row.def {
        Some(def) => describe(&def.kind).0,
        None => snapshot
            .current
            .get(row.name)
            .or_else(|| snapshot.pending.get(row.name))
            .map_or_else(|| "-".to_owned(), |v| format!("{} (untyped)", v.kind())),
    }
}

fn render_json(snapshot: &BiosSnapshot, rows: &[Row<'_>]) -> Value {
    let attributes: Vec<Value> = rows
        .iter()
        .map(|row| {
            let limits = row.def.map_or_else(|| json!({}), |d| describe(&d.kind).1);
            // A pending value the Bios shows already (HPE, Lenovo list everything) is not a
            // change: shown only when it differs.
            let current = snapshot.current.get(row.name);
            let pending = snapshot
                .pending
                .get(row.name)
                .filter(|p| current.is_none_or(|c| !c.same_as(p)));
            json!({
                "name": row.name,
                "type": kind_name(snapshot, row),
                "limits": limits,
                "display_name": row.def.and_then(|d| d.display_name.as_deref()),
                "read_only": row.def.is_some_and(|d| d.read_only || d.immutable),
                "current": current,
                "pending": pending,
                "default": row.def.and_then(|d| d.default_value.clone()),
            })
        })
        .collect();
    json!({
        "bios": snapshot.url.as_str(),
        "registry": snapshot.registry.url,
        "registry_note": snapshot.registry.note,
        "attributes": attributes,
    })
}

fn render_table(snapshot: &BiosSnapshot, rows: &[Row<'_>]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", snapshot.url);
    match (&snapshot.registry.url, &snapshot.registry.note) {
        (Some(url), _) => {
            let _ = writeln!(out, "registry: {url}");
        }
        (None, Some(note)) => {
            let _ = writeln!(
                out,
                "registry: none ({note}); types guessed from the values"
            );
        }
        (None, None) => {}
    }
    let name_width = rows.iter().map(|r| r.name.len()).max().unwrap_or(4).max(4);
    let _ = writeln!(
        out,
        "{:<name_width$}  {:<12}  {:<20}  PENDING",
        "NAME", "TYPE", "CURRENT"
    );
    for row in rows {
        let current = snapshot.current.get(row.name);
        let pending = snapshot
            .pending
            .get(row.name)
            .filter(|p| current.is_none_or(|c| !c.same_as(p)));
        let read_only = if row.def.is_some_and(|d| d.read_only || d.immutable) {
            " (read-only)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "{:<name_width$}  {:<12}  {:<20}  {}{read_only}",
            row.name,
            kind_name(snapshot, row),
            current.map_or_else(|| "-".to_owned(), ToString::to_string),
            pending.map_or_else(|| "-".to_owned(), ToString::to_string),
        );
    }
    let _ = write!(out, "{} attribute(s)", rows.len());
    out
}

async fn run(args: Args) -> Result<String, (u8, String)> {
    support::check(&args.bmc).map_err(|m| (2, m))?;
    let connected = support::connect(&args.bmc, "bios-get")
        .await
        .map_err(|m| (1, m))?;
    let read = Bios::new(&connected.system).read().await;
    connected.close().await;
    let snapshot = read.map_err(|err| (1, err.to_string()))?;
    let rows = rows(&snapshot, args.filter.as_deref());
    if args.json {
        serde_json::to_string_pretty(&render_json(&snapshot, &rows))
            .map_err(|err| (1, format!("cannot encode JSON: {err}")))
    } else {
        Ok(render_table(&snapshot, &rows))
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    match run(Args::parse()).await {
        Ok(output) => {
            println!("{output}");
            ExitCode::SUCCESS
        }
        Err((code, message)) => {
            eprintln!("bios-get: {message}");
            ExitCode::from(code)
        }
    }
}
