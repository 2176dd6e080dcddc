"""The exceptions ferrofish raises, defined once, here.

Every error is a :class:`FerrofishError`. Where a standard exception means the same thing, the
class also derives from it, so ordinary ``except TimeoutError`` or ``except ValueError`` clauses
keep working::

    FerrofishError
    ├── BmcConnectionError (ConnectionError)
    │   └── BmcTlsError
    ├── BmcTimeoutError (TimeoutError)
    │   └── WaitTimeoutError
    ├── AuthenticationError (PermissionError)
    ├── InvalidInputError (ValueError)
    │   ├── ValueNotAllowedError
    │   └── BiosValidationError
    ├── UnsupportedOperationError (NotImplementedError)
    ├── ClientClosedError
    └── RedfishError
        ├── RedfishHttpError
        │   ├── NotFoundError
        │   └── PreconditionFailedError
        ├── RedfishDecodeError (ValueError)
        ├── OffOriginLinkError
        ├── NotAppliedError
        └── BiosNotAppliedError

Virtual media (``VirtualMedia``, ``ImageServer``, the config-drive builders)::

    FerrofishError
    └── VirtualMediaError
        ├── NoSlotError
        ├── SlotBusyError
        ├── ImageUnreachableError
        ├── ImageRejectedError
        ├── InsertFailedError
        ├── NotInsertedError
        ├── NotEjectedError
        ├── OverrideNotConsumedError (TimeoutError)
        ├── BootNeverStartedError (TimeoutError)
        ├── ConfigDriveError (InvalidInputError, so ValueError)
        └── ImageServerError

IPMI (``IpmiClient``)::

    FerrofishError
    ├── IpmiError          (a completion code, a reply that does not decode)
    └── OutcomeUnknown     (a power action may or may not have run)

Inspection rules and provisioning::

    FerrofishError
    ├── RuleError
    │   ├── InvalidRulesError (InvalidInputError, so ValueError)
    │   └── RuleFailedError
    └── ProvisionError
        ├── InvalidEventError (InvalidInputError)
        ├── InvalidStepError (InvalidInputError)
        ├── InvalidDeployError (InvalidInputError)
        ├── StaleRevisionError
        ├── LeaseHeldError
        ├── NodeNotFoundError (LookupError)
        ├── AlreadyEnrolledError
        ├── StoreError
        └── NodeConnectionError (ConnectionError)

``InsecureTlsWarning`` is the warning issued when TLS verification is turned off.

The native module raises these classes; nothing else defines exceptions. Every field is a
keyword-only constructor argument and an attribute, and every exception pickles with its fields.

Over 600 lines because every area's exceptions are defined here, once, with their fields
documented where users look them up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Dict, Optional, Sequence, Tuple, Type

__all__ = [
    "AlreadyEnrolledError",
    "AuthenticationError",
    "BiosAttributeOutcome",
    "BiosNotAppliedError",
    "BiosProblem",
    "BiosValidationError",
    "BmcConnectionError",
    "BmcTimeoutError",
    "BmcTlsError",
    "BootNeverStartedError",
    "ClientClosedError",
    "ConfigDriveError",
    "FerrofishError",
    "ImageRejectedError",
    "ImageServerError",
    "ImageUnreachableError",
    "InsecureTlsWarning",
    "InsertFailedError",
    "InvalidDeployError",
    "InvalidEventError",
    "InvalidInputError",
    "IpmiError",
    "InvalidRulesError",
    "InvalidStepError",
    "LeaseHeldError",
    "NoSlotError",
    "NodeConnectionError",
    "NodeNotFoundError",
    "NotAppliedError",
    "NotEjectedError",
    "NotFoundError",
    "NotInsertedError",
    "OffOriginLinkError",
    "OutcomeUnknown",
    "OverrideNotConsumedError",
    "PreconditionFailedError",
    "ProvisionError",
    "RedfishDecodeError",
    "RedfishError",
    "RedfishHttpError",
    "RedfishMessage",
    "RuleError",
    "RuleFailedError",
    "SlotBusyError",
    "StaleRevisionError",
    "StoreError",
    "UnsupportedOperationError",
    "ValueNotAllowedError",
    "VirtualMediaError",
    "WaitTimeoutError",
]


@dataclass(frozen=True)
class RedfishMessage:
    """One entry of a Redfish ``@Message.ExtendedInfo`` list, as the BMC sent it."""

    message_id: Optional[str] = None
    #: The BMC's text; it may echo request values.
    message: Optional[str] = None
    resolution: Optional[str] = None
    #: ``MessageSeverity``, or the older ``Severity`` when that is all the BMC sent.
    severity: Optional[str] = None
    message_args: Tuple[str, ...] = ()


class InsecureTlsWarning(UserWarning):
    """A client was created with ``verify=False``: anyone on the path can read its credentials.

    Silence it deliberately, for one lab BMC, with :func:`warnings.filterwarnings`.
    """


def _rebuild(cls: Type[FerrofishError], message: str, fields: Dict[str, Any]) -> FerrofishError:
    """Unpickle an exception through its own constructor."""
    return cls(message, **fields)


class FerrofishError(Exception):
    """Base class of every error ferrofish raises.

    ``str(error)`` is the message; the structured details are attributes of the subclasses.
    """

    #: Names of the keyword-only fields; they are attributes and survive pickling.
    _fields: ClassVar[Tuple[str, ...]] = ()

    def __init__(self, message: str) -> None:
        # Only the message goes to the base classes: OSError subclasses (ConnectionError,
        # TimeoutError, PermissionError) would read two arguments as (errno, strerror).
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        parts = [repr(self.message)]
        parts.extend(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({', '.join(parts)})"

    def __reduce__(self) -> Tuple[Any, ...]:
        fields = {name: getattr(self, name) for name in self._fields}
        extra = {
            key: value
            for key, value in self.__dict__.items()
            if key != "message" and key not in self._fields
        }
        return (_rebuild, (type(self), self.message, fields), extra or None)


class BmcConnectionError(FerrofishError, ConnectionError):
    """The BMC could not be reached: connection refused or reset, DNS, TLS."""

    _fields: ClassVar[Tuple[str, ...]] = ("method", "url")

    def __init__(
        self, message: str, *, method: Optional[str] = None, url: Optional[str] = None
    ) -> None:
        super().__init__(message)
        self.method = method
        self.url = url


class BmcTlsError(BmcConnectionError):
    """The TLS handshake failed, usually because the BMC's certificate is not trusted.

    Pass ``verify="bmc-ca.pem"`` with the BMC's CA or self-signed certificate.
    """

    _fields: ClassVar[Tuple[str, ...]] = ("method", "url", "reason")

    def __init__(
        self,
        message: str,
        *,
        method: Optional[str] = None,
        url: Optional[str] = None,
        reason: Optional[str] = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        #: Why the certificate was refused, in a few words; a fingerprint pin's mismatch
        #: names both fingerprints (issue 15).
        self.reason = reason


class BmcTimeoutError(FerrofishError, TimeoutError):
    """The BMC did not answer, or a wait did not finish, in the allowed time."""

    _fields: ClassVar[Tuple[str, ...]] = ("method", "url", "timeout")

    def __init__(
        self,
        message: str,
        *,
        method: Optional[str] = None,
        url: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> None:
        super().__init__(message)
        self.method = method
        self.url = url
        #: The limit that was exceeded, in seconds, when known.
        self.timeout = timeout


class WaitTimeoutError(BmcTimeoutError):
    """A wait for a state (such as a power state) ran out of time.

    ``last`` is the value seen last, so a BMC stuck in ``PoweringOn`` is told apart from one that
    ignored the request.
    """

    _fields: ClassVar[Tuple[str, ...]] = ("url", "timeout", "what", "wanted", "last")

    def __init__(
        self,
        message: str,
        *,
        url: Optional[str] = None,
        timeout: Optional[float] = None,
        what: Optional[str] = None,
        wanted: Optional[str] = None,
        last: Optional[str] = None,
    ) -> None:
        super().__init__(message, url=url, timeout=timeout)
        #: What was waited for, such as ``PowerState``.
        self.what = what
        self.wanted = wanted
        self.last = last


class AuthenticationError(FerrofishError, PermissionError):
    """The BMC refused the credentials (login failed, or re-login after a 401 failed)."""

    _fields: ClassVar[Tuple[str, ...]] = ("url", "status", "messages")

    def __init__(
        self,
        message: str,
        *,
        url: Optional[str] = None,
        status: Optional[int] = None,
        messages: Sequence[RedfishMessage] = (),
    ) -> None:
        super().__init__(message)
        self.url = url
        #: The HTTP status of the refusal; ``None`` when the login broke down another way.
        self.status = status
        self.messages: Tuple[RedfishMessage, ...] = tuple(messages)


class InvalidInputError(FerrofishError, ValueError):
    """An argument was rejected before anything was sent to the BMC."""


class ValueNotAllowedError(InvalidInputError):
    """The BMC does not allow this value; ``allowed`` lists what it advertises."""

    _fields: ClassVar[Tuple[str, ...]] = ("property", "requested", "allowed")

    def __init__(
        self,
        message: str,
        *,
        property: Optional[str] = None,  # noqa: A002 - the Redfish term
        requested: Optional[str] = None,
        allowed: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        #: The Redfish property, such as ``ResetType``.
        self.property = property
        self.requested = requested
        #: The values of ``@Redfish.AllowableValues``; empty when the BMC advertises none.
        self.allowed: Tuple[str, ...] = tuple(allowed)


class UnsupportedOperationError(FerrofishError, NotImplementedError):
    """The BMC does not offer this operation: ``missing`` names the absent action or link."""

    _fields: ClassVar[Tuple[str, ...]] = ("operation", "url", "missing")

    def __init__(
        self,
        message: str,
        *,
        operation: Optional[str] = None,
        url: Optional[str] = None,
        missing: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.operation = operation
        self.url = url
        self.missing = missing


class ClientClosedError(FerrofishError):
    """The client was closed; create a new one."""


class RedfishError(FerrofishError):
    """An error in a Redfish exchange."""


class RedfishHttpError(RedfishError):
    """The BMC answered with an HTTP error status.

    ``messages`` holds the parsed ``@Message.ExtendedInfo``; ``message_id`` is the first
    MessageId, the usual thing to branch on.
    """

    _fields: ClassVar[Tuple[str, ...]] = ("method", "url", "status", "messages")

    def __init__(
        self,
        message: str,
        *,
        method: str,
        url: str,
        status: int,
        messages: Sequence[RedfishMessage] = (),
    ) -> None:
        super().__init__(message)
        self.method = method
        self.url = url
        self.status = status
        self.messages: Tuple[RedfishMessage, ...] = tuple(messages)

    @property
    def message_id(self) -> Optional[str]:
        """The MessageId of the first extended message, such as ``Base.1.8.ResourceNotFound``."""
        for entry in self.messages:
            if entry.message_id is not None:
                return entry.message_id
        return None

    @property
    def message_ids(self) -> Tuple[str, ...]:
        """Every MessageId the BMC sent, in order."""
        return tuple(entry.message_id for entry in self.messages if entry.message_id is not None)


class NotFoundError(RedfishHttpError):
    """HTTP 404: the resource does not exist on this BMC."""


class PreconditionFailedError(RedfishHttpError):
    """HTTP 412: the resource changed since it was read (ETag mismatch)."""


class RedfishDecodeError(RedfishError, ValueError):
    """The BMC's answer is not what Redfish says it should be.

    ``path`` is the JSON path of the offending value, such as ``Members[3].@odata.id``.
    """

    _fields: ClassVar[Tuple[str, ...]] = ("url", "path")

    def __init__(self, message: str, *, url: Optional[str] = None, path: Optional[str] = None) -> None:
        super().__init__(message)
        self.url = url
        self.path = path


class OffOriginLinkError(RedfishError):
    """The BMC linked to another origin; ferrofish did not follow it and sent no credentials."""

    _fields: ClassVar[Tuple[str, ...]] = ("url", "origin")

    def __init__(
        self, message: str, *, url: Optional[str] = None, origin: Optional[str] = None
    ) -> None:
        super().__init__(message)
        #: The link as the BMC wrote it.
        self.url = url
        #: The origin of the configured endpoint, the only one credentials go to.
        self.origin = origin


class NotAppliedError(RedfishError):
    """The BMC accepted a change, but reading it back shows it did not take effect."""

    _fields: ClassVar[Tuple[str, ...]] = ("url", "property", "expected", "actual")

    def __init__(
        self,
        message: str,
        *,
        url: Optional[str] = None,
        property: Optional[str] = None,  # noqa: A002 - the Redfish term
        expected: Optional[str] = None,
        actual: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.url = url
        #: The Redfish property that did not take, such as ``BootSourceOverrideTarget``.
        self.property = property
        self.expected = expected
        #: The value read back; ``None`` when the property is absent.
        self.actual = actual


# BIOS (ferrofish-bios)


@dataclass(frozen=True)
class BiosProblem:
    """One problem of a BIOS profile. No password value is ever in it."""

    #: The name as the profile wrote it (vendor or portable).
    name: str
    #: ``unknown_name``, ``ambiguous``, ``read_only``, ``not_allowed``, ``out_of_bounds``, ...
    kind: str
    #: The problem in words, with the suggestions or allowed values.
    message: str
    #: The vendor attribute it resolved to, when it did.
    attribute: Optional[str] = None
    #: Names to choose from: the closest valid names, or the spellings an ambiguous name has.
    suggestions: Tuple[str, ...] = ()
    #: The allowed values of an enumeration, when the value is not one of them.
    allowed: Tuple[str, ...] = ()


@dataclass(frozen=True)
class BiosAttributeOutcome:
    """What became of one BIOS attribute after an apply."""

    name: str
    #: ``applied``, ``still_pending``, ``rejected``, ``not_applied`` or ``unverifiable``.
    status: str
    #: The BMC's ``MessageId`` when it rejected the value.
    message_id: Optional[str] = None
    #: The BMC's text when it rejected the value.
    message: Optional[str] = None


class BiosValidationError(InvalidInputError):
    """A BIOS profile was refused before anything was sent; ``problems`` lists every problem."""

    _fields: ClassVar[Tuple[str, ...]] = ("problems",)

    def __init__(self, message: str, *, problems: Sequence[BiosProblem] = ()) -> None:
        super().__init__(message)
        self.problems: Tuple[BiosProblem, ...] = tuple(problems)


class BiosNotAppliedError(RedfishError):
    """The BMC accepted BIOS changes but did not apply them all.

    ``report`` has one :class:`BiosAttributeOutcome` per attribute of an apply; after a factory
    reset, ``not_default`` names the attributes not back at their default out of ``checked``.
    """

    _fields: ClassVar[Tuple[str, ...]] = ("report", "not_default", "checked")

    def __init__(
        self,
        message: str,
        *,
        report: Sequence[BiosAttributeOutcome] = (),
        not_default: Sequence[str] = (),
        checked: Optional[int] = None,
    ) -> None:
        super().__init__(message)
        self.report: Tuple[BiosAttributeOutcome, ...] = tuple(report)
        self.not_default: Tuple[str, ...] = tuple(not_default)
        self.checked = checked


# --- Virtual media -------------------------------------------------------------------------
# Image URLs in these exceptions are redacted (scheme, host, port and file name only): the
# image server's URLs carry an access token.


class VirtualMediaError(FerrofishError):
    """A virtual-media operation failed: a slot, an insert or eject, a boot from CD, a config
    drive or the image server. The BMC's own refusals stay :class:`RedfishHttpError`."""


class NoSlotError(VirtualMediaError):
    """No virtual-media slot takes this kind of image; check the BMC's licence and settings."""

    _fields: ClassVar[Tuple[str, ...]] = ("media", "found")

    def __init__(self, message: str, *, media: Optional[str] = None, found: int = 0) -> None:
        super().__init__(message)
        #: The kind asked for: ``"cd"`` or ``"usb"``.
        self.media = media
        #: How many slots there were in all, at System and Manager level.
        self.found = found


class SlotBusyError(VirtualMediaError):
    """A slot holds someone else's image and the BMC refused to eject it."""

    _fields: ClassVar[Tuple[str, ...]] = ("slot", "image", "bmc_message")

    def __init__(
        self,
        message: str,
        *,
        slot: Optional[str] = None,
        image: Optional[str] = None,
        bmc_message: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        #: The slot's ``@odata.id``.
        self.slot = slot
        #: The image it holds (redacted).
        self.image = image
        self.bmc_message = bmc_message


class ImageUnreachableError(VirtualMediaError):
    """The BMC could not download the image: ``bmc_message`` says why (routes, firewall, TLS
    trust, a wrong URL)."""

    _fields: ClassVar[Tuple[str, ...]] = ("image", "bmc_message")

    def __init__(
        self, message: str, *, image: Optional[str] = None, bmc_message: Optional[str] = None
    ) -> None:
        super().__init__(message)
        #: The image URL (redacted).
        self.image = image
        #: What the BMC said.
        self.bmc_message = bmc_message


class ImageRejectedError(VirtualMediaError):
    """The BMC downloaded the image and refused it (a CD slot needs an ISO 9660 image)."""

    _fields: ClassVar[Tuple[str, ...]] = ("image", "bmc_message")

    def __init__(
        self, message: str, *, image: Optional[str] = None, bmc_message: Optional[str] = None
    ) -> None:
        super().__init__(message)
        #: The image URL (redacted).
        self.image = image
        #: What the BMC said.
        self.bmc_message = bmc_message


class InsertFailedError(VirtualMediaError):
    """Every candidate slot refused the insert; ``first`` and ``last`` are their errors."""

    _fields: ClassVar[Tuple[str, ...]] = ("first", "last")

    def __init__(self, message: str, *, first: Optional[str] = None, last: Optional[str] = None) -> None:
        super().__init__(message)
        self.first = first
        self.last = last


class NotInsertedError(VirtualMediaError):
    """The BMC accepted the insert, but reading the slot back does not show the image."""

    _fields: ClassVar[Tuple[str, ...]] = ("slot", "found")

    def __init__(self, message: str, *, slot: Optional[str] = None, found: Optional[str] = None) -> None:
        super().__init__(message)
        self.slot = slot
        #: What the slot's ``Image`` reads (redacted); ``None`` when empty.
        self.found = found


class NotEjectedError(VirtualMediaError):
    """The slot still shows media after an eject."""

    _fields: ClassVar[Tuple[str, ...]] = ("slot",)

    def __init__(self, message: str, *, slot: Optional[str] = None) -> None:
        super().__init__(message)
        self.slot = slot


class OverrideNotConsumedError(VirtualMediaError, TimeoutError):
    """After the reset, the one-time boot override to CD was still pending when the wait ran
    out: the system did not boot, or ignored the override."""

    _fields: ClassVar[Tuple[str, ...]] = ("timeout",)

    def __init__(self, message: str, *, timeout: Optional[float] = None) -> None:
        super().__init__(message)
        #: How long was waited, in seconds.
        self.timeout = timeout


class BootNeverStartedError(VirtualMediaError, TimeoutError):
    """The override was consumed, but ``BootProgress`` never reached an OS state (``last_state``
    is the last one seen): check the image boots on this machine (UEFI or legacy)."""

    _fields: ClassVar[Tuple[str, ...]] = ("timeout", "last_state")

    def __init__(
        self, message: str, *, timeout: Optional[float] = None, last_state: Optional[str] = None
    ) -> None:
        super().__init__(message)
        #: How long was waited, in seconds.
        self.timeout = timeout
        #: ``BootProgress.LastState`` as last read; ``None`` when the BMC reports none.
        self.last_state = last_state


class ConfigDriveError(VirtualMediaError, InvalidInputError):
    """The config drive's input is not usable; nothing was built.

    ``document`` is ``"network_data.json"`` or ``"meta_data.json"``; ``path`` is the JSON path
    of the offending value (such as ``networks[0].ip_address``) when the document does not
    match its schema, ``None`` when the values are well-formed but inconsistent (the message
    names the link or network).
    """

    _fields: ClassVar[Tuple[str, ...]] = ("document", "path")

    def __init__(self, message: str, *, document: Optional[str] = None, path: Optional[str] = None) -> None:
        super().__init__(message)
        self.document = document
        self.path = path


class ImageServerError(VirtualMediaError):
    """The image server could not start (bind, TLS identity) or serve a file, or was stopped."""

    _fields: ClassVar[Tuple[str, ...]] = ("address", "path")

    def __init__(self, message: str, *, address: Optional[str] = None, path: Optional[str] = None) -> None:
        super().__init__(message)
        #: Where it was asked to listen, when binding failed.
        self.address = address
        #: The file or directory that cannot be served, when that is the problem.
        self.path = path


# --- IPMI (IpmiClient) -------------------------------------------------------------------------


class IpmiError(FerrofishError):
    """The BMC refused an IPMI command or answered with something unusable.

    ``completion_code`` is the reply's completion code (``0xC1``, ...) when the BMC refused the
    command, with ``completion_code_name`` its Rust name (``"InvalidCommand"``,
    ``"InsufficientPrivilege"``, ``"CommandSpecific"``, ...); both are ``None`` for a reply that
    did not decode or a boot device that reads back differently.
    """

    _fields: ClassVar[Tuple[str, ...]] = ("address", "command", "completion_code", "completion_code_name")

    def __init__(
        self,
        message: str,
        *,
        address: Optional[str] = None,
        command: Optional[str] = None,
        completion_code: Optional[int] = None,
        completion_code_name: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        #: The BMC as ``host:port``.
        self.address = address
        #: The command, such as ``"chassis control"`` or ``"raw request"``.
        self.command = command
        self.completion_code = completion_code
        self.completion_code_name = completion_code_name


class OutcomeUnknown(FerrofishError):
    """A command that is not safe to repeat (a power action, a raw request) got no reply.

    The BMC may have run it and lost only the replies, or never received it: ferrofish did not
    send it again (a second power cycle is a second outage). Read the state back (for example
    ``IpmiClient.power_state()``) and send the command again only if it did not run. Not a
    ``TimeoutError`` on purpose, so a generic retry-on-timeout handler does not repeat it.
    """

    _fields: ClassVar[Tuple[str, ...]] = ("address", "command", "attempts")

    def __init__(
        self,
        message: str,
        *,
        address: Optional[str] = None,
        command: Optional[str] = None,
        attempts: Optional[int] = None,
    ) -> None:
        super().__init__(message)
        self.address = address
        self.command = command
        #: Datagrams sent for it (the first try plus the retransmissions).
        self.attempts = attempts


# --- Inspection rules (``ferrofish.rules``) ------------------------------------------------


class RuleError(FerrofishError):
    """An inspection rule could not be read or applied; the node was left as it was.

    ``rule`` is the index of the rule in the file (0-based; ``None`` when the file as a whole
    is wrong), ``description`` its description, ``pointer`` the JSON pointer of the element at
    fault in the rules file (``/0/conditions/1/op``, or an action's ``/0/actions/3``) and
    ``action`` the index of the action that could not be applied. No field, and not the
    message, carries a value read from the data, the node or a rule's operand.
    """

    _fields: ClassVar[Tuple[str, ...]] = ("rule", "description", "pointer", "action")

    def __init__(
        self,
        message: str,
        *,
        rule: Optional[int] = None,
        description: Optional[str] = None,
        pointer: Optional[str] = None,
        action: Optional[int] = None,
    ) -> None:
        super().__init__(message)
        self.rule = rule
        self.description = description
        self.pointer = pointer
        self.action = action


class InvalidRulesError(RuleError, InvalidInputError):
    """The rules file is not valid: not JSON (the message gives line and column), or a rule in
    it is malformed (``rule`` and ``pointer`` say which element)."""


class RuleFailedError(RuleError):
    """A rule's ``fail`` action ran: inspection must stop, with the rule's message."""


# --- Provisioning (``ferrofish.provision``) ---------------------------------------------------


class ProvisionError(FerrofishError):
    """Provisioning refused a request or its infrastructure failed (store, BMC connection).

    A failed *operation* is not an exception: the node goes to its failure state with
    ``last_error`` set, and ``advance`` returns a ``"failed"`` result. ``node`` is the node's
    name when the error concerns one.
    """

    _fields: ClassVar[Tuple[str, ...]] = ("node",)

    def __init__(self, message: str, *, node: Optional[str] = None) -> None:
        super().__init__(message)
        self.node = node


class InvalidEventError(ProvisionError, InvalidInputError):
    """The event is not allowed in the node's state, or an operation is under way; nothing
    changed. ``allowed`` lists the events the state accepts."""

    _fields: ClassVar[Tuple[str, ...]] = ("node", "state", "event", "allowed", "reason")

    def __init__(
        self,
        message: str,
        *,
        node: Optional[str] = None,
        state: Optional[str] = None,
        event: Optional[str] = None,
        allowed: Sequence[str] = (),
        reason: Optional[str] = None,
    ) -> None:
        super().__init__(message, node=node)
        #: The node's state (``"available"``).
        self.state = state
        #: The event refused (``"clean"``).
        self.event = event
        #: The events the state accepts (``("deploy", "manage")``); empty when none.
        self.allowed: Tuple[str, ...] = tuple(allowed)
        #: More detail, such as the operation under way.
        self.reason = reason


class InvalidStepError(ProvisionError, InvalidInputError):
    """A clean step is not one ferrofish runs, or its arguments are wrong; nothing changed.
    ``index`` is the step's index in the list (0-based)."""

    _fields: ClassVar[Tuple[str, ...]] = ("node", "index")

    def __init__(self, message: str, *, node: Optional[str] = None, index: Optional[int] = None) -> None:
        super().__init__(message, node=node)
        self.index = index


class InvalidDeployError(ProvisionError, InvalidInputError):
    """The deploy request is not usable (image URL, network data); nothing changed."""


class StaleRevisionError(ProvisionError):
    """The node was written by someone else since ``revision`` was read: reload and retry."""

    _fields: ClassVar[Tuple[str, ...]] = ("node", "revision")

    def __init__(self, message: str, *, node: Optional[str] = None, revision: Optional[int] = None) -> None:
        super().__init__(message, node=node)
        #: The revision the refused writer had.
        self.revision = revision


class LeaseHeldError(ProvisionError):
    """Another holder's lease on the node is in force: that process drives it now."""

    _fields: ClassVar[Tuple[str, ...]] = ("node", "holder", "remaining")

    def __init__(
        self,
        message: str,
        *,
        node: Optional[str] = None,
        holder: Optional[str] = None,
        remaining: Optional[float] = None,
    ) -> None:
        super().__init__(message, node=node)
        #: Who holds the lease.
        self.holder = holder
        #: Seconds until it lapses unless renewed.
        self.remaining = remaining


class NodeNotFoundError(ProvisionError, LookupError):
    """No node of that name is enrolled in the store."""


class AlreadyEnrolledError(ProvisionError):
    """A node of that name is enrolled already."""


class StoreError(ProvisionError):
    """The state store failed (database error, unreadable node document)."""

    _fields: ClassVar[Tuple[str, ...]] = ("node", "operation")

    def __init__(self, message: str, *, node: Optional[str] = None, operation: Optional[str] = None) -> None:
        super().__init__(message, node=node)
        #: What was being done (``"save"``, ``"load"``, ...); ``None`` for a bad document.
        self.operation = operation


class NodeConnectionError(ProvisionError, ConnectionError):
    """The node's BMC could not be connected to: unreachable, refused credentials, or the
    environment variable its ``password_env`` names is not set (the message says which)."""
