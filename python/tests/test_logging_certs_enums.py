"""Issue 15: the library's log records reach ``logging`` (logger ``ferrofish``) without secrets;
``pin=`` certificates; the ``str`` enums."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import json
import logging
import pickle
import ssl
import warnings
from pathlib import Path
from typing import List

import pytest

import ferrofish
from conftest import NODE_READ_ONLY, MockBmc
from ferrofish import _ferrofish
from ferrofish.enums import BootMode, BootOverrideEnabled, BootSource, PowerState, ResetType

#: A self-signed certificate that is not the mock's (its key was thrown away).
OTHER_CERT = """-----BEGIN CERTIFICATE-----
MIIBgzCCASmgAwIBAgIUDBgJKWzury4twR4YDlOyigxiiTEwCgYIKoZIzj0EAwIw
FjEUMBIGA1UEAwwLbm90LXRoZS1ibWMwIBcNMjYxMjA2MDc0MTA0WhgPMjEyNjEx
MTIwNzQxMDRaMBYxFDASBgNVBAMMC25vdC10aGUtYm1jMFkwEwYHKoZIzj0CAQYI
KoZIzj0DAQcDQgAEouLAymDxQLr0TZo0FNcKQ2RmE4fEL3eSwknbruRfkyGOZAuT
nZMy4CyP0ANawn7If+WH7JZUXll+CG+6MXC+PaNTMFEwHQYDVR0OBBYEFF49FN/7
0T2fWIT5LPFj6W6LLsSTMB8GA1UdIwQYMBaAFF49FN/70T2fWIT5LPFj6W6LLsST
MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIhAM5Jl9hUd5YwloNz
nOHo3FctRk9MIcXCmEKf/ODY5cwYAiAvy6QZUSsjiCg+6yKLs0BfQjg7PN5aFNbG
WyWHUB7AHg==
-----END CERTIFICATE-----
"""


def ferrofish_records(caplog: pytest.LogCaptureFixture) -> List[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "ferrofish" or r.name.startswith("ferrofish.")]


def assert_no_secret(records: List[logging.LogRecord], *secrets: str) -> None:
    for record in records:
        text = record.getMessage() + repr(record.__dict__)
        for secret in secrets:
            assert secret not in text, record


# --- Logging --------------------------------------------------------------------------------


def test_a_dropped_client_warns_through_logging(mock_bmc: MockBmc, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="ferrofish")
    client = mock_bmc.client(NODE_READ_ONLY)
    client.system_ids()  # logs in: a session exists
    del client
    gc.collect()
    dropped = [r for r in ferrofish_records(caplog) if "dropped without close()" in r.getMessage()]
    assert len(dropped) == 1, [r.getMessage() for r in caplog.records]
    record = dropped[0]
    assert record.levelno == logging.WARNING
    assert record.name.startswith("ferrofish.redfish_core")
    assert record.pathname.endswith(".rs") and record.lineno > 0
    assert "path=/redfish/v1/SessionService/Sessions/" in record.getMessage()
    assert_no_secret(ferrofish_records(caplog), mock_bmc.password)


def test_a_relogin_and_retries_show_at_their_levels_without_token_or_password(
    mock_bmc: MockBmc, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ferrofish")
    with mock_bmc.client(NODE_READ_ONLY) as client:
        client.system_ids()
        mock_bmc.arm_faults(NODE_READ_ONLY, {"expire_sessions": True})
        mock_bmc.arm_faults(NODE_READ_ONLY, {"fail_next": {"count": 1, "status": 503}})
        try:
            client.system_ids()
        finally:
            mock_bmc.clear_faults(NODE_READ_ONLY)
    records = ferrofish_records(caplog)
    messages = [r.getMessage() for r in records]
    relogin = [r for r in records if "logging in again" in r.getMessage()]
    assert len(relogin) == 1 and relogin[0].levelno == logging.INFO, messages
    retry = [r for r in records if r.getMessage().startswith("retrying")]
    assert retry and retry[0].levelno == logging.DEBUG and "status=503" in retry[0].getMessage(), messages
    assert_no_secret(records, mock_bmc.password)
    # No session token either: every token the mock issued is a header value, never logged.
    assert not any("X-Auth-Token" in m or "token=" in m.lower() for m in messages)


def test_a_wrong_password_logs_nothing_secret_and_the_level_is_honoured(
    mock_bmc: MockBmc, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "Wr0ng-Passw0rd-in-logs"
    caplog.set_level(logging.DEBUG, logger="ferrofish")
    client = mock_bmc.client(NODE_READ_ONLY, password=wrong)
    with pytest.raises(ferrofish.AuthenticationError):
        client.system_ids()
    client.close()
    records = ferrofish_records(caplog)
    assert records, "DEBUG records of the failed login were expected"
    assert_no_secret(records, wrong)
    # At WARNING the same calls forward no DEBUG record.
    caplog.clear()
    caplog.set_level(logging.WARNING, logger="ferrofish")
    with mock_bmc.client(NODE_READ_ONLY) as client:
        client.system_ids()
    assert [r for r in ferrofish_records(caplog) if r.levelno < logging.WARNING] == []


# --- Certificates ---------------------------------------------------------------------------


def test_the_pinned_certificate_is_accepted_as_path_and_as_text(mock_bmc: MockBmc) -> None:
    with mock_bmc.client(NODE_READ_ONLY, verify=True, pin=mock_bmc.ca_pem_path) as client:
        assert client.system_ids()
    pem = Path(mock_bmc.ca_pem_path).read_text()
    with mock_bmc.client(NODE_READ_ONLY, verify=True, pin=pem) as client:
        assert client.system_ids()


def sha256_fingerprint(pem: str) -> str:
    """``sha256:AB:CD:…`` of a PEM certificate, computed independently of ferrofish."""
    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest().upper()
    return "sha256:" + ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def test_the_certificate_is_accepted_by_its_sha256_fingerprint(mock_bmc: MockBmc) -> None:
    fingerprint = sha256_fingerprint(Path(mock_bmc.ca_pem_path).read_text())
    bare_hex = fingerprint[len("sha256:") :].replace(":", "").lower()
    for pin in (fingerprint, bare_hex, f"sha256:{'AB' * 32}, {fingerprint}"):
        with mock_bmc.client(NODE_READ_ONLY, verify=True, pin=pin) as client:
            assert client.system_ids(), pin
    with ferrofish.Bmc.connect(
        "redfish+" + mock_bmc.url(NODE_READ_ONLY), username=mock_bmc.username, password=mock_bmc.password, pin=bare_hex
    ) as bmc:
        assert bmc.power_state().via == "redfish"

    async def poll() -> object:
        async with ferrofish.AsyncRedfishClient(
            mock_bmc.url(NODE_READ_ONLY), username=mock_bmc.username, password=mock_bmc.password, pin=fingerprint
        ) as client:
            return await client.system_ids()

    assert asyncio.run(poll())


def test_a_wrong_fingerprint_is_refused_naming_both_fingerprints(mock_bmc: MockBmc) -> None:
    presented = sha256_fingerprint(Path(mock_bmc.ca_pem_path).read_text())
    pinned = sha256_fingerprint(OTHER_CERT)
    client = mock_bmc.client(NODE_READ_ONLY, verify=True, pin=pinned, retries=0)
    with pytest.raises(ferrofish.BmcTlsError) as refused:
        client.system_ids()
    assert f"SHA-256 fingerprint {presented}, not the pinned {pinned}" in str(refused.value)


def test_a_wrong_pin_is_refused_with_a_tls_error(mock_bmc: MockBmc) -> None:
    client = mock_bmc.client(NODE_READ_ONLY, verify=True, pin=OTHER_CERT, retries=0)
    with pytest.raises(ferrofish.BmcTlsError):
        client.system_ids()
    assert client.request_counts()["total"] >= 1


def test_ca_bundle_works_and_the_system_store_refuses_the_mock(mock_bmc: MockBmc) -> None:
    with mock_bmc.client(NODE_READ_ONLY, verify=mock_bmc.ca_pem_path) as client:
        assert client.system_ids()
    with pytest.raises(ferrofish.BmcTlsError):
        mock_bmc.client(NODE_READ_ONLY, verify=True, retries=0).system_ids()


def test_verify_false_warns_and_a_pin_does_not(mock_bmc: MockBmc) -> None:
    with pytest.warns(ferrofish.InsecureTlsWarning):
        insecure = mock_bmc.client(NODE_READ_ONLY, verify=False)
    insecure.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mock_bmc.client(NODE_READ_ONLY, verify=True, pin=mock_bmc.ca_pem_path).close()


def test_pin_arguments_are_checked_before_anything_is_sent(mock_bmc: MockBmc, tmp_path: Path) -> None:
    with pytest.raises(ferrofish.InvalidInputError, match="not both"):
        mock_bmc.client(NODE_READ_ONLY, verify=mock_bmc.ca_pem_path, pin=mock_bmc.ca_pem_path)
    with pytest.raises(ferrofish.InvalidInputError, match="not a SHA-256 fingerprint"):
        mock_bmc.client(NODE_READ_ONLY, verify=True, pin="sha256:" + "ZZ:" * 31 + "ZZ")
    with pytest.raises(FileNotFoundError):
        mock_bmc.client(NODE_READ_ONLY, verify=True, pin=tmp_path / "missing.pem")
    with pytest.raises(ferrofish.InvalidInputError):
        mock_bmc.client(NODE_READ_ONLY, verify=True, pin="-----BEGIN CERTIFICATE-----\nnot base64\n")


# --- Enums ----------------------------------------------------------------------------------

ENUMS = [PowerState, ResetType, BootSource, BootOverrideEnabled, BootMode]


@pytest.mark.parametrize("cls", ENUMS, ids=lambda c: c.__name__)
def test_members_are_named_and_valued_as_the_rust_variants(cls: type) -> None:
    for member in cls:
        variant = _ferrofish._rust_enum_variant(cls.__name__, member.value)
        assert variant is not None, member
        rust_name, wire = variant
        assert member.name.rstrip("_") == rust_name
        assert member.value == wire


def test_members_compare_equal_to_their_strings_and_serialise_as_them() -> None:
    assert PowerState.On == "On" and "On" == PowerState.On
    assert {"On": 1}[PowerState.On] == 1
    assert str(BootMode.Uefi) == "UEFI" and f"{BootSource.SdCard}" == "SDCard"
    assert json.dumps([ResetType.ForceRestart]) == '["ForceRestart"]'
    assert BootSource("None") is BootSource.None_
    assert pickle.loads(pickle.dumps(PowerState.Off)) is PowerState.Off
    assert ferrofish.PowerState is PowerState


def test_methods_return_the_member_or_the_invented_string(mock_bmc: MockBmc) -> None:
    from ferrofish.enums import _known

    assert _known("PowerState", "On") is PowerState.On
    invented = _known("PowerState", "Hibernating")
    assert type(invented) is str and invented == "Hibernating"
    with mock_bmc.client(NODE_READ_ONLY) as client:
        state = client.power_state()
        assert isinstance(state, PowerState) and state in {"On", "Off"}
        # Arguments take members as strings.
        client.wait_for_power_state(state, timeout=5.0)


def test_record_fields_and_boot_phases_hold_enum_members(mock_bmc: MockBmc) -> None:
    # Issue 15: fields that were plain str are the enums now (unknown values stay str).
    with mock_bmc.client(NODE_READ_ONLY) as client:
        inventory = client.inventory()
        raw = mock_bmc.raw_members(NODE_READ_ONLY, "/redfish/v1/Systems")[0]
    assert inventory.system.power_state == raw["PowerState"]
    assert isinstance(inventory.system.power_state, PowerState)
    if inventory.boot_mode is not None:
        assert isinstance(inventory.boot_mode, BootMode)
        assert inventory.boot_mode == raw["Boot"]["BootSourceOverrideMode"]
    # The serde form keeps plain strings.
    assert type(inventory.to_dict()["system"]["power_state"]) is str
