"""Random byte mutations of a small project file: every one either loads (and its summary
prints, and training can resume) or is refused with a ProjectError. Nothing else escapes."""
from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnstudio.commands.info import format_summary, project_summary
from nnstudio.project import ProjectError, load_project

from tests.project_files import members_of, write_members

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
    load_summarize_and_resume(TARGET)


def load_summarize_and_resume(path):
    """What a user does with a file: any failure on the way must be a ProjectError."""
    try:
        project = load_project(path)
    except ProjectError:
        return
    format_summary(project_summary(project))
    try:
        project.make_trainer()
    except ProjectError:
        pass


def _paths(value, prefix=()):
    """Every (path, value) inside a JSON document."""
    yield prefix, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, prefix + (index,))


DOCUMENT = json.loads(members_of(_FOLDER / "original.nnproj")["project.json"])
PATHS = [path for path, _ in _paths(DOCUMENT) if path]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=4)


@settings(max_examples=1000, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PATHS), json_values)
def test_a_project_json_value_replaced_by_any_other_loads_or_is_refused(path, value):
    document = copy.deepcopy(DOCUMENT)
    holder = document
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value
    members = members_of(_FOLDER / "original.nnproj")
    members["project.json"] = json.dumps(document).encode()
    write_members(TARGET, members)
    load_summarize_and_resume(TARGET)
