"""The exception hierarchy: classes, standard bases, attributes, pickling."""

from __future__ import annotations

import pickle

import pytest

import ferrofish
from ferrofish import exceptions
from ferrofish.exceptions import (
    AuthenticationError,
    BmcConnectionError,
    BmcTimeoutError,
    BmcTlsError,
    FerrofishError,
    InvalidInputError,
    NotFoundError,
    RedfishDecodeError,
    RedfishError,
    RedfishHttpError,
    RedfishMessage,
    ValueNotAllowedError,
)

NOT_FOUND_MESSAGES = (
    RedfishMessage(
        message_id="Base.1.8.ResourceNotFound",
        message="The requested resource of type System named 'nope' was not found.",
        resolution="Provide a valid resource identifier and resubmit the request.",
        severity="Critical",
    ),
    RedfishMessage(message_id="Base.1.8.GeneralError"),
)

# One fully populated instance of every class, used by the generic tests below.
SAMPLES = [
    FerrofishError("plain"),
    BmcConnectionError("connection refused", method="GET", url="https://bmc/redfish/v1"),
    BmcTlsError(
        "certificate not trusted",
        method="GET",
        url="https://bmc/redfish/v1",
        reason="the BMC's certificate has SHA-256 fingerprint sha256:AB:…, not the pinned sha256:CD:…",
    ),
    BmcTimeoutError("no answer", method="PATCH", url="https://bmc/redfish/v1/Systems/1", timeout=2.5),
    exceptions.WaitTimeoutError(
        "not on",
        url="https://bmc/redfish/v1/Systems/1",
        timeout=60.0,
        what="PowerState",
        wanted="On",
        last="PoweringOn",
    ),
    AuthenticationError(
        "login refused",
        url="https://bmc/redfish/v1/SessionService/Sessions",
        status=401,
        messages=NOT_FOUND_MESSAGES,
    ),
    InvalidInputError("bad system id"),
    ValueNotAllowedError(
        "reset type not allowed", property="ResetType", requested="Nmi", allowed=["On", "ForceOff"]
    ),
    exceptions.UnsupportedOperationError(
        "no reset", operation="reset", url="https://bmc/redfish/v1/Systems/1", missing="Actions"
    ),
    exceptions.ClientClosedError("the client is closed"),
    RedfishError("redfish"),
    RedfishHttpError(
        "bad request", method="POST", url="https://bmc/redfish/v1/x", status=400, messages=NOT_FOUND_MESSAGES
    ),
    NotFoundError("not found", method="GET", url="https://bmc/redfish/v1/Systems/nope", status=404),
    exceptions.PreconditionFailedError("etag", method="PATCH", url="https://bmc/redfish/v1/Systems/1", status=412),
    RedfishDecodeError("invalid type", url="https://bmc/redfish/v1/Systems/1", path="Boot.BootSourceOverrideTarget"),
    exceptions.OffOriginLinkError(
        "link to another host", url="https://evil.example/redfish/v1", origin="https://bmc:443"
    ),
    exceptions.NotAppliedError(
        "boot override accepted but not applied",
        url="https://bmc/redfish/v1/Systems/1",
        property="BootSourceOverrideTarget",
        expected="Pxe",
        actual=None,
    ),
    exceptions.BiosValidationError(
        "refused",
        problems=[
            exceptions.BiosProblem(
                name="BootMod", kind="unknown_name", message="no such attribute", suggestions=("BootMode",)
            )
        ],
    ),
    exceptions.BiosNotAppliedError(
        "not applied",
        report=[
            exceptions.BiosAttributeOutcome(
                name="ProcTurboMode",
                status="rejected",
                message_id="Base.1.18.PropertyValueNotInList",
                message="The value 'Disabled' for the property ProcTurboMode is not in the list.",
            )
        ],
        not_default=("BootMode",),
        checked=60,
    ),
]

# Virtual media.
SAMPLES += [
    exceptions.VirtualMediaError("writing the ISO failed"),
    exceptions.NoSlotError("no CD slot", media="cd", found=2),
    exceptions.SlotBusyError(
        "slot busy",
        slot="/redfish/v1/Managers/1/VirtualMedia/CD",
        image="http://10.0.0.9/…/theirs.iso",
        bmc_message="in use",
    ),
    exceptions.ImageUnreachableError(
        "cannot fetch", image="http://10.0.0.1:8080/…/boot.iso", bmc_message="404 Not Found"
    ),
    exceptions.ImageRejectedError("not an ISO", image="http://10.0.0.1/…/x.iso", bmc_message="not ISO 9660"),
    exceptions.InsertFailedError("every slot refused", first="CD1: no", last="CD2: no"),
    exceptions.NotInsertedError("not shown", slot="/redfish/v1/Managers/1/VirtualMedia/CD", found=None),
    exceptions.NotEjectedError("still there", slot="/redfish/v1/Managers/1/VirtualMedia/CD"),
    exceptions.OverrideNotConsumedError("override pending", timeout=600.0),
    exceptions.BootNeverStartedError("no OS", timeout=600.0, last_state="SystemHardwareInitializationComplete"),
    exceptions.ConfigDriveError("bad address", document="network_data.json", path="networks[0].ip_address"),
    exceptions.ImageServerError("cannot bind", address="127.0.0.1:80", path=None),
]
# IPMI (issue 15).
SAMPLES += [
    exceptions.IpmiError(
        "chassis control failed at bmc 10.0.0.5:623: completion code 0xd4 (insufficient privilege level)",
        address="10.0.0.5:623",
        command="chassis control",
        completion_code=0xD4,
        completion_code_name="InsufficientPrivilege",
    ),
    exceptions.OutcomeUnknown(
        "bmc 10.0.0.5:623 stopped answering chassis control after 4 attempts",
        address="10.0.0.5:623",
        command="chassis control",
        attempts=4,
    ),
]

# Inspection rules and provisioning.
SAMPLES += [
    exceptions.RuleError(
        "rule 1 action 0 (/1/actions/0): no such data",
        rule=1,
        description="Dell",
        pointer="/1/actions/0",
        action=0,
    ),
    exceptions.InvalidRulesError("rule 0: at /0/conditions/0/op: unknown operator", rule=0, pointer="/0/conditions/0/op"),
    exceptions.RuleFailedError("rule 2 failed inspection: no BMC address", rule=2),
    exceptions.ProvisionError("node n: BMC call failed", node="n"),
    exceptions.InvalidEventError(
        "node n: clean is not allowed in state available (allowed: deploy, manage)",
        node="n",
        state="available",
        event="clean",
        allowed=("deploy", "manage"),
        reason=None,
    ),
    exceptions.InvalidStepError("clean step 2: unknown step firmware.update", index=1),
    exceptions.InvalidDeployError("node n: invalid deploy request: image has no host", node="n"),
    exceptions.StaleRevisionError("node n: stale revision 4", node="n", revision=4),
    exceptions.LeaseHeldError("node n is leased to other for 1500 ms more", node="n", holder="other", remaining=1.5),
    exceptions.NodeNotFoundError('no node named "x"', node="x"),
    exceptions.AlreadyEnrolledError('node "n" is already enrolled', node="n"),
    exceptions.StoreError("store: save: disk I/O error", operation="save"),
    exceptions.NodeConnectionError("node n: cannot connect to its BMC: N_PASSWORD is not set", node="n"),
]

NOT_ERRORS = {"RedfishMessage", "InsecureTlsWarning", "BiosProblem", "BiosAttributeOutcome"}


def test_every_exported_exception_is_a_ferrofish_error() -> None:
    exported = [getattr(exceptions, name) for name in exceptions.__all__ if name not in NOT_ERRORS]
    assert exported, "exceptions.__all__ is empty"
    for cls in exported:
        assert issubclass(cls, FerrofishError), cls
        # The package re-exports the same objects: one definition, no duplicates.
        assert getattr(ferrofish, cls.__name__) is cls


def test_samples_cover_every_class() -> None:
    exported = {name for name in exceptions.__all__ if name not in NOT_ERRORS}
    assert {type(sample).__name__ for sample in SAMPLES} == exported


@pytest.mark.parametrize(
    ("cls", "standard_base"),
    [
        (BmcConnectionError, ConnectionError),
        (BmcTlsError, ConnectionError),
        (BmcTimeoutError, TimeoutError),
        (exceptions.WaitTimeoutError, TimeoutError),
        (AuthenticationError, PermissionError),
        (InvalidInputError, ValueError),
        (ValueNotAllowedError, ValueError),
        (exceptions.UnsupportedOperationError, NotImplementedError),
        (RedfishDecodeError, ValueError),
        (NotFoundError, RedfishHttpError),
        (exceptions.PreconditionFailedError, RedfishHttpError),
        (RedfishHttpError, RedfishError),
        (exceptions.InvalidRulesError, ValueError),
        (exceptions.InvalidRulesError, exceptions.RuleError),
        (exceptions.InvalidEventError, ValueError),
        (exceptions.InvalidEventError, exceptions.ProvisionError),
        (exceptions.InvalidStepError, InvalidInputError),
        (exceptions.NodeNotFoundError, LookupError),
        (exceptions.NodeConnectionError, ConnectionError),
    ],
)
def test_standard_bases(cls: type, standard_base: type) -> None:
    assert issubclass(cls, standard_base)
    assert issubclass(cls, FerrofishError)


def test_outcome_unknown_is_not_a_timeout_for_ipmiclient_and_bmc_alike() -> None:
    # Issue 15: `Bmc` over IPMI raises it too (it raised BmcTimeoutError before). Not a
    # TimeoutError, so a retry-on-timeout handler never repeats a power action that may have run.
    assert issubclass(exceptions.OutcomeUnknown, FerrofishError)
    assert not issubclass(exceptions.OutcomeUnknown, TimeoutError)
    assert not issubclass(exceptions.OutcomeUnknown, BmcTimeoutError)


def test_insecure_tls_warning_is_a_user_warning_not_an_error() -> None:
    assert issubclass(exceptions.InsecureTlsWarning, UserWarning)
    assert not issubclass(exceptions.InsecureTlsWarning, FerrofishError)
    assert ferrofish.InsecureTlsWarning is exceptions.InsecureTlsWarning


def test_http_error_is_not_a_value_error() -> None:
    # A 404 is not bad input from the caller; `except ValueError` must not swallow it.
    assert not issubclass(RedfishHttpError, ValueError)


@pytest.mark.parametrize("cls", [BmcConnectionError, BmcTimeoutError, AuthenticationError])
def test_oserror_subclasses_keep_the_message_whole(cls: type) -> None:
    error = cls("it failed: 2 reasons", url="https://bmc/redfish/v1")
    # OSError would read two positional arguments as (errno, strerror); only the message is passed.
    assert error.errno is None
    assert error.strerror is None
    assert error.args == ("it failed: 2 reasons",)
    assert str(error) == "it failed: 2 reasons"
    assert error.url == "https://bmc/redfish/v1"


def test_http_error_attributes() -> None:
    error = RedfishHttpError(
        "bad request", method="POST", url="https://bmc/redfish/v1/x", status=400, messages=list(NOT_FOUND_MESSAGES)
    )
    assert error.status == 400
    assert error.method == "POST"
    assert error.url == "https://bmc/redfish/v1/x"
    assert error.messages == NOT_FOUND_MESSAGES
    assert isinstance(error.messages, tuple)
    assert error.message_id == "Base.1.8.ResourceNotFound"
    assert error.message_ids == ("Base.1.8.ResourceNotFound", "Base.1.8.GeneralError")
    assert str(error) == "bad request"


def test_http_error_without_extended_info_has_no_message_id() -> None:
    error = NotFoundError("not found", method="GET", url="https://bmc/x", status=404)
    assert error.message_id is None
    assert error.message_ids == ()
    assert error.messages == ()


def test_http_error_requires_its_fields() -> None:
    with pytest.raises(TypeError):
        RedfishHttpError("no status")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        RedfishHttpError("positional fields", "GET", "https://bmc/x", 404)  # type: ignore[misc]


def test_value_not_allowed_lists_the_allowed_values() -> None:
    error = ValueNotAllowedError("nope", property="ResetType", requested="Nmi", allowed=["On", "ForceOff"])
    assert error.allowed == ("On", "ForceOff")
    assert error.property == "ResetType"
    assert error.requested == "Nmi"


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda sample: type(sample).__name__)
def test_pickle_round_trip(sample: FerrofishError) -> None:
    restored = pickle.loads(pickle.dumps(sample))
    assert type(restored) is type(sample)
    assert str(restored) == str(sample)
    assert restored.args == sample.args
    for name in sample._fields:
        assert getattr(restored, name) == getattr(sample, name), name
    assert repr(restored) == repr(sample)


def test_pickle_keeps_notes_and_extra_attributes() -> None:
    error = NotFoundError("not found", method="GET", url="https://bmc/x", status=404)
    error.node = "rack1-node7"
    restored = pickle.loads(pickle.dumps(error))
    assert restored.node == "rack1-node7"
    assert restored.status == 404


def test_repr_names_class_message_and_fields() -> None:
    error = RedfishDecodeError("invalid type", url="https://bmc/redfish/v1/Systems/1", path="PowerState")
    assert repr(error) == (
        "RedfishDecodeError('invalid type', url='https://bmc/redfish/v1/Systems/1', path='PowerState')"
    )


def test_cause_is_kept_when_raised_from() -> None:
    cause = OSError("connection reset by peer")
    try:
        try:
            raise cause
        except OSError as exc:
            raise BmcConnectionError("lost the BMC", url="https://bmc/x") from exc
    except FerrofishError as raised:
        assert raised.__cause__ is cause
