"""``ferrofish.provision`` against a real mock BMC process: nodes enrolled from dicts, driven
enroll → manage → inspect → available by the fleet runner (``on_event`` in order, on the
calling thread) and by hand with ``send``/``advance``; refused events naming the allowed ones;
a stale revision and a held lease refused; and no password in the store file or any ``repr``.

The BMC password reaches ferrofish only through the environment variable each node names
(``password_env``), as in production.
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

import ferrofish
from conftest import PASSWORD, USERNAME, MockBmc, spawn_mock_bmc
from ferrofish.provision import (
    AlreadyEnrolledError,
    FleetEvent,
    InvalidEventError,
    InvalidStepError,
    LeaseHeldError,
    NodeConnectionError,
    NodeNotFoundError,
    StaleRevisionError,
    StateStore,
    run_fleet,
)

pytestmark = pytest.mark.mock_bmc

PASSWORD_ENV = "FERROFISH_PYTEST_PROVISION_PASSWORD"
NODE_COUNT = 4
#: Adds a trait to every node with memory, so the test sees the rules ran after inspection.
TRAIT_RULE = [
    {
        "description": "inspected",
        "conditions": [{"op": "gt", "field": "data://memory_mb", "value": 0}],
        "actions": [{"action": "add-trait", "name": "CUSTOM_PY_INSPECTED"}],
    }
]


@pytest.fixture(scope="module")
def bmc_urls() -> Iterator[List[str]]:
    """The mock's node URLs (plain HTTP on loopback), with the password in the environment."""
    previous = os.environ.get(PASSWORD_ENV)
    os.environ[PASSWORD_ENV] = PASSWORD
    try:
        with spawn_mock_bmc("--nodes", str(NODE_COUNT), "--power-on-ms", "50", "--force-off-ms", "20") as ready:
            yield [node["url"] for node in ready["nodes"]]
    finally:
        if previous is None:
            os.environ.pop(PASSWORD_ENV, None)
        else:
            os.environ[PASSWORD_ENV] = previous


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:{tmp_path / 'fleet.db'}"


def open_store(url: str, holder: str = "pytest") -> StateStore:
    return StateStore(url, holder=holder, poll_interval=0.05, power_timeout=5.0, request_timeout=10.0)


def enroll(store: StateStore, name: str, url: str, **extra: Any) -> Dict[str, Any]:
    node = {"name": name, "bmc": url, "username": USERNAME, "password_env": PASSWORD_ENV}
    node.update(extra)
    return store.enroll(node)


def test_enrolled_nodes_read_back_as_documents_without_a_password(store_url: str, bmc_urls: List[str]) -> None:
    with open_store(store_url) as store:
        node = enroll(store, "node-a", bmc_urls[0], conductor_group="rack-1", fields={"extra": {"slot": 4}})
        assert (node["name"], node["state"], node["revision"]) == ("node-a", "enroll", 1)
        assert node["bmc"] == {"address": bmc_urls[0], "username": USERNAME, "password_env": PASSWORD_ENV}
        assert node["conductor_group"] == "rack-1"
        assert node["fields"] == {"extra": {"slot": 4}}
        assert (node["phase"], node["last_error"], node["operation"], node["lease"]) == (None, None, None, None)
        assert store.node("node-a") == node
        assert [n["name"] for n in store.nodes()] == ["node-a"]
        with pytest.raises(AlreadyEnrolledError) as again:
            enroll(store, "node-a", bmc_urls[0])
        assert again.value.node == "node-a"
        with pytest.raises(NodeNotFoundError) as missing:
            store.node("nope")
        assert isinstance(missing.value, LookupError) and missing.value.node == "nope"
        # A password in the dict is refused before anything is stored.
        with pytest.raises(ferrofish.InvalidInputError, match="password_env"):
            store.enroll({"name": "leaky", "bmc": bmc_urls[0], "username": USERNAME, "password": PASSWORD})
        with pytest.raises(ferrofish.InvalidInputError, match="accepted"):
            store.enroll({"name": "odd", "bmc": "ftp://10.0.0.1"})
        assert [n["name"] for n in store.nodes()] == ["node-a"]
        assert PASSWORD not in repr(store)


def test_the_fleet_takes_nodes_to_available_and_reports_each_step_in_order(
    store_url: str, bmc_urls: List[str]
) -> None:
    events: List[FleetEvent] = []
    threads = set()

    def on_event(event: FleetEvent) -> None:
        threads.add(threading.get_ident())
        events.append(event)

    with open_store(store_url) as store:
        for i in range(2):
            enroll(store, f"node-{i}", bmc_urls[i])
        summary = run_fleet(
            store,
            {"inspect": True, "provide": True},
            workers=2,
            on_event=on_event,
            rules=ferrofish.RuleSet(TRAIT_RULE),
        )
        assert [(n["name"], n["state"], n["reached_goal"]) for n in summary["nodes"]] == [
            ("node-0", "available", True),
            ("node-1", "available", True),
        ]
        assert threads == {threading.get_ident()}, "on_event runs on the calling thread"
        for i in range(2):
            name = f"node-{i}"
            mine = [(e.state, e.phase, e.message) for e in events if e.node == name]
            assert mine == [
                ("enroll", None, "claimed"),
                ("verifying", "verify_read", "manage"),
                ("manageable", None, "verifying done"),
                ("inspecting", "inspect_read", "inspect"),
                ("manageable", None, "inspecting done"),
                ("cleaning", "step_start", "provide"),
                ("available", None, "cleaning done"),
            ], mine
            node = store.node(name)
            assert node["state"] == "available" and node["lease"] is None
            assert [h["event"] for h in node["history"]] == ["manage", "done", "inspect", "done", "provide", "done"]
            assert node["fields"]["properties"]["memory_mb"] > 0
            assert node["fields"]["traits"] == ["CUSTOM_PY_INSPECTED"]
        assert events[0].to_dict() == {"node": events[0].node, "state": "enroll", "phase": None, "message": "claimed"}
        # Nothing secret anywhere: documents, events, summary, the store's files.
        shown = repr(store) + repr(events) + repr(summary) + repr(store.nodes())
        assert PASSWORD not in shown
    db = Path(store_url.removeprefix("sqlite:"))
    for path in db.parent.glob(db.name + "*"):
        assert PASSWORD.encode() not in path.read_bytes(), path


def test_one_node_by_hand_with_send_and_advance(store_url: str, bmc_urls: List[str]) -> None:
    with open_store(store_url) as store:
        enroll(store, "hand", bmc_urls[2])
        # Nothing under way: done at once, without connecting.
        assert store.advance("hand").kind == "done"
        sent = store.send("hand", "manage")
        assert (sent["state"], sent["phase"], sent["lease"]) == ("verifying", "verify_read", None)
        steps = drive(store, "hand")
        assert steps[-1].kind == "done" and steps[-1].node["state"] == "manageable"
        store.send("hand", "inspect")
        # The rules see the node's BMC address as inventory.bmc_address.
        rules = ferrofish.RuleSet(
            [
                {
                    "conditions": [],
                    "actions": [
                        {
                            "action": "set-attribute",
                            "path": "driver_info/redfish_address",
                            "value": "{data[inventory][bmc_address]}",
                        }
                    ],
                }
            ]
        )
        result = drive(store, "hand", rules=rules)[-1]
        assert result.kind == "done" and result.error is None
        host_port = bmc_urls[2].split("//", 1)[1].rstrip("/")
        assert result.node["fields"]["driver_info"]["redfish_address"] == host_port
        assert result.node == store.node("hand")
        assert "kind='done'" in repr(result)
        # A manual clean with a power step: waits show as "waiting" with a time to come back.
        store.send("hand", "clean", steps=[{"interface": "power", "step": "power_on"}])
        kinds = [step.kind for step in drive(store, "hand")]
        assert kinds[-1] == "done" and "waiting" in kinds, kinds
        assert store.node("hand")["power_state"] == "on"


def drive(store: StateStore, name: str, **options: Any) -> List[ferrofish.Advance]:
    """Calls ``advance`` until the operation ends, sleeping as told; every result."""
    import time

    results = []
    for _ in range(500):
        step = store.advance(name, **options)
        results.append(step)
        if step.kind in ("done", "failed"):
            return results
        if step.kind == "waiting":
            assert step.until is not None and step.delay <= 5.0
            time.sleep(step.delay)
    raise AssertionError(f"{name} did not settle: {results[-3:]}")


def test_an_event_not_allowed_is_refused_naming_the_allowed_ones(store_url: str, bmc_urls: List[str]) -> None:
    with open_store(store_url) as store:
        before = enroll(store, "refused", bmc_urls[3])
        with pytest.raises(InvalidEventError) as raised:
            store.send("refused", "deploy", image="http://127.0.0.1:1/deploy.iso")
        error = raised.value
        assert (error.node, error.state, error.event, error.allowed) == ("refused", "enroll", "deploy", ("manage",))
        assert "allowed: manage" in str(error)
        assert isinstance(error, ValueError)
        restored = pickle.loads(pickle.dumps(error))
        assert (restored.allowed, restored.state, restored.event) == (("manage",), "enroll", "deploy")
        assert store.node("refused") == before, "nothing written"
        # Bad steps and bad arguments are refused before the node is touched.
        with pytest.raises(InvalidStepError) as bad_step:
            store.send("refused", "clean", steps=[{"interface": "power", "step": "power_on"}, {"step": "dance"}])
        assert bad_step.value.index == 1
        with pytest.raises(ferrofish.InvalidInputError, match="events: manage"):
            store.send("refused", "explode")
        with pytest.raises(ferrofish.InvalidInputError, match="takes no arguments"):
            store.send("refused", "manage", image="http://127.0.0.1:1/x.iso")
        assert store.node("refused") == before


def test_a_stale_revision_and_a_held_lease_are_refused(store_url: str, bmc_urls: List[str]) -> None:
    with open_store(store_url) as mine, open_store(store_url, holder="other-process") as other:
        read = enroll(mine, "shared", bmc_urls[3])
        # Another process writes the node after this one read it.
        written = other.send("shared", "manage")
        assert written["revision"] > read["revision"]
        with pytest.raises(StaleRevisionError) as stale:
            mine.send("shared", "abort", revision=read["revision"])
        assert (stale.value.node, stale.value.revision) == ("shared", read["revision"])
        assert mine.node("shared") == written, "the refused writer changed nothing"

        other.claim("shared")
        assert other.claim("shared")["state"] == "verifying", "claiming twice resumes nothing"
        with pytest.raises(LeaseHeldError) as held:
            mine.advance("shared")
        assert held.value.holder == "other-process"
        assert 0 < held.value.remaining <= 30
        # The holder keeps its lease across its own calls, then gives it up.
        assert other.advance("shared").node["lease"]["holder"] == "other-process"
        other.release("shared")
        assert mine.node("shared")["lease"] is None
        assert mine.node("shared")["state"] == "manageable"
        current = mine.node("shared")
        assert mine.send("shared", "inspect", revision=current["revision"])["state"] == "inspecting"


def test_a_missing_password_variable_is_a_connection_error_naming_it(store_url: str, bmc_urls: List[str]) -> None:
    with open_store(store_url) as store:
        enroll(store, "unset", bmc_urls[3], password_env="FERROFISH_PYTEST_UNSET_VARIABLE")
        store.send("unset", "manage")
        with pytest.raises(NodeConnectionError) as raised:
            store.advance("unset")
        assert raised.value.node == "unset"
        assert "FERROFISH_PYTEST_UNSET_VARIABLE" in str(raised.value)
        assert isinstance(raised.value, ConnectionError)
        # The lease was given back: the node is free for the next try.
        assert store.node("unset")["lease"] is None


def test_an_exception_in_on_event_stops_the_run_and_propagates(store_url: str, bmc_urls: List[str]) -> None:
    class Stop(Exception):
        pass

    seen: List[str] = []

    def on_event(event: FleetEvent) -> None:
        seen.append(event.message)
        if event.message == "manage":
            raise Stop(event.node)

    with open_store(store_url) as store:
        enroll(store, "stopped", bmc_urls[3])
        with pytest.raises(Stop):
            run_fleet(store, {"inspect": True}, on_event=on_event)
        assert seen == ["claimed", "manage"]
    with pytest.raises(ferrofish.InvalidInputError, match="unknown key"):
        run_fleet(open_store(store_url), {"inspect": True, "deploy_now": True})


# --- end to end, and one login for many advances ---------------------------------------------

NETWORK_DATA = {
    "links": [{"id": "eno1", "type": "phy", "ethernet_mac_address": "52:54:00:ab:cd:ef"}],
    "networks": [
        {
            "id": "n0",
            "type": "ipv4",
            "link": "eno1",
            "ip_address": "192.0.2.77",
            "netmask": "255.255.255.0",
            "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "192.0.2.1"}],
        }
    ],
}


@pytest.fixture(scope="module")
def own_mock() -> Iterator[MockBmc]:
    """A mock of its own (two nodes), for request counts no other test disturbs."""
    previous = os.environ.get(PASSWORD_ENV)
    os.environ[PASSWORD_ENV] = PASSWORD
    try:
        with spawn_mock_bmc("--nodes", "2", "--power-on-ms", "50", "--force-off-ms", "20") as ready:
            yield MockBmc.from_ready(ready)
    finally:
        if previous is None:
            os.environ.pop(PASSWORD_ENV, None)
        else:
            os.environ[PASSWORD_ENV] = previous


def deploy_image(directory: Path) -> Path:
    """A small El Torito bootable ISO (the mock boots only what is bootable)."""
    tool = shutil.which("xorriso") or shutil.which("genisoimage") or shutil.which("mkisofs")
    if tool is None:
        pytest.skip("neither xorriso nor genisoimage is installed: cannot build a bootable ISO")
    tree = directory / "tree"
    tree.mkdir()
    (tree / "README.TXT").write_bytes(b"a deploy image")
    (tree / "boot.img").write_bytes(b"\0" * 2048)
    output = directory / "deploy.iso"
    prefix = [tool, "-as", "mkisofs"] if tool.endswith("xorriso") else [tool]
    subprocess.run(
        prefix + ["-quiet", "-V", "DEPLOY", "-b", "boot.img", "-no-emul-boot", "-o", str(output), str(tree)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    return output


def logins(mock: MockBmc, node: int) -> int:
    entries = mock.admin("GET", f"/nodes/{node}/requests")["entries"]
    return sum(1 for e in entries if e["method"] == "POST" and e["path"] == "/redfish/v1/SessionService/Sessions")


def test_a_node_deploys_end_to_end_from_python(own_mock: MockBmc, store_url: str, tmp_path: Path) -> None:
    image = deploy_image(tmp_path)
    with open_store(store_url) as store, ferrofish.ImageServer("127.0.0.1:0") as server:
        url = server.add_file("deploy.iso", image)
        enroll(store, "e2e", own_mock.url(0))
        states = []
        for event, options in [
            ("manage", {}),
            ("inspect", {}),
            ("clean", {"steps": [{"interface": "bios", "step": "apply_configuration",
                                  "args": {"settings": [{"name": "ProcTurboMode", "value": "Disabled"}]}}]}),
            ("provide", {}),
            ("deploy", {"image": url, "network_data": NETWORK_DATA}),
        ]:
            store.send("e2e", event, **options)
            last = drive(store, "e2e", image_server=server)[-1]
            assert last.kind == "done", (event, last.error, last.node["last_error"])
            states.append(last.node["state"])
        assert states == ["manageable", "manageable", "manageable", "available", "active"]
        node = store.node("e2e")
        assert node["fields"]["properties"]["memory_mb"] > 0
        assert node["completed"] == ["verify", "inspect", "clean", "provide", "deploy"]
        view = own_mock.node_view(0)
        assert view["bios_changed"]["ProcTurboMode"] == "Disabled"
        assert view["booted"]["image"] == url, view["booted"]
        # The config drive with the network data was published on this server and fetched by
        # the BMC (the mock reads an address only from a booted CD, so not checked there).
        fetched = {f.image for f in server.fetches() if f.status in (200, 206)}
        assert {"deploy.iso", "e2e-config-2.img"} <= fetched, fetched
        assert (view["boot_target"], view["boot_enabled"]) == ("Hdd", "Continuous")
        assert view["inserted_media"] == [], "ejected after the boot"


def test_advance_logs_in_once_for_many_calls_and_out_on_close(own_mock: MockBmc, store_url: str) -> None:
    own_mock.admin("DELETE", "/nodes/1/requests")
    store = open_store(store_url)
    with store:
        enroll(store, "once", own_mock.url(1))
        calls = 0
        for event in ["manage", "inspect"]:
            store.send("once", event)
            calls += len(drive(store, "once"))
        store.send("once", "clean", steps=[{"step": "power_on"}, {"step": "power_off"}])
        calls += len(drive(store, "once"))
        assert calls >= 4
        assert logins(own_mock, 1) == 1, "one session for every advance"
        assert store.open_connections == 1
        assert own_mock.node_view(1)["sessions"] == 1
    # Closed: logged out of the BMC.
    assert own_mock.node_view(1)["sessions"] == 0
    entries = own_mock.admin("GET", "/nodes/1/requests")["entries"]
    assert any(e["method"] == "DELETE" and e["path"].startswith("/redfish/v1/SessionService/Sessions/") for e in entries)
