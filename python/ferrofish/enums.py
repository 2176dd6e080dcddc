"""The Redfish enumerations as ``str`` enums: each member *is* its wire string.

``PowerState.On == "On"``, ``"On" in {PowerState.On}`` and ``json.dumps(PowerState.On)`` work as
for the plain string, so code written for strings keeps working. Members are named as the Rust
variants (``BootSource.SdCard`` is ``"SDCard"``, ``BootMode.Uefi`` is ``"UEFI"``); only
``BootSource.None_`` carries a trailing underscore, because ``None`` is a Python keyword.

Methods return the member when the value is known, and the plain ``str`` the BMC sent when it
is not (firmware invents values): compare with ``==``, never with ``is``. Arguments take the
members or any string.

Written as ``class X(str, Enum)`` rather than ``enum.StrEnum``, which needs Python 3.11.
"""

from __future__ import annotations

from enum import Enum
from typing import Dict, Type, Union

__all__ = [
    "BootMode",
    "BootOverrideEnabled",
    "BootSource",
    "PowerState",
    "ResetType",
]


class _RedfishEnum(str, Enum):
    """A ``str`` whose ``str()`` and ``format()`` are the wire value, as for ``StrEnum``."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class PowerState(_RedfishEnum):
    """``PowerState`` of a system (IPMI reports ``On`` or ``Off``)."""

    On = "On"
    Off = "Off"
    PoweringOn = "PoweringOn"
    PoweringOff = "PoweringOff"
    Paused = "Paused"


class ResetType(_RedfishEnum):
    """``ResetType`` of the ``#ComputerSystem.Reset`` action."""

    On = "On"
    ForceOff = "ForceOff"
    GracefulShutdown = "GracefulShutdown"
    GracefulRestart = "GracefulRestart"
    ForceRestart = "ForceRestart"
    Nmi = "Nmi"
    ForceOn = "ForceOn"
    PushPowerButton = "PushPowerButton"
    PowerCycle = "PowerCycle"
    FullPowerCycle = "FullPowerCycle"
    Suspend = "Suspend"
    Pause = "Pause"
    Resume = "Resume"


class BootSource(_RedfishEnum):
    """``BootSourceOverrideTarget``."""

    None_ = "None"
    Pxe = "Pxe"
    Floppy = "Floppy"
    Cd = "Cd"
    Usb = "Usb"
    Hdd = "Hdd"
    BiosSetup = "BiosSetup"
    Utilities = "Utilities"
    Diags = "Diags"
    UefiShell = "UefiShell"
    UefiTarget = "UefiTarget"
    SdCard = "SDCard"
    UefiHttp = "UefiHttp"
    RemoteDrive = "RemoteDrive"
    UefiBootNext = "UefiBootNext"
    Recovery = "Recovery"
    UsbCd = "UsbCd"


class BootOverrideEnabled(_RedfishEnum):
    """``BootSourceOverrideEnabled``."""

    Disabled = "Disabled"
    Once = "Once"
    Continuous = "Continuous"


class BootMode(_RedfishEnum):
    """``BootSourceOverrideMode``."""

    Legacy = "Legacy"
    Uefi = "UEFI"


_BY_NAME: Dict[str, Type[_RedfishEnum]] = {
    cls.__name__: cls for cls in (PowerState, ResetType, BootSource, BootOverrideEnabled, BootMode)
}


def _known(enum_name: str, value: str) -> Union[_RedfishEnum, str]:
    """The member of ``enum_name`` whose value is ``value``, else ``value`` itself (used by the
    native module for every value it returns)."""
    cls = _BY_NAME[enum_name]
    member = cls._value2member_map_.get(value)
    return member if isinstance(member, cls) else value
