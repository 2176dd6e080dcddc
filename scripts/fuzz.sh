#!/usr/bin/env bash
# Runs one fuzz target under libFuzzer for a while, then prints how many inputs it executed and
# how many crashes it found:
#
#     scripts/fuzz.sh TARGET SECONDS        e.g. scripts/fuzz.sh ipmi_session_decode 60
#
# Targets are the [[bin]] entries of fuzz/Cargo.toml. The run starts from the committed seeds in
# fuzz/corpus/TARGET/ (read only) and adds what it finds to fuzz/corpus-found/TARGET/; a crash
# is written to fuzz/artifacts/TARGET/ and makes the script exit 1 (add the input to the seeds:
# the stable `fuzz_corpus` tests then replay it in CI).
#
# libFuzzer needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Without them
# the script says so and exits 0: the seed corpora still run on stable as ordinary cargo tests
# (ipmi/tests/fuzz_corpus.rs, redfish-core/tests/fuzz_corpus.rs).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -ne 2 ]; then
    echo "usage: $0 TARGET SECONDS" >&2
    echo "targets: $(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^ferrofish' | tr '\n' ' ')" >&2
    exit 2
fi
target="$1"
seconds="$2"
if ! grep -qx "name = \"$target\"" fuzz/Cargo.toml || [ "$target" = ferrofish-ipmi-fuzz ]; then
    echo "fuzz.sh: no fuzz target named '$target' in fuzz/Cargo.toml" >&2
    exit 2
fi
case "$seconds" in
    '' | *[!0-9]* | 0)
        echo "fuzz.sh: SECONDS must be a positive whole number, got '$seconds'" >&2
        exit 2
        ;;
esac

if ! cargo +nightly --version > /dev/null 2>&1; then
    echo "fuzz.sh: no nightly toolchain (rustup toolchain install nightly); not fuzzing $target."
    echo "fuzz.sh: the seed corpus still runs on stable: cargo test -p ferrofish-ipmi -p ferrofish-redfish-core --test fuzz_corpus"
    exit 0
fi
if ! cargo +nightly fuzz --version > /dev/null 2>&1; then
    echo "fuzz.sh: cargo-fuzz is not installed (cargo install cargo-fuzz); not fuzzing $target."
    echo "fuzz.sh: the seed corpus still runs on stable: cargo test -p ferrofish-ipmi -p ferrofish-redfish-core --test fuzz_corpus"
    exit 0
fi

seeds="fuzz/corpus/$target"
found="fuzz/corpus-found/$target"
artifacts="fuzz/artifacts/$target"
mkdir -p "$seeds" "$found" "$artifacts"
crashes_before=$(find "$artifacts" -type f | wc -l)
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

echo "== fuzzing $target for ${seconds}s (seeds: $seeds, new inputs: $found)"
status=0
# The first corpus directory receives new inputs; the seeds are only read.
cargo +nightly fuzz run "$target" "$found" "$seeds" -- \
    -max_total_time="$seconds" -print_final_stats=1 2>&1 | tee "$log" || status=$?

executions=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
if [ -z "$executions" ]; then
    # A crash ends the run before the final stats: take the last progress line's count.
    executions=$(sed -n 's/^#\([0-9]*\).*/\1/p' "$log" | tail -n 1)
fi
crashes=$(( $(find "$artifacts" -type f | wc -l) - crashes_before ))

echo "== $target: executions: ${executions:-unknown}, crashes: $crashes"
if [ "$crashes" -gt 0 ]; then
    echo "== new crash inputs:"
    find "$artifacts" -type f -newer "$log" -print
    exit 1
fi
if [ "$status" -ne 0 ]; then
    echo "fuzz.sh: cargo fuzz failed (exit $status) without writing a crash; see the output above" >&2
    exit "$status"
fi
