#!/usr/bin/env python3
"""Writes the hand-made seed corpora under fuzz/corpus/<target>/ (standard library only).

The IPMI seeds are valid packets for the keys and randoms the targets use (see
ipmi/src/fuzzing.rs), so the fuzzer starts past every check; the Redfish seeds are small
bodies and header values in the shapes real BMCs send. Re-run after changing a seed:
    python3 fuzz/seeds.py
"""
import hashlib
import hmac
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

CONSOLE_SID = 0xA0A2A3A4
BMC_SID = 0x11223344
RM = bytes([7] * 16)
RC = bytes([9] * 16)
GUID = bytes([5] * 16)
ROLE = 0x14  # administrator | name-only lookup
USER = b"admin"
PASSWORD = b"password"


def write(target, name, data):
    directory = os.path.join(ROOT, target)
    os.makedirs(directory, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def checksum(data):
    return (-sum(data)) & 0xFF


def ipmi_response(net_fn, command, cc, data, rq_seq=1):
    head = bytes([0x81, (net_fn << 2)])
    body = bytes([0x20, rq_seq << 2, command, cc]) + bytes(data)
    return head + bytes([checksum(head)]) + body + bytes([checksum(body)])


def rmcp_plus(payload_type, payload, session_id=0, sequence=0, trailer=b""):
    return (bytes([0x06, 0x00, 0xFF, 0x07, 0x06, payload_type])
            + struct.pack("<IIH", session_id, sequence, len(payload)) + payload + trailer)


def h(key, *parts, alg=hashlib.sha256):
    return hmac.new(key, b"".join(parts), alg).digest()


def ipmi_seeds():
    t = "decode_datagram"
    # Open Session Response accepting suite 17 (auth 03h, integrity 04h, AES 01h).
    algs = (bytes([0, 0, 0, 8, 0x03, 0, 0, 0]) + bytes([1, 0, 0, 8, 0x04, 0, 0, 0])
            + bytes([2, 0, 0, 8, 0x01, 0, 0, 0]))
    open_reply = (bytes([0, 0, 4, 0]) + struct.pack("<II", CONSOLE_SID, BMC_SID) + algs)
    write(t, "open_session_response_17", bytes([16]) + rmcp_plus(0x11, open_reply))
    sidm, sidc = struct.pack("<I", CONSOLE_SID), struct.pack("<I", BMC_SID)
    tail = bytes([ROLE, len(USER)]) + USER
    for selector, alg, name in [(16, hashlib.sha256, "17"), (45, hashlib.sha1, "3")]:
        code = h(PASSWORD, sidm, sidc, RM, RC, GUID, tail, alg=alg)
        rakp2 = bytes([0, 0, 0, 0]) + sidm + RC + GUID + code
        write(t, f"rakp2_valid_{name}", bytes([selector]) + rmcp_plus(0x13, rakp2))
    sik = h(PASSWORD, RM, RC, tail)
    icv = h(sik, RM, sidc, GUID)[:16]
    write(t, "rakp4_valid_17", bytes([16]) + rmcp_plus(0x15, bytes([0, 0, 0, 0]) + sidm + icv))
    write(t, "rakp2_unknown_user", bytes([16]) + rmcp_plus(0x13, bytes([0, 0x0D, 0, 0]) + sidm))
    # An in-session, authenticated (K1 = 32 x 02h), unencrypted Get Device ID reply.
    device_id = ipmi_response(0x07, 0x01, 0, [0x20, 0x81, 0x02, 0x10, 0x02, 0xBF,
                                               0x7C, 0x2A, 0x00, 0x34, 0x12])
    signed_header = rmcp_plus(0x40, device_id, session_id=1, sequence=1)[4:]
    pad = (-(len(signed_header) + 2)) % 4
    signed = signed_header + b"\xff" * pad + bytes([pad, 0x07])
    code = h(bytes([2] * 32), signed)[:16]
    write(t, "in_session_device_id_17", bytes([16]) + bytes([0x06, 0, 0xFF, 0x07]) + signed + code)
    # IPMI 1.5 Get Channel Authentication Capabilities reply, and an ASF pong.
    caps = ipmi_response(0x07, 0x38, 0, [0x01, 0x80, 0x04, 0x02, 0, 0, 0, 0], rq_seq=0)
    write(t, "ipmi15_auth_caps", bytes([0]) + bytes([0x06, 0, 0xFF, 0x07, 0, 0, 0, 0, 0, 0, 0, 0, 0, len(caps)]) + caps)
    pong = (bytes([0x06, 0, 0xFF, 0x06]) + struct.pack(">IBBBB", 4542, 0x40, 0, 0, 16)
            + struct.pack(">II", 4542, 0) + bytes([0x81, 0, 0, 0, 0, 0, 0, 0]))
    write(t, "asf_pong", bytes([0]) + pong)
    # Raw reply data for the parsers: cipher suite records with an OEM one, chassis status.
    write(t, "cipher_suite_records_oem", bytes([0])
          + bytes.fromhex("c00301418 1c1807c2a0001418 1c0110344 81".replace(" ", "")))
    write(t, "chassis_status_data", bytes([0, 0x01, 0x00, 0x40, 0x00]))

    t = "ipmi_session_decode"
    get_device_id = ipmi_response(0x07, 0x01, 0, [0x20, 0x81, 0x02, 0x10, 0x02, 0xBF,
                                                  0x7C, 0x2A, 0x00, 0x34, 0x12])
    chassis = ipmi_response(0x01, 0x01, 0, [0x01, 0x00, 0x40, 0x00], rq_seq=5)
    write(t, "suite17_device_id", bytes([0]) + struct.pack("<I", 1) + get_device_id)
    write(t, "suite3_chassis_status", bytes([1]) + struct.pack("<I", 7) + chassis)
    write(t, "unencrypted_max_sequence", bytes([4]) + struct.pack("<I", 0xFFFFFFFF) + chassis)
    write(t, "sequence_zero", bytes([0]) + struct.pack("<I", 0) + chassis)
    write(t, "bad_checksum", bytes([0]) + struct.pack("<I", 2) + get_device_id[:-1] + b"\x00")
    write(t, "ciphertext_as_sent", bytes([2]) + struct.pack("<I", 3) + bytes(range(48)))
    write(t, "short_ciphertext", bytes([3]) + struct.pack("<I", 3) + bytes(range(20)))


def redfish_seeds():
    t = "redfish_error_body"
    write(t, "extended_info_list", '{"error":{"code":"Base.1.8.GeneralError","message":"x",'
          '"@Message.ExtendedInfo":[{"MessageId":"Base.1.8.PropertyUnknown","Message":"m",'
          '"MessageArgs":["Foo",3],"Severity":"Warning"},{"MessageId":"IDRAC.2.8.SYS518"}]}}')
    write(t, "extended_info_object", '{"error":{"@Message.ExtendedInfo":'
          '{"MessageId":"iLO.2.14.UnauthorizedLoginAttempt"}}}')
    write(t, "top_level_info", '{"@Message.ExtendedInfo":[{"MessageId":"Base.1.0.Success"}]}')
    write(t, "code_and_message_only", '{"error":{"code":"500","message":"Internal error"}}')
    write(t, "not_json", "<html><body>502 Bad Gateway</body></html>")

    t = "redfish_lenient_models"
    write(t, "service_root_dell", '{"@odata.id":"/redfish/v1","RedfishVersion":"1.17.0",'
          '"Vendor":"Dell","Product":"Integrated Dell Remote Access Controller",'
          '"Systems":{"@odata.id":"/redfish/v1/Systems"},"Oem":{"Dell":{}},'
          '"ProtocolFeaturesSupported":{"ExpandQuery":{"ExpandAll":true,"Levels":true,'
          '"MaxLevels":1}},"SessionService":{"@odata.id":"/redfish/v1/SessionService"}}')
    write(t, "system_quirky", '{"@odata.id":"/redfish/v1/Systems/1","Id":"1","PowerState":"On",'
          '"MemorySummary":{"TotalSystemMemoryGiB":"N/A"},"ProcessorSummary":{"Count":"2"},'
          '"Boot":{"BootSourceOverrideTarget":"Pxe","BootSourceOverrideEnabled":"Once",'
          '"BootSourceOverrideTarget@Redfish.AllowableValues":["Pxe","Hdd","UsbCd"]},'
          '"EthernetInterfaces":null,"Links":{"ManagedBy":[{"@odata.id":"/redfish/v1/Managers/1"}]}}')
    write(t, "manager_hpe", '{"@odata.id":"/redfish/v1/Managers/1","FirmwareVersion":"iLO 5 v2.72",'
          '"ManagerType":"BMC","Oem":{"Hpe":{"Firmware":{"Current":{"VersionString":"iLO 5 v2.72"}}}}}')
    write(t, "collection", '{"@odata.id":"/redfish/v1/Systems","Members@odata.count":2,'
          '"Members":[{"@odata.id":"/redfish/v1/Systems/1"},{"@odata.id":"/redfish/v1/Systems/2"}],'
          '"Members@odata.nextLink":"/redfish/v1/Systems?$skip=2"}')
    write(t, "task_exception", '{"@odata.id":"/redfish/v1/TaskService/Tasks/7","TaskState":"Exception",'
          '"PercentComplete":40,"Messages":[{"MessageId":"Base.1.8.InternalError"}]}')

    t = "redfish_etag"
    write(t, "weak_gzip", b"\x01" + b'W/"abc-gzip"')
    write(t, "strong", b"\x00" + b'"0123456789abcdef"')
    write(t, "unquoted", b"\x00" + b"1a2b3c")
    write(t, "empty", b"\x00" + b'""')

    t = "redfish_retry_after"
    write(t, "seconds", "120")
    write(t, "huge_seconds", "99999999999999999999")
    write(t, "date_past", "Sun, 06 Nov 1994 08:49:37 GMT")
    write(t, "date_future", "Fri, 01 Jan 2027 00:00:00 GMT")
    write(t, "garbage", "soon")

    t = "redfish_firmware_version"
    write(t, "hpe", "iLO 5 v2.72")
    write(t, "lenovo", "TEI3A8A-3.10")
    write(t, "dell", "7.00.00.171")
    write(t, "suffix", " 1.2.3-rc4 ")
    write(t, "no_digits", "unknown")


if __name__ == "__main__":
    ipmi_seeds()
    redfish_seeds()
