"""The address rules of outbound requests: only public unicast addresses, unless the operator allows."""

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.errors import Invalid
from app.domain.outbound import BlockedAddress, OutboundPolicy, address_kind, check_scheme, parse_address

pytestmark = pytest.mark.core

BLOCKED = {
    "127.0.0.1": "loopback",
    "127.255.0.9": "loopback",
    "0.0.0.0": "unspecified",
    "10.0.0.1": "private",
    "172.16.0.1": "private",
    "192.168.1.1": "private",
    "169.254.169.254": "link-local",
    "100.64.0.1": "non-public",
    "224.0.0.251": "multicast",
    "240.0.0.1": "private",
    "255.255.255.255": "private",
    "192.0.2.10": "private",
    "::1": "loopback",
    "::": "unspecified",
    "fe80::1": "link-local",
    "fec0::1": "site-local",
    "fc00::1": "private",
    "fd12:3456::1": "private",
    "ff02::1": "multicast",
    "::ffff:127.0.0.1": "loopback",
    "::ffff:169.254.169.254": "link-local",
    "::ffff:10.1.2.3": "private",
    "::127.0.0.1": "reserved",
    "64:ff9b::7f00:1": "loopback",
    "2002:a9fe:a9fe::1": "link-local",
    "2001:db8::1": "private",
}
PUBLIC = ["93.184.215.14", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]


@pytest.mark.parametrize(("text", "kind"), BLOCKED.items())
def test_non_public_addresses_are_named(text, kind):
    address = parse_address(text)
    assert address is not None
    assert address_kind(address) == kind
    with pytest.raises(BlockedAddress) as raised:
        OutboundPolicy().check("example.test", [address])
    assert raised.value.status_code == 403
    assert text not in raised.value.message


@pytest.mark.parametrize("text", PUBLIC)
def test_public_addresses_pass(text):
    address = parse_address(text)
    assert address is not None
    assert address_kind(address) is None
    OutboundPolicy().check("example.test", [address])


def test_one_non_public_answer_refuses_the_host():
    answers = [ipaddress.ip_address("8.8.8.8"), ipaddress.ip_address("127.0.0.1")]
    with pytest.raises(BlockedAddress):
        OutboundPolicy().check("rebind.test", answers)


def test_allow_private_lets_everything_through():
    OutboundPolicy(allow_private=True).check("x", [ipaddress.ip_address("127.0.0.1")])


def test_allowlist_of_networks_addresses_and_hosts():
    policy = OutboundPolicy.from_settings(False, ["10.1.0.0/16", " 192.168.5.5 ", "ML.internal.", ""])
    policy.check("a", [ipaddress.ip_address("10.1.200.3")])
    policy.check("a", [ipaddress.ip_address("::ffff:10.1.200.3")])
    policy.check("a", [ipaddress.ip_address("192.168.5.5")])
    policy.check("ml.internal", [ipaddress.ip_address("10.9.9.9")])
    for other in ("10.2.0.1", "192.168.5.6", "127.0.0.1"):
        with pytest.raises(BlockedAddress):
            policy.check("a", [ipaddress.ip_address(other)])


def test_only_http_and_https():
    check_scheme("http")
    check_scheme("HTTPS")
    for scheme in ("file", "gopher", "ftp", "dict", "(none)"):
        with pytest.raises(Invalid, match=scheme.replace("(", r"\(").replace(")", r"\)")):
            check_scheme(scheme)


def test_parse_address_tells_names_from_literals():
    assert parse_address("example.com") is None
    assert parse_address("2130706433") is None  # resolved, then judged by the answer
    assert parse_address("::1") == ipaddress.ip_address("::1")


@given(st.ip_addresses(v=4))
def test_mapped_ipv6_is_judged_like_its_ipv4(address):
    mapped = ipaddress.IPv6Address(f"::ffff:{address}")
    assert address_kind(mapped) == address_kind(address)


@given(st.ip_addresses(network="10.0.0.0/8") | st.ip_addresses(network="127.0.0.0/8"))
def test_private_and_loopback_ranges_are_refused(address):
    assert address_kind(address) in ("private", "loopback")
