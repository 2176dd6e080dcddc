"""What the Python bindings cost over the Rust library: printed, never asserted (issue 15).

Starts one mock BMC process (``ferrofish-mock-bmc``, ``--nodes 1000``, plain HTTP on
127.0.0.1), then measures, from Python and from Rust (``cargo bench --bench python_overhead``)
against the same mock:

1. per-call time of N sequential ``power_state`` reads on one client: the sync API
   (``RedfishClient.power_state()``, which keeps its handle on the only system) versus the same
   reads through a kept ``System`` handle in Rust; goal ≤ 1.3×;
2. one ``power_state`` read of every one of the 1,000 BMCs at once: asyncio
   (``AsyncRedfishClient``, one event loop, ``asyncio.gather``) versus Rust (``join_all`` on one
   task).

Usage: ``python python/bench/overhead.py [--calls 2000] [--bmcs 1000] [--rounds 5]`` from the
repository root after ``maturin develop``. ``FERROFISH_MOCK_BMC`` names a prebuilt mock binary;
otherwise cargo builds it. ``CARGO_TARGET_DIR`` is honoured; the Rust half is built with the bench
(release) profile, so build the module with ``maturin develop --release`` for a fair ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import selectors
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

import ferrofish

REPO_ROOT = Path(__file__).resolve().parents[2]
USERNAME = "admin"
PASSWORD = "bench-Pa55word"


def mock_binary() -> str:
    prebuilt = os.environ.get("FERROFISH_MOCK_BMC")
    if prebuilt:
        return prebuilt
    built = subprocess.run(
        ["cargo", "build", "--release", "-p", "ferrofish-mock-bmc", "--bin", "ferrofish-mock-bmc",
         "--message-format=json"],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True, check=True,
    )
    for line in built.stdout.splitlines():
        message = json.loads(line)
        if message.get("reason") == "compiler-artifact" and message.get("executable"):
            if message["target"]["name"] == "ferrofish-mock-bmc":
                return str(message["executable"])
    sys.exit("cargo did not report the ferrofish-mock-bmc executable")


def start_mock(bmcs: int) -> "tuple[subprocess.Popen[str], Dict[str, Any]]":
    process = subprocess.Popen(
        [mock_binary(), "--listen", "127.0.0.1:0", "--user", USERNAME, "--nodes", str(bmcs), "--power-on-ms", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "FERROFISH_MOCK_BMC_PASSWORD": PASSWORD},
    )
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    if not selector.select(timeout=120):
        process.kill()
        sys.exit("the mock BMC did not start")
    return process, json.loads(process.stdout.readline())


def python_serial(url: str, calls: int) -> "tuple[float, float]":
    """Wall and CPU seconds (the whole process: the runtime's threads too) of `calls` reads."""
    with ferrofish.RedfishClient(url, username=USERNAME, password=PASSWORD) as client:
        client.power_state()  # logs in, opens the connection and the handle on the only system
        started, cpu_before = time.perf_counter(), time.process_time()
        for _ in range(calls):
            client.power_state()
        return time.perf_counter() - started, time.process_time() - cpu_before


def python_fleet(urls: List[str]) -> float:
    async def poll() -> float:
        clients = [
            ferrofish.AsyncRedfishClient(url, username=USERNAME, password=PASSWORD, auth="basic") for url in urls
        ]
        started = time.perf_counter()
        states = await asyncio.gather(*(client.power_state() for client in clients))
        elapsed = time.perf_counter() - started
        assert len(states) == len(urls)
        return elapsed

    return asyncio.run(poll())


def rust(urls: List[str], calls: int) -> Dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("\n".join(urls))
    try:
        done = subprocess.run(
            ["cargo", "bench", "--quiet", "--bench", "python_overhead", "--",
             "--urls-file", listing.name, "--calls", str(calls), "--user", USERNAME],
            cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True, check=True,
            env={**os.environ, "FERROFISH_PASSWORD": PASSWORD},
        )
    finally:
        os.unlink(listing.name)
    return json.loads(done.stdout.strip().splitlines()[-1])


def summary(label: str, python: List[float], rust_side: List[float], unit: str, scale: float) -> None:
    """Prints the best and the median round of each side and their ratios. On a shared machine
    noise only ever adds time, so the best round is the figure of record; the median shows the
    spread."""
    best_py, best_rust = min(python), min(rust_side)
    median_py, median_rust = statistics.median(python), statistics.median(rust_side)
    print(label)
    print(f"  Python  best {best_py * scale:9.1f} {unit}   median {median_py * scale:9.1f} {unit}")
    print(f"  Rust    best {best_rust * scale:9.1f} {unit}   median {median_rust * scale:9.1f} {unit}")
    print(f"  ratio   best {best_py / best_rust:9.2f}×      median {median_py / median_rust:9.2f}×")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--bmcs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5, help="rounds, Rust and Python alternating")
    args = parser.parse_args()
    # The plain-http warning of 1,000 clients would drown the figures.
    import logging

    logging.getLogger("ferrofish").setLevel(logging.ERROR)
    process, ready = start_mock(args.bmcs)
    rust_serial: List[float] = []
    rust_cpu: List[float] = []
    rust_fleet: List[float] = []
    py_serial: List[float] = []
    py_cpu: List[float] = []
    py_fleet: List[float] = []
    try:
        urls = [node["url"] for node in ready["nodes"]]
        for _ in range(args.rounds):
            rust_figures = rust(urls, args.calls)
            rust_serial.append(rust_figures["serial_seconds"] / args.calls)
            rust_cpu.append(rust_figures["serial_cpu_seconds"] / args.calls)
            rust_fleet.append(rust_figures["fleet_seconds"])
            wall, cpu = python_serial(urls[0], args.calls)
            py_serial.append(wall / args.calls)
            py_cpu.append(cpu / args.calls)
            py_fleet.append(python_fleet(urls))
    finally:
        process.terminate()
        process.wait(timeout=30)
    summary(
        f"sync power_state, {args.calls} sequential calls on one client, {args.rounds} rounds "
        "(goal: Python ≤ 1.3× Rust):",
        py_serial, rust_serial, "µs/call", 1e6,
    )
    summary("  the same calls in CPU time (every thread of each process; the mock's excluded):",
            py_cpu, rust_cpu, "µs/call", 1e6)
    summary(f"power_state of {len(urls)} BMCs at once (asyncio gather vs Rust join_all):",
            py_fleet, rust_fleet, "ms", 1e3)


if __name__ == "__main__":
    main()
