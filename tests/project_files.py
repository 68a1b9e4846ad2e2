"""Reading and rewriting the members of a saved project (a zip), for tests that damage one."""
from __future__ import annotations

import json
import zipfile


def members_of(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_members(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def edit_json(path, change):
    """Rewrite project.json through ``change(document)``."""
    members = members_of(path)
    document = json.loads(members["project.json"])
    change(document)
    members["project.json"] = json.dumps(document).encode()
    return write_members(path, members)
