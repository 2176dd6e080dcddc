"""inventory(): frozen objects whose values match what the BMC serves, and to_dict()."""

from __future__ import annotations

import json
from typing import Any, Dict, List

import pytest

import ferrofish
from conftest import NODE_READ_ONLY, MockBmc

SYSTEM = "/redfish/v1/Systems/1"


def present(members: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [m for m in members if m.get("Status", {}).get("State") != "Absent"]


@pytest.fixture(scope="module")
def raw(mock_bmc: MockBmc) -> Dict[str, Any]:
    """The system's resources, read with urllib: the expected values."""
    system = mock_bmc.raw_get(NODE_READ_ONLY, SYSTEM)
    get_members = lambda link: mock_bmc.raw_members(NODE_READ_ONLY, link["@odata.id"])  # noqa: E731
    drives = [
        mock_bmc.raw_get(NODE_READ_ONLY, drive["@odata.id"])
        for storage in get_members(system["Storage"])
        for drive in storage.get("Drives", [])
    ]
    volumes = [
        volume
        for storage in get_members(system["Storage"])
        if "Volumes" in storage
        for volume in get_members(storage["Volumes"])
    ]
    chassis = mock_bmc.raw_get(NODE_READ_ONLY, system["Links"]["Chassis"][0]["@odata.id"])
    return {
        "system": system,
        "processors": present(
            [p for p in get_members(system["Processors"]) if p.get("ProcessorType", "CPU") == "CPU"]
        ),
        "dimms": present(get_members(system["Memory"])),
        "nics": get_members(system["EthernetInterfaces"]),
        "drives": drives,
        "volumes": volumes,
        "pcie": get_members(chassis["PCIeDevices"]),
    }


@pytest.fixture(scope="module")
def inventory(mock_bmc: MockBmc) -> ferrofish.Inventory:
    with mock_bmc.client(NODE_READ_ONLY) as redfish:
        return redfish.inventory()


def test_inventory_matches_what_the_bmc_serves(inventory: ferrofish.Inventory, raw: Dict[str, Any]) -> None:
    system = raw["system"]
    assert isinstance(inventory, ferrofish.Inventory)
    assert inventory.system.id == system["Id"]
    assert inventory.system.serial_number == system["SerialNumber"]
    assert inventory.system.odata_id == SYSTEM

    assert inventory.cpu.count == len(raw["processors"]) > 0
    assert inventory.cpu.cores == sum(p["TotalCores"] for p in raw["processors"])
    assert [cpu.id for cpu in inventory.cpu.processors] == [p["Id"] for p in raw["processors"]]

    assert len(inventory.memory.dimms) == len(raw["dimms"]) > 0
    assert inventory.memory.total_mib == sum(d["CapacityMiB"] for d in raw["dimms"])
    assert {d.id: d.capacity_mib for d in inventory.memory.dimms} == {
        d["Id"]: d["CapacityMiB"] for d in raw["dimms"]
    }

    assert {(d.serial_number, d.capacity_bytes) for d in inventory.disks} == {
        (d["SerialNumber"], d["CapacityBytes"]) for d in raw["drives"]
    }
    assert {(v.id, v.capacity_bytes, v.raid_type) for v in inventory.volumes} == {
        (v["Id"], v["CapacityBytes"], v.get("RAIDType")) for v in raw["volumes"]
    }
    assert {(n.id, n.mac_address.upper()) for n in inventory.nics} == {
        (n["Id"], n["MACAddress"].upper()) for n in raw["nics"]
    }
    assert len(inventory.pcie_devices) == len(raw["pcie"]) > 0
    assert inventory.boot_mode == system["Boot"]["BootSourceOverrideMode"]


def test_inventory_objects_are_typed_and_frozen(inventory: ferrofish.Inventory) -> None:
    cpu = inventory.cpu.processors[0]
    assert isinstance(inventory.cpu, ferrofish.CpuInventory)
    assert isinstance(cpu, ferrofish.CpuInfo)
    assert isinstance(inventory.memory.dimms[0], ferrofish.DimmInfo)
    assert isinstance(inventory.disks[0], ferrofish.DiskInfo)
    assert isinstance(inventory.volumes[0], ferrofish.VolumeInfo)
    assert isinstance(inventory.nics[0], ferrofish.NicInfo)
    assert isinstance(inventory.pcie_devices[0], ferrofish.PcieDeviceInfo)
    assert isinstance(inventory.system, ferrofish.SystemIdentity)
    assert isinstance(inventory.disks, tuple)
    with pytest.raises(AttributeError):
        inventory.disks = ()  # type: ignore[misc]
    with pytest.raises(AttributeError):
        cpu.model = "faster"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        inventory.no_such_field  # type: ignore[attr-defined]  # noqa: B018


def test_to_dict_is_plain_data_that_mirrors_the_attributes(inventory: ferrofish.Inventory) -> None:
    data = inventory.to_dict()
    # Plain JSON-compatible data: it survives a JSON round trip unchanged.
    assert json.loads(json.dumps(data)) == data
    assert data["cpu"]["count"] == inventory.cpu.count
    assert data["memory"]["total_mib"] == inventory.memory.total_mib
    assert [d["serial_number"] for d in data["disks"]] == [d.serial_number for d in inventory.disks]
    assert data["system"]["id"] == inventory.system.id
    assert inventory.cpu.processors[0].to_dict() == data["cpu"]["processors"][0]
    # Every key is an attribute, and the other way round.
    public = {name for name in dir(inventory) if not name.startswith("_") and name != "to_dict"}
    assert set(data) == public


def test_equal_values_compare_and_hash_equal(mock_bmc: MockBmc, inventory: ferrofish.Inventory) -> None:
    with mock_bmc.client(NODE_READ_ONLY) as redfish:
        again = redfish.inventory()
    assert again == inventory
    assert hash(again) == hash(inventory)
    assert inventory.disks[0] != inventory.disks[1]
    assert inventory != inventory.to_dict()


def test_repr_names_the_class_and_fields(inventory: ferrofish.Inventory) -> None:
    nic = inventory.nics[0]
    assert repr(nic) == (
        f"NicInfo(id={nic.id!r}, mac_address={nic.mac_address!r}, "
        f"speed_mbps={nic.speed_mbps!r}, link_status={nic.link_status!r})"
    )
    assert repr(inventory).startswith("Inventory(boot_mode=")


def test_inventory_of_a_path_that_is_not_a_system_is_refused(mock_bmc: MockBmc, client: ferrofish.RedfishClient) -> None:
    root = mock_bmc.raw_get(NODE_READ_ONLY, "/redfish/v1")
    assert root["@odata.type"].startswith("#ServiceRoot.")
    with pytest.raises(ferrofish.InvalidInputError) as raised:
        client.inventory(system="/redfish/v1")
    error = raised.value
    assert isinstance(error, ValueError)
    message = str(error)
    assert f"{mock_bmc.url(NODE_READ_ONLY)}/redfish/v1 is a ServiceRoot resource" in message
    assert "not a ComputerSystem" in message
    # The same for the other system operations: nothing is reset.
    with pytest.raises(ferrofish.InvalidInputError, match="is a ServiceRoot resource"):
        client.power_state(system="/redfish/v1")
