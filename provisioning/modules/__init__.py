"""Panel modules, one file each, found by name."""

from __future__ import annotations

import requests

from .base import Connection, Module
from .cpanel import CpanelModule
from .generic import GenericModule
from .proxmox import ProxmoxModule

MODULES: dict[str, type[Module]] = {
    module.name: module for module in (CpanelModule, ProxmoxModule, GenericModule)
}


def get_module(
    name: str, connection: Connection, session: requests.Session | None = None
) -> Module:
    try:
        return MODULES[name](connection, session)
    except KeyError:
        raise LookupError(f"No provisioning module named {name!r}.") from None
