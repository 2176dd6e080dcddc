#!/usr/bin/env bash
# Runs every test: Rust (unit, integration, doc), the README's main job against the embedded
# mock BMC, DMTF's validators against the mock BMC, and the Python bindings (last, so pytest's
# summary closes the output). Rust and Python both test against OpenStack's sushy-tools
# emulator, installed into .venv here.
# Works on a fresh machine with cargo and python3; tests that need a tool that is not installed
# (ipmitool, ipmi_sim, FreeIPMI, xorriso, sushy-tools, PostgreSQL's initdb/pg_ctl/postgres) or
# ../shared/fixtures skip with a message. The PostgreSQL tests start and stop a throwaway cluster
# themselves (as the `postgres` user when run as root).
set -euo pipefail
cd "$(dirname "$0")/.."

# First, so the Rust interop tests find sushy-tools' emulator in .venv/bin.
echo "== python venv with maturin, pytest, mypy (stubtest), DMTF's validators and sushy-tools"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python - <<'PY' || .venv/bin/pip install -q maturin pytest mypy redfish-service-validator redfish-protocol-validator sushy-tools
import importlib.util, sys
need = ["maturin", "pytest", "mypy", "redfish_service_validator", "redfish_protocol_validator", "sushy_tools"]
sys.exit(0 if all(importlib.util.find_spec(m) for m in need) else 1)
PY

echo "== cargo test"
cargo test --workspace --locked

# `cargo test` built the mock BMC's binary for its own tests: the validators and pytest use that
# one rather than building it again with the mock crate's features alone.
mock_bin="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/debug/ferrofish-mock-bmc"
if [ -x "$mock_bin" ]; then export FERROFISH_MOCK_BMC="$mock_bin"; fi

echo "== the README's main job: the provision example against its embedded mock fleet"
cargo run --quiet --locked --example provision -- --json > /dev/null

echo "== DMTF Redfish Service and Protocol Validators against the mock BMC"
bash mock-bmc/conformance/run.sh

echo "== python packaging: pip install ./python into a throwaway venv, then import it"
# The dev profile reuses the build above; a user's plain `pip install ./python` builds release.
wheel_venv="$(mktemp -d)"
trap 'rm -rf "$wheel_venv"' EXIT
python3 -m venv "$wheel_venv"
MATURIN_PEP517_ARGS="--profile dev" "$wheel_venv/bin/pip" install --quiet ./python
(cd "$wheel_venv" && "$wheel_venv/bin/python" - <<'PY')
import importlib.resources, ferrofish
assert ferrofish.__file__.startswith(__import__("sys").prefix), ferrofish.__file__
files = {p.name for p in importlib.resources.files("ferrofish").iterdir()}
assert {"py.typed", "_ferrofish.pyi"} <= files, files
assert issubclass(ferrofish.RedfishHttpError, ferrofish.FerrofishError)
print("pip install ./python: ok,", ferrofish.__name__, "from", ferrofish.__file__)
PY

echo "== python bindings: maturin develop, pytest"
.venv/bin/maturin develop --quiet -m python/Cargo.toml
.venv/bin/python -m pytest python/tests
