"""``ferrofish.rules`` against a real mock BMC process with the Dell personality: inspection data
from the inventory the Python client reads, the seed's Dell rule applied and explained, secrets
kept out of the node and out of every ``repr``, and the typed rule errors."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

import ferrofish
from conftest import PASSWORD, USERNAME, spawn_mock_bmc
from ferrofish.rules import (
    Explanation,
    InvalidRulesError,
    RuleError,
    RuleFailedError,
    RuleSet,
    inspection_data,
)

pytestmark = pytest.mark.mock_bmc

REPO_ROOT = Path(__file__).resolve().parents[2]
SEED_RULE = (REPO_ROOT / "src/rules/testdata/seed-dell.json").read_text()
#: The password the seed's rule sets for the iDRAC.
SEED_SECRET = "calvin"


@pytest.fixture(scope="module")
def dell() -> Iterator[Dict[str, Any]]:
    """Inspection data of a mock Dell (auto-discovered), its BMC URL and its inventory."""
    with spawn_mock_bmc("--personality", "dell") as ready:
        url = ready["nodes"][0]["url"]
        with ferrofish.RedfishClient(url, username=USERNAME, password=PASSWORD) as client:
            inventory = client.inventory()
        yield {
            "url": url,
            "inventory": inventory,
            "data": inspection_data(inventory, bmc_address=url, auto_discovered=True),
        }


def test_inspection_data_has_ironics_shape_from_the_real_inventory(dell: Dict[str, Any]) -> None:
    data = dell["data"]
    inventory = dell["inventory"]
    host_port = dell["url"].split("//", 1)[1].rstrip("/")
    assert data["inventory"]["bmc_address"] == host_port
    assert data["inventory"]["system_vendor"]["manufacturer"] == "Dell Inc."
    assert data["auto_discovered"] is True
    assert data["memory_mb"] == inventory.memory.total_mib > 0
    assert len(data["inventory"]["disks"]) == len(inventory.disks)
    assert len(data["inventory"]["interfaces"]) == len(inventory.nics)
    assert data["cpu_arch"] == "x86_64"
    # The dict form of the inventory gives the same data; without an address there is none.
    assert inspection_data(inventory.to_dict(), dell["url"], True) == data
    assert "bmc_address" not in inspection_data(inventory)["inventory"]
    assert inspection_data(inventory)["auto_discovered"] is False


def test_the_seed_dell_rule_applies_as_written(dell: Dict[str, Any]) -> None:
    rules = RuleSet.from_json(SEED_RULE)
    assert len(rules) == 1
    given = {"driver": "redfish"}
    node, applied = rules.apply(dell["data"], given)
    assert given == {"driver": "redfish"}, "the caller's dict is not changed"
    assert node["driver"] == "idrac"
    assert node["driver_info"]["drac_username"] == "root"
    assert node["driver_info"]["drac_address"] == dell["data"]["inventory"]["bmc_address"]
    # The password is a reference in the node; the value comes back apart, opaque.
    assert node["driver_info"]["drac_password"] == "secret://rules/driver_info/drac_password"
    assert SEED_SECRET not in json.dumps(node)
    assert applied.matched == (0,)
    assert [c["target"] for c in applied.changes] == [
        "driver",
        "driver_info/drac_username",
        "driver_info/drac_password",
        "driver_info/drac_address",
    ]
    secret_change = applied.changes[2]
    assert secret_change["secret"] is True
    assert secret_change["after"] == "secret://rules/driver_info/drac_password"
    (secret,) = applied.secrets
    assert (secret.path, secret.reference) == ("driver_info/drac_password", node["driver_info"]["drac_password"])
    assert secret.reveal() == SEED_SECRET
    for shown in (repr(secret), str(secret), repr(applied), repr(applied.changes), repr(rules)):
        assert SEED_SECRET not in shown, shown
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(secret)


def test_the_seed_rule_does_not_fire_on_an_enrolled_node(dell: Dict[str, Any]) -> None:
    data = inspection_data(dell["inventory"], bmc_address=dell["url"], auto_discovered=False)
    node, applied = RuleSet.from_json(SEED_RULE).apply(data, {"driver": "redfish"})
    assert node == {"driver": "redfish"}
    assert applied.matched == ()
    assert applied.secrets == ()


def test_explain_reports_conditions_and_changes_and_changes_nothing(dell: Dict[str, Any]) -> None:
    rules = RuleSet.from_json(SEED_RULE)
    given: Dict[str, Any] = {}
    explanation = rules.explain(dell["data"], given)
    assert given == {}
    assert isinstance(explanation, Explanation) and isinstance(explanation, dict)
    assert explanation["outcome"] == {"status": "completed", "changes": 4}
    (rule,) = explanation["rules"]
    assert rule["matched"] is True
    assert [c["matched"] for c in rule["conditions"]] == [True, True]
    assert rule["conditions"][1]["seen"] == ["Dell Inc."]
    assert [c["target"] for c in rule["changes"]][:2] == ["driver", "driver_info/drac_username"]
    text = str(explanation)
    assert text.startswith("rule 0 \"Set the vendor driver for Dell hardware\": matched"), text
    assert "set-attribute driver: (absent) -> \"idrac\"" in text
    assert "(secret: value kept apart)" in text
    assert text.endswith("outcome: completed, 4 change(s)")
    assert SEED_SECRET not in text
    assert SEED_SECRET not in json.dumps(explanation)
    restored = pickle.loads(pickle.dumps(explanation))
    assert restored == explanation and str(restored) == text


def test_a_failing_template_names_rule_action_and_pointer_and_changes_nothing(dell: Dict[str, Any]) -> None:
    # Without a BMC address in the data, the seed's fourth action cannot be filled in.
    data = inspection_data(dell["inventory"], bmc_address=None, auto_discovered=True)
    with pytest.raises(RuleError) as raised:
        RuleSet.from_json(SEED_RULE).apply(data, {})
    error = raised.value
    assert type(error) is RuleError
    assert (error.rule, error.action, error.pointer) == (0, 3, "/0/actions/3")
    assert error.description == "Set the vendor driver for Dell hardware"
    assert SEED_SECRET not in str(error) and SEED_SECRET not in repr(error)
    restored = pickle.loads(pickle.dumps(error))
    assert (restored.rule, restored.action, restored.pointer) == (0, 3, "/0/actions/3")
    # explain reports the same failure instead of raising.
    assert rules_outcome(data)["status"] == "error"


def rules_outcome(data: Dict[str, Any]) -> Dict[str, Any]:
    return RuleSet.from_json(SEED_RULE).explain(data, {})["outcome"]


def test_malformed_rules_point_at_the_rule_and_field() -> None:
    bad = [
        {"description": "ok", "conditions": [], "actions": [{"action": "add-trait", "name": "CUSTOM_A"}]},
        {"conditions": [{"op": "bogus", "field": "data://memory_mb", "value": 1}], "actions": []},
    ]
    with pytest.raises(InvalidRulesError) as raised:
        RuleSet(bad)
    assert (raised.value.rule, raised.value.pointer) == (1, "/1/conditions/0/op")
    assert isinstance(raised.value, ValueError)
    with pytest.raises(InvalidRulesError) as not_json:
        RuleSet.from_json("[{")
    assert not_json.value.rule is None and "line 1" in str(not_json.value)
    with pytest.raises(ferrofish.InvalidInputError, match="legacy_two_phase"):
        RuleSet([], evaluation="two-phase")
    with pytest.raises(TypeError):
        RuleSet.from_json(SEED_RULE).apply({}, ["not", "a", "dict"])  # type: ignore[arg-type]


def test_a_fail_action_raises_rule_failed_with_the_rule_index(dell: Dict[str, Any]) -> None:
    rules = RuleSet(
        [
            {"description": "tag", "conditions": [], "actions": [{"action": "add-trait", "name": "CUSTOM_SEEN"}]},
            {
                "description": "no small machines",
                "conditions": [{"op": "lt", "field": "data://memory_mb", "value": 10**9}],
                "actions": [{"action": "fail", "message": "too little memory: {data[memory_mb]} MiB"}],
            },
        ],
        evaluation="legacy_two_phase",
    )
    assert rules.evaluation == "legacy_two_phase"
    node = {"traits": ["CUSTOM_OLD"]}
    with pytest.raises(RuleFailedError) as raised:
        rules.apply(dell["data"], node)
    assert raised.value.rule == 1
    assert f"too little memory: {dell['data']['memory_mb']} MiB" in str(raised.value)
    assert node == {"traits": ["CUSTOM_OLD"]}
