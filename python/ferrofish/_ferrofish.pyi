"""Type stubs of the native module ``ferrofish._ferrofish`` (implemented in Rust)."""

import os
from types import TracebackType
from typing import (
    Any,
    Awaitable,
    Callable,
    Dict,
    List,
    Literal,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Type,
    Union,
    final,
)

from typing_extensions import Self, TypeAlias

# Issue 15: str enums returned by power_state().
from ferrofish.enums import PowerState

# Issue 15: str enums of record fields (boot mode, reset sent).
from ferrofish.enums import BootMode, ResetType

from ferrofish.rules import Explanation

__version__: str
__all__ = [
    "__version__",
    "RedfishClient",
    "Inventory",
    "SystemIdentity",
    "CpuInventory",
    "CpuInfo",
    "MemoryInventory",
    "DimmInfo",
    "DiskInfo",
    "VolumeInfo",
    "NicInfo",
    "PcieDeviceInfo",
    "SecureBootInfo",
    "InventoryWarning",
    "BootOverrideOutcome",
    "Bmc",
    "BmcOutcome",
    "Bios",
    "BiosStaged",
    # Virtual media.
    "VirtualMedia",
    "VirtualMediaSlot",
    "BootPhase",
    "BootReport",
    "ImageServer",
    "ImageFetch",
    "build_config_drive",
    "config_drive_files",
    # IPMI (issue 15).
    "IpmiClient",
    "ChassisStatus",
    "DeviceId",
    # asyncio twins (issue 15).
    "AsyncRedfishClient",
    "AsyncBmc",
    "AsyncBios",
    "AsyncVirtualMedia",
    # Inspection rules and provisioning.
    "RuleSet",
    "RulesApplied",
    "RuleSecret",
    "inspection_data",
    "StateStore",
    "Advance",
    "FleetEvent",
    "run_fleet",
]

#: Redfish ``PowerState`` values; a BMC may report others, which come through unchanged.
_PowerState: TypeAlias = Literal["On", "Off", "PoweringOn", "PoweringOff", "Paused"]
#: Redfish ``ResetType`` values; which ones a system accepts is in its ``AllowableValues``.
_ResetType: TypeAlias = Literal[
    "On",
    "ForceOff",
    "GracefulShutdown",
    "GracefulRestart",
    "ForceRestart",
    "Nmi",
    "ForceOn",
    "PushPowerButton",
    "PowerCycle",
    "FullPowerCycle",
    "Suspend",
    "Pause",
    "Resume",
]
#: Common ``BootSourceOverrideTarget`` values.
_BootSource: TypeAlias = Literal[
    "None",
    "Pxe",
    "Floppy",
    "Cd",
    "Usb",
    "Hdd",
    "BiosSetup",
    "Utilities",
    "Diags",
    "UefiShell",
    "UefiTarget",
    "SDCard",
    "UefiHttp",
    "RemoteDrive",
    "UefiBootNext",
    "Recovery",
    "UsbCd",
]
_BootOverrideEnabled: TypeAlias = Literal["Disabled", "Once", "Continuous"]
_BootMode: TypeAlias = Literal["UEFI", "Legacy"]
_AuthMode: TypeAlias = Literal["session", "basic", "auto"]
_PowerAction: TypeAlias = Literal["on", "off", "graceful-off", "cycle", "reboot", "graceful-reboot"]
_BootDevice: TypeAlias = Literal["pxe", "disk", "cdrom", "bios", "uefi-http"]
#: Virtual media: ``"cd"`` for ISO images, ``"usb"`` for disk and floppy images.
_Media: TypeAlias = Literal["cd", "usb"]
#: ``BootPhase.name`` values.
_BootPhaseName: TypeAlias = Literal[
    "ejecting_stale",
    "inserting",
    "waiting_for_task",
    "setting_override",
    "resetting",
    "waiting_for_boot",
    "ejecting_at_end",
]
#: PEM bytes, or the path of a PEM file.
_Pem: TypeAlias = Union[bytes, str, "os.PathLike[str]"]
#: ``get_json`` and friends return the BMC's JSON as plain Python data.
_JsonValue: TypeAlias = Any

@final
class Bmc:
    """One BMC over Redfish, IPMI, or both (a combined endpoint), addressed as Metal3 addresses
    it; power and boot device fall back from Redfish to IPMI, and every result says which
    protocol did it. Blocking calls release the GIL."""

    @staticmethod
    def connect(
        address: str,
        *,
        username: str,
        password: str,
        verify: Union[bool, str, "os.PathLike[str]"] = True,
        timeout: float = 60.0,
        ipmi_port: Optional[int] = None,
        ipmi_cipher_suite: Optional[int] = None,
        ipmi_kg: Optional[bytes] = None,
        pin: Optional[Union[str, "os.PathLike[str]"]] = None,
    ) -> Bmc: ...
    @property
    def address(self) -> str: ...
    def capabilities(self) -> Dict[Literal["redfish", "ipmi"], list[str]]: ...
    def power_state(self) -> BmcOutcome:
        """``value`` is a ``PowerState`` member, or the plain ``str`` the BMC invented."""
    def power(self, action: _PowerAction) -> BmcOutcome: ...
    def wait_for_power_state(
        self, state: Union[_PowerState, str], *, timeout: float = 300.0
    ) -> BmcOutcome: ...
    def set_boot_device(
        self,
        device: _BootDevice,
        *,
        persistent: bool = False,
        mode: Optional[_BootMode] = None,
    ) -> BmcOutcome: ...
    def inventory(self) -> Inventory: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> bool: ...

@final
class BmcOutcome:
    """What a ``Bmc`` operation returned and which protocol did it."""

    @property
    def value(self) -> Any: ...
    @property
    def via(self) -> Literal["redfish", "ipmi"]: ...
    @property
    def fallback_reason(self) -> Optional[str]: ...

@final
class RedfishClient:
    """A Redfish client for one BMC; blocking calls release the GIL."""

    def __new__(
        cls,
        url: str,
        *,
        username: str,
        password: str,
        verify: Union[bool, str, "os.PathLike[str]"] = True,
        timeout: float = 60.0,
        connect_timeout: float = 10.0,
        auth: _AuthMode = "auto",
        max_concurrent_requests: int = 5,
        retries: int = 4,
        pin: Optional[Union[str, "os.PathLike[str]"]] = None,
    ) -> Self: ...
    @property
    def url(self) -> str: ...
    @property
    def username(self) -> str: ...
    def system_ids(self) -> list[str]: ...
    def power_state(self, system: Optional[str] = None) -> Optional[Union[PowerState, str]]: ...
    def reset(self, reset_type: Union[_ResetType, str], system: Optional[str] = None) -> None: ...
    def wait_for_power_state(
        self,
        state: Union[_PowerState, str],
        *,
        timeout: float = 300.0,
        system: Optional[str] = None,
    ) -> None: ...
    def set_boot_override(
        self,
        target: Union[_BootSource, str],
        *,
        enabled: Union[_BootOverrideEnabled, str] = "Once",
        mode: Optional[Union[_BootMode, str]] = None,
        system: Optional[str] = None,
    ) -> BootOverrideOutcome: ...
    def inventory(self, system: Optional[str] = None) -> Inventory: ...
    def virtual_media(self, system: Optional[str] = None) -> VirtualMedia: ...
    def get_json(self, path: str) -> _JsonValue: ...
    def patch_json(self, path: str, body: _JsonValue) -> _JsonValue: ...
    def post_json(self, path: str, body: _JsonValue) -> _JsonValue: ...
    def delete(self, path: str) -> None: ...
    def request_counts(self) -> Dict[str, int]: ...
    def reset_request_counts(self) -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> bool: ...

@final
class Inventory:
    """What a system is made of."""

    @property
    def boot_mode(self) -> Optional[Union[BootMode, str]]: ...
    @property
    def system(self) -> SystemIdentity: ...
    @property
    def cpu(self) -> CpuInventory: ...
    @property
    def memory(self) -> MemoryInventory: ...
    @property
    def secure_boot(self) -> Optional[SecureBootInfo]: ...
    @property
    def disks(self) -> Tuple[DiskInfo, ...]: ...
    @property
    def volumes(self) -> Tuple[VolumeInfo, ...]: ...
    @property
    def nics(self) -> Tuple[NicInfo, ...]: ...
    @property
    def pcie_devices(self) -> Tuple[PcieDeviceInfo, ...]: ...
    @property
    def warnings(self) -> Tuple[InventoryWarning, ...]: ...
    def to_dict(self) -> Dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class InventoryWarning:
    """A linked part of the system the inventory could not read; the rest was read."""

    @property
    def url(self) -> str: ...
    @property
    def reason(
        self,
    ) -> Literal["not_found", "not_implemented", "refused", "timeout", "unparsable", "bad_link"]: ...
    @property
    def status(self) -> Optional[int]: ...
    @property
    def message(self) -> str: ...
    def to_dict(self) -> Dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class BootOverrideOutcome:
    """What became of a boot override the BMC accepted, as read back."""

    @property
    def outcome(self) -> Literal["applied", "applied_as_continuous"]: ...
    @property
    def must_clear_after_boot(self) -> bool: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class SystemIdentity:
    """Who the system is."""

    @property
    def odata_id(self) -> Optional[str]: ...
    @property
    def id(self) -> Optional[str]: ...
    @property
    def name(self) -> Optional[str]: ...
    @property
    def manufacturer(self) -> Optional[str]: ...
    @property
    def model(self) -> Optional[str]: ...
    @property
    def serial_number(self) -> Optional[str]: ...
    @property
    def sku(self) -> Optional[str]: ...
    @property
    def uuid(self) -> Optional[str]: ...
    @property
    def bios_version(self) -> Optional[str]: ...
    @property
    def power_state(self) -> Optional[Union[PowerState, str]]: ...
    def to_dict(self) -> Dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class CpuInventory:
    """The processors."""

    @property
    def count(self) -> int: ...
    @property
    def model(self) -> Optional[str]: ...
    @property
    def architecture(self) -> Optional[str]: ...
    @property
    def cores(self) -> Optional[int]: ...
    @property
    def threads(self) -> Optional[int]: ...
    @property
    def processors(self) -> Tuple[CpuInfo, ...]: ...
    def to_dict(self) -> Dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class CpuInfo:
    """One CPU."""

    @property
    def id(self) -> Optional[str]: ...
    @property
    def socket(self) -> Optional[str]: ...
    @property
    def manufacturer(self) -> Optional[str]: ...
    @property
    def model(self) -> Optional[str]: ...
    @property
    def architecture(self) -> Optional[str]: ...
    @property
    def cores(self) -> Optional[int]: ...
    @property
    def threads(self) -> Optional[int]: ...
    @property
    def max_speed_mhz(self) -> Optional[int]: ...
    def to_dict(self) -> Dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class MemoryInventory:
    """The memory."""

    @property
    def total_mib(self) -> int: ...
    @property
    def dimms(self) -> Tuple[DimmInfo, ...]: ...
    def to_dict(self) -> Dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class DimmInfo:
    """One DIMM."""

    @property
    def id(self) -> Optional[str]: ...
    @property
    def capacity_mib(self) -> Optional[int]: ...
    @property
    def memory_device_type(self) -> Optional[str]: ...
    @property
    def manufacturer(self) -> Optional[str]: ...
    @property
    def part_number(self) -> Optional[str]: ...
    @property
    def serial_number(self) -> Optional[str]: ...
    @property
    def speed_mhz(self) -> Optional[int]: ...
    def to_dict(self) -> Dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class DiskInfo:
    """One physical disk."""

    @property
    def id(self) -> Optional[str]: ...
    @property
    def name(self) -> Optional[str]: ...
    @property
    def capacity_bytes(self) -> Optional[int]: ...
    @property
    def media_type(self) -> Optional[str]: ...
    @property
    def protocol(self) -> Optional[str]: ...
    @property
    def model(self) -> Optional[str]: ...
    @property
    def serial_number(self) -> Optional[str]: ...
    def to_dict(self) -> Dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class VolumeInfo:
    """One logical volume (a RAID virtual disk)."""

    @property
    def id(self) -> Optional[str]: ...
    @property
    def name(self) -> Optional[str]: ...
    @property
    def capacity_bytes(self) -> Optional[int]: ...
    @property
    def raid_type(self) -> Optional[str]: ...
    @property
    def volume_type(self) -> Optional[str]: ...
    def to_dict(self) -> Dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class NicInfo:
    """One network interface with a MAC address."""

    @property
    def id(self) -> Optional[str]: ...
    @property
    def mac_address(self) -> str: ...
    @property
    def speed_mbps(self) -> Optional[int]: ...
    @property
    def link_status(self) -> Optional[str]: ...
    def to_dict(self) -> Dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class PcieDeviceInfo:
    """One PCIe device."""

    @property
    def id(self) -> Optional[str]: ...
    @property
    def name(self) -> Optional[str]: ...
    @property
    def manufacturer(self) -> Optional[str]: ...
    @property
    def model(self) -> Optional[str]: ...
    @property
    def device_type(self) -> Optional[str]: ...
    def to_dict(self) -> Dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class SecureBootInfo:
    """Secure boot state."""

    @property
    def enabled(self) -> Optional[bool]: ...
    @property
    def current_boot(self) -> Optional[str]: ...
    @property
    def mode(self) -> Optional[str]: ...
    def to_dict(self) -> Dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

# BIOS (ferrofish-bios)

#: A BIOS profile: ``{"BootMode": "Uefi"}``, Ironic's ``[{"name": ..., "value": ...}]``,
#: ``["NAME=VALUE", ...]``, or one ``str`` (JSON or ``NAME=VALUE`` lines).
_BiosProfile: TypeAlias = Union[
    Mapping[str, Any], Sequence[Mapping[str, Any]], Sequence[str], str
]

@final
class Bios:
    """BIOS settings of one system (the only one when ``system`` is ``None``)."""

    def __new__(cls, client: RedfishClient, system: Optional[str] = None) -> Self: ...
    def read(self) -> Dict[str, Any]: ...
    def registry(self) -> Dict[str, Any]: ...
    def validate(self, profile: _BiosProfile) -> List[Dict[str, Any]]: ...
    def diff(self, profile: _BiosProfile) -> Dict[str, Any]: ...
    def stage(self, profile: _BiosProfile) -> BiosStaged: ...
    def apply(
        self,
        staged: BiosStaged,
        *,
        timeout: float = 1800.0,
        poll_interval: float = 15.0,
        reset: bool = True,
    ) -> List[Dict[str, Any]]: ...
    def apply_and_verify(
        self,
        profile: _BiosProfile,
        *,
        timeout: float = 1800.0,
        poll_interval: float = 15.0,
        reset: bool = True,
    ) -> List[Dict[str, Any]]: ...
    def factory_reset(
        self, *, timeout: float = 1800.0, poll_interval: float = 15.0, reset: bool = True
    ) -> Dict[str, Any]: ...

@final
class BiosStaged:
    """What ``Bios.stage`` did; pass it to ``Bios.apply``."""

    @property
    def sent(self) -> bool: ...
    @property
    def settings_url(self) -> str: ...
    @property
    def job(self) -> Optional[str]: ...
    def to_dict(self) -> Dict[str, Any]: ...

# --- Virtual media -------------------------------------------------------------------------

@final
class VirtualMedia:
    """The virtual media of one system; from ``RedfishClient.virtual_media()``."""

    @property
    def system(self) -> str: ...
    def slots(self) -> Tuple[VirtualMediaSlot, ...]: ...
    def insert(self, image: str, *, media: _Media = "cd") -> VirtualMediaSlot: ...
    def eject(self, slot: Union[VirtualMediaSlot, str]) -> bool: ...
    def eject_all(self, media: Optional[_Media] = None) -> Tuple[VirtualMediaSlot, ...]: ...
    def boot_from_iso(
        self,
        image: str,
        *,
        timeout: float = 600.0,
        poll_interval: float = 2.0,
        eject_after: bool = False,
        on_progress: Optional[Callable[[BootPhase], object]] = None,
    ) -> BootReport: ...

@final
class VirtualMediaSlot:
    """One virtual-media slot as read; ``repr`` shows the image URL redacted."""

    @property
    def path(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def level(self) -> Literal["system", "manager"]: ...
    @property
    def media_types(self) -> Tuple[str, ...]: ...
    @property
    def inserted(self) -> Optional[bool]: ...
    @property
    def image(self) -> Optional[str]: ...
    @property
    def connected_via(self) -> Optional[str]: ...
    @property
    def occupied(self) -> bool: ...
    @property
    def remote_capable(self) -> bool: ...
    @property
    def patch_only(self) -> bool: ...
    @property
    def hpe_boot_on_next_reset(self) -> Optional[bool]: ...
    def accepts(self, media: _Media) -> bool: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class BootPhase:
    """A step of ``VirtualMedia.boot_from_iso``, reported as it starts."""

    @property
    def name(self) -> _BootPhaseName: ...
    @property
    def description(self) -> str: ...
    @property
    def slot(self) -> Optional[str]: ...
    @property
    def monitor(self) -> Optional[str]: ...
    @property
    def reset(self) -> Optional[Union[ResetType, str]]: ...
    @property
    def last_state(self) -> Optional[str]: ...
    @property
    def override_pending(self) -> Optional[bool]: ...
    @property
    def hpe_boot_on_next_reset(self) -> Optional[bool]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class BootReport:
    """What ``VirtualMedia.boot_from_iso`` did and saw."""

    @property
    def slot(self) -> VirtualMediaSlot: ...
    @property
    def hpe_boot_on_next_reset(self) -> bool: ...
    @property
    def reset(self) -> Union[ResetType, str]: ...
    @property
    def boot_progress(self) -> Optional[str]: ...
    @property
    def override_stored_as_continuous(self) -> bool: ...
    @property
    def override_cleared(self) -> bool: ...
    @property
    def ejected(self) -> bool: ...
    @property
    def phases(self) -> Tuple[BootPhase, ...]: ...

@final
class ImageServer:
    """An HTTP(S) server for boot images and config drives; URLs carry a token."""

    def __new__(
        cls,
        bind: str = "127.0.0.1:0",
        *,
        public_host: Optional[str] = None,
        tls_cert: Optional[_Pem] = None,
        tls_key: Optional[_Pem] = None,
    ) -> Self: ...
    @property
    def address(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def scheme(self) -> Literal["http", "https"]: ...
    @property
    def running(self) -> bool: ...
    def url_for(self, name: str) -> str: ...
    def add_bytes(self, name: str, data: Union[bytes, bytearray]) -> str: ...
    def add_file(self, name: str, path: Union[str, "os.PathLike[str]"]) -> str: ...
    def add_directory(self, name: str, path: Union[str, "os.PathLike[str]"]) -> str: ...
    def remove(self, name: str) -> bool: ...
    def fetches(self) -> Tuple[ImageFetch, ...]: ...
    def stop(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> bool: ...

@final
class ImageFetch:
    """One request the image server answered (never the token)."""

    @property
    def peer(self) -> str: ...
    @property
    def method(self) -> str: ...
    @property
    def image(self) -> Optional[str]: ...
    @property
    def path_in_image(self) -> Optional[str]: ...
    @property
    def range(self) -> Optional[str]: ...
    @property
    def status(self) -> int: ...
    @property
    def at(self) -> float: ...

def build_config_drive(
    network_data: Optional[Dict[str, Any]],
    meta_data: Optional[Dict[str, Any]] = None,
    user_data: Optional[Union[bytes, bytearray, str]] = None,
    *,
    path: Optional[Union[str, "os.PathLike[str]"]] = None,
) -> bytes: ...
def config_drive_files(
    network_data: Optional[Dict[str, Any]],
    meta_data: Optional[Dict[str, Any]] = None,
    user_data: Optional[Union[bytes, bytearray, str]] = None,
) -> Dict[str, bytes]: ...

# --- IPMI (issue 15) -------------------------------------------------------------------------

_IpmiBootDevice: TypeAlias = Literal[
    "pxe", "network", "disk", "hd", "cdrom", "optical", "bios", "setup",
    "safe", "disk-safe-mode", "diag", "diagnostic", "floppy", "none", "default",
]

@final
class ChassisStatus:
    """The reply to Get Chassis Status."""

    @property
    def power_on(self) -> bool: ...
    @property
    def power_overload(self) -> bool: ...
    @property
    def interlock(self) -> bool: ...
    @property
    def power_fault(self) -> bool: ...
    @property
    def power_control_fault(self) -> bool: ...
    @property
    def restore_policy(self) -> Literal["AlwaysOff", "Previous", "AlwaysOn", "Unknown"]: ...
    @property
    def last_power_event(self) -> int: ...
    @property
    def misc_state(self) -> int: ...
    @property
    def front_panel(self) -> Optional[int]: ...

@final
class DeviceId:
    """The reply to Get Device ID."""

    @property
    def device_id(self) -> int: ...
    @property
    def device_revision(self) -> int: ...
    @property
    def provides_device_sdrs(self) -> bool: ...
    @property
    def firmware_major(self) -> int: ...
    @property
    def firmware_minor(self) -> int: ...
    @property
    def firmware_revision(self) -> str: ...
    @property
    def device_available(self) -> bool: ...
    @property
    def ipmi_version(self) -> Tuple[int, int]: ...
    @property
    def additional_device_support(self) -> int: ...
    @property
    def manufacturer_id(self) -> int: ...
    @property
    def product_id(self) -> int: ...
    @property
    def aux_firmware_revision(self) -> Optional[bytes]: ...

@final
class IpmiClient:
    """An IPMI v2.0 (RMCP+) client for one BMC; blocking calls release the GIL."""

    def __new__(
        cls,
        host: str,
        *,
        username: str,
        password: str,
        kg: Optional[Union[bytes, str]] = None,
        port: int = 623,
        cipher_suite: Union[Literal["auto", 17, 3], str, int] = "auto",
        timeout: float = 1.0,
        retries: int = 3,
    ) -> Self: ...
    @property
    def address(self) -> str: ...
    @property
    def username(self) -> str: ...
    def power_state(self) -> PowerState: ...
    def power_on(self) -> None: ...
    def power_off(self) -> None: ...
    def power_cycle(self) -> None: ...
    def power_reset(self) -> None: ...
    def power_soft(self) -> None: ...
    def set_boot_device(
        self, device: Union[_IpmiBootDevice, str], persistent: bool = False, uefi: bool = False
    ) -> str: ...
    def chassis_status(self) -> ChassisStatus: ...
    def device_id(self) -> DeviceId: ...
    def raw(self, netfn: int, cmd: int, data: bytes = b"") -> bytes: ...
    def stats(self) -> Dict[Literal["round_trips", "datagrams_sent", "retransmissions", "sessions_opened"], int]: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> bool: ...

# --- Inspection rules (ferrofish.rules) ------------------------------------------------------

_Evaluation: TypeAlias = Literal["immediate", "legacy_two_phase"]

@final
class RuleSet:
    """A parsed rules file (ironic-inspector's JSON or ferrofish's canonical form)."""

    def __new__(
        cls, rules: Union[List[Dict[str, Any]], Dict[str, Any]], *, evaluation: _Evaluation = "immediate"
    ) -> Self: ...
    @staticmethod
    def from_json(text: str, *, evaluation: _Evaluation = "immediate") -> RuleSet: ...
    @property
    def evaluation(self) -> _Evaluation: ...
    def __len__(self) -> int: ...
    def apply(self, data: Mapping[str, Any], node: Mapping[str, Any]) -> Tuple[Dict[str, Any], RulesApplied]:
        """A new node dict and what was done; the node passed in is not changed."""
    def explain(self, data: Mapping[str, Any], node: Mapping[str, Any]) -> "Explanation":
        """A dict in the serialized form whose ``str()`` is the account in words."""

@final
class RulesApplied:
    """What ``RuleSet.apply`` did."""

    @property
    def matched(self) -> Tuple[int, ...]: ...
    @property
    def changes(self) -> List[Dict[str, Any]]: ...
    @property
    def secrets(self) -> Tuple[RuleSecret, ...]: ...

@final
class RuleSecret:
    """A secret a rule set, kept out of the node; ``repr`` never shows it, pickling refuses."""

    @property
    def path(self) -> str: ...
    @property
    def reference(self) -> str: ...
    def reveal(self) -> str: ...

def inspection_data(
    inventory: Union[Inventory, Mapping[str, Any]],
    bmc_address: Optional[str] = None,
    auto_discovered: bool = False,
) -> Dict[str, Any]: ...

# --- Provisioning (ferrofish.provision) ------------------------------------------------------

_Event: TypeAlias = Literal["manage", "inspect", "clean", "provide", "deploy", "undeploy", "abort", "adopt"]

@final
class StateStore:
    """Node documents in SQLite (``"sqlite:PATH"`` or ``"sqlite::memory:"``) and the settings
    to drive them. Blocking calls release the GIL."""

    def __new__(
        cls,
        url: str,
        *,
        holder: str = "python",
        lease_ttl: float = 30.0,
        power_timeout: float = 60.0,
        boot_timeout: float = 1800.0,
        bios_timeout: float = 1800.0,
        poll_interval: float = 2.0,
        request_timeout: float = 30.0,
    ) -> Self: ...
    @property
    def url(self) -> str: ...
    @property
    def holder(self) -> str: ...
    def enroll(self, node: Mapping[str, Any]) -> Dict[str, Any]: ...
    def node(self, name: str) -> Dict[str, Any]: ...
    def nodes(self) -> List[Dict[str, Any]]: ...
    def claim(self, name: str) -> Dict[str, Any]: ...
    def release(self, name: str) -> None: ...
    def send(
        self,
        name: str,
        event: _Event,
        *,
        steps: Optional[Union[Sequence[Mapping[str, Any]], Mapping[str, Any]]] = None,
        image: Optional[str] = None,
        network_data: Optional[Mapping[str, Any]] = None,
        boot_mode: Optional[Literal["uefi", "bios"]] = None,
        revision: Optional[int] = None,
    ) -> Dict[str, Any]: ...
    def advance(
        self, name: str, *, rules: Optional[RuleSet] = None, image_server: Optional[ImageServer] = None
    ) -> Advance: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> bool: ...

@final
class Advance:
    """What one ``StateStore.advance`` call left."""

    @property
    def kind(self) -> Literal["continue", "waiting", "done", "failed"]: ...
    @property
    def until(self) -> Optional[float]: ...
    @property
    def delay(self) -> float: ...
    @property
    def error(self) -> Optional[str]: ...
    @property
    def node(self) -> Dict[str, Any]: ...

@final
class FleetEvent:
    """Progress of one node in a fleet run."""

    @property
    def node(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def phase(self) -> Optional[str]: ...
    @property
    def message(self) -> str: ...
    def to_dict(self) -> Dict[str, Optional[str]]: ...

def run_fleet(
    store: StateStore,
    plan: Mapping[str, Any],
    *,
    workers: int = 8,
    group: Optional[str] = None,
    on_event: Optional[Callable[[FleetEvent], object]] = None,
    rules: Optional[RuleSet] = None,
    image_server: Optional[ImageServer] = None,
) -> Dict[str, Any]: ...

# --- asyncio twins (issue 15) --------------------------------------------------------------
# Each method returns an awaitable of what the blocking class's method returns; the
# constructors take the same arguments and send nothing.

@final
class AsyncRedfishClient:
    """The asyncio twin of ``RedfishClient``; ``async with`` deletes the session."""

    def __new__(
        cls,
        url: str,
        *,
        username: str,
        password: str,
        verify: Union[bool, str, "os.PathLike[str]"] = True,
        timeout: float = 60.0,
        connect_timeout: float = 10.0,
        auth: _AuthMode = "auto",
        max_concurrent_requests: int = 5,
        retries: int = 4,
        pin: Optional[Union[str, "os.PathLike[str]"]] = None,
    ) -> Self: ...
    @property
    def url(self) -> str: ...
    @property
    def username(self) -> str: ...
    def system_ids(self) -> Awaitable[list[str]]: ...
    def power_state(
        self, system: Optional[str] = None
    ) -> Awaitable[Optional[Union[PowerState, str]]]: ...
    def reset(
        self, reset_type: Union[_ResetType, str], system: Optional[str] = None
    ) -> Awaitable[None]: ...
    def wait_for_power_state(
        self,
        state: Union[_PowerState, str],
        *,
        timeout: float = 300.0,
        system: Optional[str] = None,
    ) -> Awaitable[None]: ...
    def set_boot_override(
        self,
        target: Union[_BootSource, str],
        *,
        enabled: Union[_BootOverrideEnabled, str] = "Once",
        mode: Optional[Union[_BootMode, str]] = None,
        system: Optional[str] = None,
    ) -> Awaitable[BootOverrideOutcome]: ...
    def inventory(self, system: Optional[str] = None) -> Awaitable[Inventory]: ...
    def virtual_media(self, system: Optional[str] = None) -> Awaitable[AsyncVirtualMedia]: ...
    def get_json(self, path: str) -> Awaitable[_JsonValue]: ...
    def patch_json(self, path: str, body: _JsonValue) -> Awaitable[_JsonValue]: ...
    def post_json(self, path: str, body: _JsonValue) -> Awaitable[_JsonValue]: ...
    def delete(self, path: str) -> Awaitable[None]: ...
    def request_counts(self) -> Dict[str, int]: ...
    def reset_request_counts(self) -> None: ...
    def close(self) -> Awaitable[None]: ...
    def __aenter__(self) -> Awaitable[Self]: ...
    def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> Awaitable[None]: ...

@final
class AsyncBmc:
    """The asyncio twin of ``Bmc``; ``async with`` closes the sessions."""

    @staticmethod
    def connect(
        address: str,
        *,
        username: str,
        password: str,
        verify: Union[bool, str, "os.PathLike[str]"] = True,
        timeout: float = 60.0,
        ipmi_port: Optional[int] = None,
        ipmi_cipher_suite: Optional[int] = None,
        ipmi_kg: Optional[bytes] = None,
        pin: Optional[Union[str, "os.PathLike[str]"]] = None,
    ) -> AsyncBmc: ...
    @property
    def address(self) -> str: ...
    def capabilities(self) -> Dict[Literal["redfish", "ipmi"], list[str]]: ...
    def power_state(self) -> Awaitable[BmcOutcome]: ...
    def power(self, action: _PowerAction) -> Awaitable[BmcOutcome]: ...
    def wait_for_power_state(
        self, state: Union[_PowerState, str], *, timeout: float = 300.0
    ) -> Awaitable[BmcOutcome]: ...
    def set_boot_device(
        self,
        device: _BootDevice,
        *,
        persistent: bool = False,
        mode: Optional[_BootMode] = None,
    ) -> Awaitable[BmcOutcome]: ...
    def inventory(self) -> Awaitable[Inventory]: ...
    def close(self) -> Awaitable[None]: ...
    def __aenter__(self) -> Awaitable[Self]: ...
    def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> Awaitable[None]: ...

@final
class AsyncBios:
    """The asyncio twin of ``Bios``."""

    def __new__(cls, client: AsyncRedfishClient, system: Optional[str] = None) -> Self: ...
    def read(self) -> Awaitable[Dict[str, Any]]: ...
    def registry(self) -> Awaitable[Dict[str, Any]]: ...
    def validate(self, profile: _BiosProfile) -> Awaitable[List[Dict[str, Any]]]: ...
    def diff(self, profile: _BiosProfile) -> Awaitable[Dict[str, Any]]: ...
    def stage(self, profile: _BiosProfile) -> Awaitable[BiosStaged]: ...
    def apply(
        self,
        staged: BiosStaged,
        *,
        timeout: float = 1800.0,
        poll_interval: float = 15.0,
        reset: bool = True,
    ) -> Awaitable[List[Dict[str, Any]]]: ...
    def apply_and_verify(
        self,
        profile: _BiosProfile,
        *,
        timeout: float = 1800.0,
        poll_interval: float = 15.0,
        reset: bool = True,
    ) -> Awaitable[List[Dict[str, Any]]]: ...
    def factory_reset(
        self, *, timeout: float = 1800.0, poll_interval: float = 15.0, reset: bool = True
    ) -> Awaitable[Dict[str, Any]]: ...

@final
class AsyncVirtualMedia:
    """The asyncio twin of ``VirtualMedia``; from ``AsyncRedfishClient.virtual_media()``."""

    @property
    def system(self) -> str: ...
    def slots(self) -> Awaitable[Tuple[VirtualMediaSlot, ...]]: ...
    def insert(self, image: str, *, media: _Media = "cd") -> Awaitable[VirtualMediaSlot]: ...
    def eject(self, slot: Union[VirtualMediaSlot, str]) -> Awaitable[bool]: ...
    def eject_all(
        self, media: Optional[_Media] = None
    ) -> Awaitable[Tuple[VirtualMediaSlot, ...]]: ...
    def boot_from_iso(
        self,
        image: str,
        *,
        timeout: float = 600.0,
        poll_interval: float = 2.0,
        eject_after: bool = False,
        on_progress: Optional[Callable[[BootPhase], object]] = None,
    ) -> Awaitable[BootReport]: ...
