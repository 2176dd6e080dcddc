"""ferrofish.Bios against the mock BMC binary, on several personalities: read, registry,
validation with suggestions, diff, stage (an empty diff sends no PATCH), apply and verify, a
value the BIOS rejects at apply time with the BMC's message, factory reset, and the profile
forms (dict, Ironic's settings list, NAME=VALUE strings)."""

from __future__ import annotations

import pickle
from typing import Any, Dict, Iterator, List

import pytest

import ferrofish
from conftest import PASSWORD, USERNAME, MockBmc, spawn_mock_bmc

# Node indexes of each personality's mock.
NODE_READ = 0
NODE_APPLY = 1
NODE_REJECT = 2

FAST = {"timeout": 30.0, "poll_interval": 0.2}


@pytest.fixture(scope="module", params=["generic", "dell", "supermicro"])
def bmc(request: pytest.FixtureRequest) -> Iterator[MockBmc]:
    """A mock BMC process of one personality, three nodes, plain HTTP on loopback."""
    with spawn_mock_bmc(
        "--nodes", "3", "--personality", request.param, "--power-on-ms", "100", "--force-off-ms", "50"
    ) as ready:
        yield MockBmc.from_ready(ready)


def client(bmc: MockBmc, node: int) -> ferrofish.RedfishClient:
    return ferrofish.RedfishClient(bmc.url(node), username=USERNAME, password=PASSWORD, timeout=30.0)


def patches(bmc: MockBmc, node: int) -> List[Dict[str, Any]]:
    entries = bmc.admin("GET", f"/nodes/{node}/requests")["entries"]
    return [e for e in entries if e["method"] == "PATCH"]


def test_read_and_registry_give_typed_values_and_where_they_came_from(bmc: MockBmc) -> None:
    with client(bmc, NODE_READ) as redfish:
        bios = ferrofish.Bios(redfish)
        snapshot = bios.read()
        current = {name.split("#")[0]: value for name, value in snapshot["current"].items()}
        assert current["BootMode"] == "Uefi"
        assert current["BootSeqRetryCount"] == 3
        assert current["MemPatrolScrub"] is True
        assert "SetupPassword" not in current, "write-only passwords are never read"
        assert snapshot["registry_missing"] is False
        registry = bios.registry()
        assert registry["missing"] is False and len(registry["attributes"]) == 65
        by_name = {a["name"].split("#")[0]: a for a in registry["attributes"]}
        assert by_name["BootMode"]["type"] == "enumeration"
        assert by_name["BootMode"]["allowed"] == ["Uefi", "Bios"]
        assert by_name["ProcCoreDisable"]["increment"] == 2


def test_validation_error_lists_every_problem_with_suggestions_and_sends_nothing(bmc: MockBmc) -> None:
    with client(bmc, NODE_READ) as redfish:
        bios = ferrofish.Bios(redfish)
        before = len(patches(bmc, NODE_READ))
        with pytest.raises(ferrofish.BiosValidationError) as caught:
            bios.stage({"ProcVirtualisation": "Enabled", "BootMode": "Legacy", "SetupPassword": "x" * 40 + "-hush"})
        problems = {p.name: p for p in caught.value.problems}
        assert problems["ProcVirtualisation"].kind == "unknown_name"
        assert problems["ProcVirtualisation"].suggestions[0].startswith("ProcVirtualization")
        assert problems["BootMode"].kind == "not_allowed"
        assert problems["BootMode"].allowed == ("Uefi", "Bios")
        assert problems["SetupPassword"].kind == "length"
        assert isinstance(caught.value, ValueError), "an InvalidInputError is a ValueError"
        for shown in (str(caught.value), repr(caught.value), repr(caught.value.problems)):
            assert "-hush" not in shown, "a password value never shows"
        copy = pickle.loads(pickle.dumps(caught.value))
        assert copy.problems == caught.value.problems
        assert len(patches(bmc, NODE_READ)) == before


def test_profile_forms_validate_alike_and_an_empty_diff_sends_no_patch(bmc: MockBmc) -> None:
    with client(bmc, NODE_READ) as redfish:
        bios = ferrofish.Bios(redfish)
        forms = [
            {"BootMode": "Uefi", "hyper-threading": "on"},
            [{"name": "BootMode", "value": "Uefi"}, {"name": "hyper-threading", "value": "on"}],
            ["BootMode=Uefi", "hyper-threading=on"],
            "BootMode=Uefi\nhyper-threading=on",
        ]
        for form in forms:
            settings = bios.validate(form)
            assert [s["requested_as"] for s in settings] == ["BootMode", "hyper-threading"], form
        diff = bios.diff(forms[0])
        assert diff["empty"] is True and diff["changes"] == []
        before = len(patches(bmc, NODE_READ))
        staged = bios.stage(forms[1])
        assert staged.sent is False
        assert len(patches(bmc, NODE_READ)) == before, "an empty diff sends no PATCH"
        with pytest.raises(ferrofish.InvalidInputError):
            bios.stage(["BootMode"])  # not NAME=VALUE


def test_stage_apply_verify_and_factory_reset(bmc: MockBmc) -> None:
    with client(bmc, NODE_APPLY) as redfish:
        bios = ferrofish.Bios(redfish)
        diff = bios.diff({"BootSeqRetryCount": 6, "virtualization": "off"})
        assert len(diff["changes"]) == 2
        staged = bios.stage({"BootSeqRetryCount": 6, "virtualization": "off", "SetupPassword": "not-shown-9"})
        assert staged.sent is True
        assert "not-shown-9" not in repr(staged) and "not-shown-9" not in repr(staged.to_dict())
        assert len(patches(bmc, NODE_APPLY)) == 1
        report = bios.apply(staged, **FAST)
        statuses = {r["name"].split("#")[0]: r["status"] for r in report}
        assert statuses == {
            "BootSeqRetryCount": "applied",
            "ProcVirtualization": "applied",
            "SetupPassword": "unverifiable",
        }
        assert bmc.node_view(NODE_APPLY)["bios_changed"]["BootSeqRetryCount"] == 6
        again = bios.apply_and_verify({"BootSeqRetryCount": 6}, **FAST)
        assert again == [], "nothing to change, nothing applied"
        reset = bios.factory_reset(**FAST)
        assert reset["not_default"] == [] and reset["checked"] > 50
        assert bmc.node_view(NODE_APPLY)["bios_changed"] == {}


def test_a_value_rejected_at_apply_time_carries_the_bmc_message(bmc: MockBmc) -> None:
    bmc.admin("POST", f"/nodes/{NODE_REJECT}/options", {"bios": {"rejected_at_apply": ["ProcTurboMode"]}})
    with client(bmc, NODE_REJECT) as redfish:
        bios = ferrofish.Bios(redfish)
        with pytest.raises(ferrofish.BiosNotAppliedError) as caught:
            bios.apply_and_verify({"turbo": "off", "BootSeqRetryCount": 4}, **FAST)
        report = {r.name.split("#")[0]: r for r in caught.value.report}
        assert report["BootSeqRetryCount"].status == "applied"
        rejected = report["ProcTurboMode"]
        assert rejected.status == "rejected"
        assert rejected.message_id == "Base.1.18.PropertyValueNotInList"
        assert "ProcTurboMode" in (rejected.message or "")
        assert pickle.loads(pickle.dumps(caught.value)).report == caught.value.report


def test_bios_on_a_named_system_and_a_bad_timeout() -> None:
    # Arguments are checked before anything is sent: no BMC needed.
    with ferrofish.RedfishClient("http://127.0.0.1:9", username="u", password="p") as redfish:
        bios = ferrofish.Bios(redfish, system="1")
        assert repr(bios) == "Bios(url='http://127.0.0.1:9/', system='1')"
        with pytest.raises(ferrofish.InvalidInputError):
            bios.factory_reset(timeout=0)
