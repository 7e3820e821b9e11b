"""Who can reach the chat: it listens on loopback unless another address is asked for."""

from __future__ import annotations

import fcntl
import socket
import struct
import urllib.request
from pathlib import Path

import pytest

from assistant import chat

SIOCGIFADDR = 0x8915  # Linux ioctl: an interface's IPv4 address


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening_addresses(port: int) -> set[str]:
    """The local IPv4 addresses with a socket listening on `port`, read from the kernel's table."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hexport = local.split(":")
        if int(hexport, 16) == port and state == "0A":  # 0A: LISTEN
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


def _other_address() -> str | None:
    """An IPv4 address of this machine's interfaces that is not loopback, if it has one."""
    for _, name in socket.if_nameindex():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                packed = fcntl.ioctl(s.fileno(), SIOCGIFADDR, struct.pack("256s", name.encode()[:15]))
            except OSError:
                continue  # no IPv4 address on this interface
        address = socket.inet_ntoa(packed[20:24])
        if not address.startswith("127."):
            return address
    return None


def _reachable(address: str, port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{address}:{port}/", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.mark.parametrize("host, expected", [(None, "127.0.0.1"), ("0.0.0.0", "0.0.0.0")])
def test_the_chat_binds_where_it_is_told(shipped, host, expected):
    port = _free_port()
    app = chat.serve(shipped, host=host, port=port, block=False)
    try:
        assert _listening_addresses(port) == {expected}, f"listening on {_listening_addresses(port)}"
        assert _reachable("127.0.0.1", port), "the chat answers on loopback"
        other = _other_address()
        if other:
            # From another interface: refused by default, open once 0.0.0.0 is chosen.
            assert _reachable(other, port) == (expected == "0.0.0.0"), (
                f"reachable on {other}: {_reachable(other, port)}"
            )
    finally:
        app.close()
