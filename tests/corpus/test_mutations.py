"""Random byte mutations of a small project file: every one either loads (and its summary
prints, and training can resume) or is refused with a ProjectError. Nothing else escapes."""
from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnstudio.commands.info import format_summary, project_summary
from nnstudio.project import ProjectError, load_project

from .conftest import trained_project

_FOLDER = Path(tempfile.mkdtemp(prefix="nnstudio-mutations-"))
ORIGINAL = trained_project(_FOLDER / "original.nnproj", epochs=1).read_bytes()
TARGET = _FOLDER / "mutated.nnproj"

mutation = st.tuples(st.integers(0, len(ORIGINAL) - 1), st.integers(1, 255),
                     st.sampled_from(["xor", "set", "delete", "insert"]))


def mutate(data: bytes, changes) -> bytes:
    buffer = bytearray(data)
    for offset, value, how in changes:
        offset = min(offset, len(buffer) - 1)
        if how == "xor":
            buffer[offset] ^= value
        elif how == "set":
            buffer[offset] = value
        elif how == "delete":
            del buffer[offset]
        else:
            buffer.insert(offset, value)
    return bytes(buffer)


@settings(max_examples=2000, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutation, min_size=1, max_size=3))
def test_a_mutated_project_loads_or_is_refused_with_a_project_error(changes):
    TARGET.write_bytes(mutate(ORIGINAL, changes))
    try:
        project = load_project(TARGET)
    except ProjectError:
        return
    format_summary(project_summary(project))
    try:
        project.make_trainer()
    except ProjectError:
        pass
