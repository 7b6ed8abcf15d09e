"""Which addresses the source fetcher may contact: public ones only, whatever the spelling."""

from __future__ import annotations

import pytest

from rag.corpus.addresses import address_refusal


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("10.1.2.3", "a private"),
        ("172.16.0.1", "a private"),
        ("172.31.255.254", "a private"),
        ("192.168.1.1", "a private"),
        ("fd12:3456::1", "a private"),
        ("127.0.0.1", "a loopback"),
        ("127.9.9.9", "a loopback"),
        ("::1", "a loopback"),
        ("::ffff:127.0.0.1", "a loopback"),
        ("::ffff:10.0.0.1", "a private"),
        ("64:ff9b::a00:1", "a private"),  # NAT64 form of 10.0.0.1
        ("2002:7f00:1::", "a loopback"),  # 6to4 form of 127.0.0.1
        ("169.254.169.254", "a cloud metadata"),
        ("::ffff:169.254.169.254", "a cloud metadata"),
        ("fd00:ec2::254", "a cloud metadata"),
        ("169.254.1.1", "a link-local"),
        ("fe80::1", "a link-local"),
        ("0.0.0.0", "an unspecified"),
        ("::", "an unspecified"),
        ("224.0.0.1", "a multicast"),
        ("ff02::1", "a multicast"),
        ("240.0.0.1", "a private"),  # reserved range; Python files it under private
        ("100.64.0.1", "a non-public"),
    ],
)
def test_inner_addresses_are_refused(address: str, kind: str) -> None:
    assert address_refusal(address) == f"{address} is {kind} address"


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert address_refusal(address) is None
    assert address_refusal(address, allow_loopback=True) is None


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:127.0.0.1"])
def test_allow_loopback_allows_only_loopback(address: str) -> None:
    assert address_refusal(address, allow_loopback=True) is None


@pytest.mark.parametrize("address", ["10.0.0.1", "169.254.169.254", "192.168.0.1", "0.0.0.0"])
def test_allow_loopback_still_refuses_the_rest(address: str) -> None:
    assert address_refusal(address, allow_loopback=True) is not None


def test_not_an_address() -> None:
    assert address_refusal("tass.ru") == "tass.ru is not an IP address"
