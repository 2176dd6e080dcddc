"""What the Rust client reports beyond values: the boot override outcome and inventory warnings."""

from __future__ import annotations

import ferrofish
from conftest import NODE_BOOT, NODE_READ_ONLY, MockBmc


def test_set_boot_override_returns_its_outcome(mock_bmc: MockBmc) -> None:
    with mock_bmc.client(NODE_BOOT) as redfish:
        outcome = redfish.set_boot_override("Pxe", enabled="Once")
        # The mock stores Once as Once: applied, nothing to clear after the boot.
        assert isinstance(outcome, ferrofish.BootOverrideOutcome)
        assert outcome.outcome == "applied"
        assert outcome.must_clear_after_boot is False
        assert outcome == redfish.set_boot_override("Pxe", enabled="Once")
        assert hash(outcome) == hash(redfish.set_boot_override("Pxe", enabled="Once"))
        assert repr(outcome) == "BootOverrideOutcome(outcome=\"applied\", must_clear_after_boot=False)"
        redfish.set_boot_override("None", enabled="Disabled")
    assert mock_bmc.node_view(NODE_BOOT)["boot_enabled"] == "Disabled"


def test_a_healthy_inventory_has_no_warnings_and_says_so(mock_bmc: MockBmc) -> None:
    with mock_bmc.client(NODE_READ_ONLY) as redfish:
        inventory = redfish.inventory()
    assert inventory.warnings == ()
    assert inventory.to_dict()["warnings"] == []
    assert ferrofish.InventoryWarning.__name__ == "InventoryWarning"
