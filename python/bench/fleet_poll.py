"""One process, many BMCs, from Python: what polling the power state of a fleet costs.

    python python/bench/fleet_poll.py [--nodes 1000,10000] [--threads 16] [--rounds 5]
                                      [--mode threads,batch]

Starts mock BMC fleets (``ferrofish-mock-bmc``, at most 4,000 BMCs per process; the binary
from ``FERROFISH_MOCK_BMC``, else built with ``cargo build --release``), then per fleet size,
in a fresh Python process each, prints beside the goals of issue 16:

- resident memory per managed BMC: the growth of this process's VmRSS from 10% of the clients
  to all of them, each logged in and polled once, divided by the clients added (≤ 16 KiB);
- client CPU per poll: this process's user + system time (Python threads and the Rust
  runtime's threads) over every poll of the measured rounds (≤ 25 µs), polls/s, p50/p99.

``--mode`` picks how Python polls (both by default, each in a process of its own):

- ``threads``: ``--threads`` Python threads through the blocking API
  (``RedfishClient.power_state``), one call per BMC;
- ``batch``: one ``RedfishClient.poll_power_states(clients)`` call per round, which polls in
  Rust (at most 256 at once) with the GIL released; its latency is the round's, not a poll's.

Clients with the same settings share one TLS configuration, and each keeps only its own socket
between polls. Times depend on the machine; nothing is asserted. Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import List

MEMORY_GOAL_KIB = 16.0
CPU_GOAL_MICROS = 25.0
NODES_PER_MOCK = 4000
USERNAME = "admin"
PASSWORD = "password"
REPO_ROOT = Path(__file__).resolve().parents[2]


def mock_binary() -> Path:
    prebuilt = os.environ.get("FERROFISH_MOCK_BMC")
    if prebuilt:
        return Path(prebuilt)
    cargo = shutil.which("cargo")
    if cargo is None:
        sys.exit("cargo is not on PATH: set FERROFISH_MOCK_BMC to the mock BMC binary")
    build = subprocess.run(
        [cargo, "build", "--release", "-p", "ferrofish-mock-bmc", "--bin", "ferrofish-mock-bmc",
         "--message-format=json"],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True, check=True,
    )
    for line in build.stdout.splitlines():
        message = json.loads(line)
        if message.get("reason") == "compiler-artifact" and message.get("executable"):
            if message["target"]["name"] == "ferrofish-mock-bmc":
                return Path(message["executable"])
    sys.exit("cargo did not report the ferrofish-mock-bmc executable")


def raise_fd_limit() -> int:
    """Raises the open-files soft limit to the hard limit (each BMC holds a socket)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def start_mocks(binary: Path, nodes: int) -> tuple[list[subprocess.Popen], List[str]]:
    processes, urls = [], []
    left = nodes
    while left > 0:
        these = min(left, NODES_PER_MOCK)
        left -= these
        process = subprocess.Popen(
            [str(binary), "--nodes", str(these), "--listen", "127.0.0.1:0", "--user", USERNAME],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, "FERROFISH_MOCK_BMC_PASSWORD": PASSWORD, "RUST_LOG": "warn"},
        )
        assert process.stdout is not None
        ready = json.loads(process.stdout.readline())
        urls.extend(node["url"] for node in ready["nodes"])
        processes.append(process)
    return processes, urls


def resident_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def percentile(sorted_values: List[float], pct: int) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[(len(sorted_values) - 1) * pct // 100]


def measure(nodes: int, threads: int, rounds: int, urls: List[str], mode: str) -> None:
    import ferrofish

    # The mock is plain HTTP on loopback: its warning, once per client, is not news here.
    logging.getLogger("ferrofish").setLevel(logging.ERROR)

    def connect(url: str):
        client = ferrofish.RedfishClient(url, username=USERNAME, password=PASSWORD)
        client.power_state()
        return client

    def poll(client) -> float:
        started = time.perf_counter()
        client.power_state()
        return time.perf_counter() - started

    tenth = max(nodes // 10, 1)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        clients = list(pool.map(connect, urls[:tenth]))
        rss_tenth = resident_kib()
        clients += list(pool.map(connect, urls[tenth:]))
        rss_all = resident_kib()
        per_bmc = (rss_all - rss_tenth) / max(nodes - tenth, 1)

        latencies: List[float] = []
        # getrusage: microseconds, where os.times counts 10 ms ticks.
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        for _ in range(rounds):
            if mode == "batch":
                round_started = time.perf_counter()
                states = ferrofish.RedfishClient.poll_power_states(clients)
                failed = [state for state in states if isinstance(state, Exception)]
                assert not failed, failed[0]
                latencies.append(time.perf_counter() - round_started)
            else:
                latencies.extend(pool.map(poll, clients))
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
    polls = nodes * rounds
    user = (after.ru_utime - before.ru_utime) * 1e6 / polls
    system = (after.ru_stime - before.ru_stime) * 1e6 / polls
    latencies.sort()
    how = (
        "one poll_power_states call a round" if mode == "batch" else f"{threads} Python threads"
    )
    print(f"{nodes} BMCs, {rounds} rounds ({polls} polls) from {how}:")
    print(f"  memory per managed BMC: {per_bmc:8.1f} KiB   (goal ≤ {MEMORY_GOAL_KIB} KiB; "
          f"resident {rss_tenth} KiB with {tenth} clients, {rss_all} KiB with {nodes})")
    print(f"  client CPU per poll:    {user + system:8.1f} µs    (goal ≤ {CPU_GOAL_MICROS} µs; "
          f"user {user:.1f} µs, kernel {system:.1f} µs)")
    of_what = "a round" if mode == "batch" else "a poll"
    print(f"  {polls / wall:8.0f} polls/s   {of_what}: p50 {percentile(latencies, 50) * 1e3:.2f} ms   "
          f"p99 {percentile(latencies, 99) * 1e3:.2f} ms")
    for client in clients:
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", default="1000", help="fleet sizes, comma-separated")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--mode", default="threads,batch", help="threads, batch or both, comma-separated")
    parser.add_argument("--urls-from", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.urls_from:
        # The child: one measurement in a fresh process, so that memory freed by an earlier
        # one cannot hide this one's growth.
        urls = json.loads(Path(args.urls_from).read_text())
        measure(len(urls), args.threads, args.rounds, urls, args.mode)
        return
    limit = raise_fd_limit()
    binary = mock_binary()
    print(f"fleet_poll.py: power-state polls from Python (open files limit {limit})")
    for nodes in (int(n) for n in args.nodes.split(",")):
        mocks, urls = start_mocks(binary, nodes)
        try:
            with tempfile.TemporaryDirectory(prefix="ferrofish-fleet-poll-") as scratch:
                urls_file = Path(scratch) / "urls.json"
                urls_file.write_text(json.dumps(urls))
                for mode in args.mode.split(","):
                    subprocess.run(
                        [sys.executable, __file__, "--urls-from", str(urls_file), "--mode", mode,
                         "--threads", str(args.threads), "--rounds", str(args.rounds)],
                        check=True,
                    )
        finally:
            for mock in mocks:
                mock.terminate()
                mock.wait(timeout=30)


if __name__ == "__main__":
    main()
