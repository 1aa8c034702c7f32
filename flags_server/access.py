"""Who may use the admin API: loopback peers only.

Kept as a pure function of the peer address so the refusal of a remote
peer can be tested without a second machine.
"""

from __future__ import annotations

import ipaddress


def is_loopback_peer(peer: str | None) -> bool:
    """True when the peer address is loopback (127.0.0.0/8, ::1, ::ffff:127.x)."""
    if not peer:
        return False
    try:
        addr = ipaddress.ip_address(peer.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_loopback
