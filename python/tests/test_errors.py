"""Errors raised by a real client: classes, attributes, causes, pickling, and no secrets."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

import ferrofish
from conftest import NODE_FAULTS, NODE_READ_ONLY, MockBmc

MISSING = "/redfish/v1/Systems/does-not-exist"


def test_not_found_carries_status_url_method_and_message_id(mock_bmc: MockBmc, client: ferrofish.RedfishClient) -> None:
    with pytest.raises(ferrofish.NotFoundError) as raised:
        client.get_json(MISSING)
    error = raised.value
    assert isinstance(error, ferrofish.RedfishHttpError)
    assert isinstance(error, ferrofish.FerrofishError)
    assert error.status == 404
    assert error.method == "GET"
    assert error.url == mock_bmc.url(NODE_READ_ONLY) + MISSING
    assert error.message_id is not None and error.message_id.endswith("ResourceNotFound")
    assert error.messages[0].resolution  # the BMC's advice survives
    assert MISSING in error.messages[0].message_args
    assert "404" in str(error) and error.url in str(error)


def test_http_errors_pickle_with_their_attributes(client: ferrofish.RedfishClient) -> None:
    with pytest.raises(ferrofish.NotFoundError) as raised:
        client.get_json(MISSING)
    restored = pickle.loads(pickle.dumps(raised.value))
    assert type(restored) is ferrofish.NotFoundError
    assert (restored.status, restored.url, restored.method, restored.message_id) == (
        404,
        raised.value.url,
        "GET",
        raised.value.message_id,
    )
    assert restored.messages == raised.value.messages


def test_server_error_is_a_plain_http_error(mock_bmc: MockBmc) -> None:
    # 500 is not retried; the error keeps the status and the request. Armed once logged in:
    # the login and the service root are read concurrently, so which of them a fault armed
    # earlier would hit is not fixed.
    try:
        with mock_bmc.client(NODE_FAULTS) as redfish:
            redfish.get_json("/redfish/v1/Chassis")
            mock_bmc.arm_faults(NODE_FAULTS, {"fail_next": {"count": 1, "status": 500}})
            with pytest.raises(ferrofish.RedfishHttpError) as raised:
                redfish.get_json("/redfish/v1/Chassis")
    finally:
        mock_bmc.clear_faults(NODE_FAULTS)
    assert type(raised.value) is ferrofish.RedfishHttpError
    assert raised.value.status == 500


def test_bad_password_raises_authentication_error_without_the_password(mock_bmc: MockBmc) -> None:
    wrong = "Wr0ng-pa55word-xyzzy"
    redfish = mock_bmc.client(NODE_READ_ONLY, password=wrong)
    with pytest.raises(ferrofish.AuthenticationError) as raised:
        redfish.power_state()
    error = raised.value
    assert isinstance(error, PermissionError)
    assert error.status == 401
    assert error.url.startswith(mock_bmc.url(NODE_READ_ONLY) + "/redfish/v1/")
    for text in (str(error), repr(error), repr(error.__cause__), repr(redfish)):
        assert wrong not in text
    redfish.close()


def test_basic_auth_works_too(mock_bmc: MockBmc) -> None:
    before = mock_bmc.node_view(NODE_READ_ONLY)["sessions"]
    with mock_bmc.client(NODE_READ_ONLY, auth="basic") as redfish:
        assert redfish.power_state() in {"On", "Off", "PoweringOn", "PoweringOff"}
        assert redfish.request_counts()["post"] == 0  # no session login
        assert mock_bmc.node_view(NODE_READ_ONLY)["sessions"] == before


def test_system_trust_store_rejects_the_self_signed_mock(mock_bmc: MockBmc) -> None:
    redfish = mock_bmc.client(NODE_READ_ONLY, verify=True, retries=0)
    with pytest.raises(ferrofish.BmcTlsError) as raised:
        redfish.system_ids()
    error = raised.value
    assert isinstance(error, ferrofish.BmcConnectionError)
    assert isinstance(error, ConnectionError)
    assert error.url.startswith(mock_bmc.url(NODE_READ_ONLY))
    assert isinstance(error.__cause__, ConnectionError)
    assert "certificate" in str(error.__cause__).lower()


def test_the_mock_certificate_as_ca_bundle_is_accepted(mock_bmc: MockBmc) -> None:
    with mock_bmc.client(NODE_READ_ONLY, verify=Path(mock_bmc.ca_pem_path)) as redfish:
        assert redfish.system_ids() == ["/redfish/v1/Systems/1"]


def test_verify_false_skips_verification_and_warns(mock_bmc: MockBmc) -> None:
    with pytest.warns(ferrofish.InsecureTlsWarning, match="verify=False"):
        redfish = mock_bmc.client(NODE_READ_ONLY, verify=False)
    with redfish:
        assert redfish.system_ids() == ["/redfish/v1/Systems/1"]


def test_verified_clients_do_not_warn(mock_bmc: MockBmc) -> None:
    # filterwarnings = error would turn any warning into a failure here.
    mock_bmc.client(NODE_READ_ONLY).close()
    ferrofish.RedfishClient("https://127.0.0.1:9", username="u", password="p", verify=True).close()


def test_missing_ca_bundle_is_file_not_found(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-ca.pem"
    with pytest.raises(FileNotFoundError) as raised:
        ferrofish.RedfishClient("https://127.0.0.1:9", username="u", password="p", verify=str(missing))
    assert raised.value.filename == str(missing)


def test_ca_bundle_without_certificate_is_invalid_input(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pem"
    empty.write_text("not a certificate\n")
    with pytest.raises(ferrofish.InvalidInputError, match="CA bundle"):
        ferrofish.RedfishClient("https://127.0.0.1:9", username="u", password="p", verify=empty)


def test_unreachable_bmc_is_a_connection_error() -> None:
    # Port 9 (discard) on loopback: nothing listens there in the test environment.
    redfish = ferrofish.RedfishClient(
        "https://127.0.0.1:9", username="u", password="p", connect_timeout=5, timeout=5, retries=0
    )
    with pytest.raises(ferrofish.BmcConnectionError) as raised:
        redfish.system_ids()
    assert type(raised.value) is ferrofish.BmcConnectionError
    assert raised.value.method == "GET"
    assert raised.value.__cause__ is not None


@pytest.mark.parametrize(
    ("kwargs", "error_type", "match"),
    [
        ({"timeout": 0}, ferrofish.InvalidInputError, "timeout"),
        ({"timeout": float("inf")}, ferrofish.InvalidInputError, "timeout"),
        ({"connect_timeout": -1.0}, ferrofish.InvalidInputError, "connect_timeout"),
        ({"auth": "kerberos"}, ferrofish.InvalidInputError, "auth"),
        ({"verify": 1}, TypeError, "verify"),
        ({"retries": -1}, OverflowError, "retries"),
    ],
)
def test_bad_constructor_arguments(kwargs: dict, error_type: type, match: str) -> None:
    with pytest.raises(error_type, match=match):
        ferrofish.RedfishClient("https://127.0.0.1:9", username="u", password="p", **kwargs)


def test_credentials_in_the_url_are_refused_and_not_echoed() -> None:
    with pytest.raises(ferrofish.InvalidInputError) as raised:
        ferrofish.RedfishClient("https://admin:hunter2@127.0.0.1:9", username="u", password="p")
    assert "hunter2" not in str(raised.value)
    assert "hunter2" not in repr(raised.value)


def test_username_and_password_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        ferrofish.RedfishClient("https://127.0.0.1:9", "u", "p")  # type: ignore[misc]


@pytest.mark.parametrize("path", ["/login.html", "https://evil.example/redfish/v1", ""])
def test_paths_outside_the_service_are_refused_before_sending(path: str) -> None:
    redfish = ferrofish.RedfishClient("https://127.0.0.1:9", username="u", password="p")
    with pytest.raises(ferrofish.FerrofishError) as raised:
        redfish.get_json(path)
    assert isinstance(raised.value, (ferrofish.InvalidInputError, ferrofish.OffOriginLinkError))
    assert redfish.request_counts()["total"] == 0


@pytest.mark.parametrize("reset_type", ["", "   "])
def test_blank_reset_type_is_refused_before_sending(reset_type: str) -> None:
    redfish = ferrofish.RedfishClient("https://127.0.0.1:9", username="u", password="p")
    with pytest.raises(ferrofish.InvalidInputError, match="reset_type"):
        redfish.reset(reset_type, system="1")
    assert redfish.request_counts()["total"] == 0
