"""Finding the submissions in a folder (one folder or zip per student) and unpacking zips safely.

Nothing is ever written into the submissions folder: a zip is extracted into a temporary
folder, and a folder is only read (the sandbox copies it).
"""
from __future__ import annotations

import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MAX_MEMBERS = 2000
MAX_UNPACKED = 64 * 2**20


@dataclass(frozen=True)
class Submission:
    student: str
    path: Path          # a folder or a .zip

    @property
    def is_zip(self) -> bool:
        return self.path.suffix.lower() == ".zip" and self.path.is_file()


def find_submissions(folder: str | Path) -> list[Submission]:
    """One entry per student folder or zip, sorted by student id; raises ValueError for a
    missing folder or two entries with the same student id."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder}: no such submissions folder")
    found: dict[str, Submission] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith((".", "_")) or entry.is_symlink():
            continue
        if entry.is_dir():
            student = entry.name
        elif entry.suffix.lower() == ".zip" and entry.is_file():
            student = entry.stem
        else:
            continue
        if student in found:
            raise ValueError(f"{folder}: student {student!r} has both {found[student].path.name} "
                             f"and {entry.name}; keep one")
        found[student] = Submission(student, entry)
    return list(found.values())


def unpack(submission: Submission, scratch: Path) -> Path:
    """The folder to grade: the student's folder itself, or the zip extracted under
    ``scratch``. Raises ValueError (naming the member) for an unsafe or broken zip."""
    if not submission.is_zip:
        return submission.path
    target = scratch / "unzipped"
    target.mkdir(parents=True)
    try:
        with zipfile.ZipFile(submission.path) as archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                raise ValueError(f"{submission.path.name}: more than {MAX_MEMBERS} files")
            total = 0
            for member in members:
                relative = _safe_member(submission.path.name, member)
                if relative is None:
                    continue
                total += member.file_size
                if total > MAX_UNPACKED:
                    raise ValueError(f"{submission.path.name}: unpacks to more than "
                                     f"{MAX_UNPACKED // 2**20} MB")
                destination = target.joinpath(*relative.parts)
                if member.is_dir():
                    destination.mkdir(parents=True, exist_ok=True)
                    continue
                destination.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as source, open(destination, "wb") as out:
                    shutil.copyfileobj(source, out)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
        raise ValueError(f"{submission.path.name} is not a readable zip file ({exc})") from None
    return target


def _safe_member(zip_name: str, member: zipfile.ZipInfo) -> PurePosixPath | None:
    """The member's relative path, None to skip it (macOS metadata), ValueError if unsafe."""
    name = member.filename.replace("\\", "/")
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise ValueError(f"{zip_name}: member {member.filename!r} would be written outside "
                         "its folder")
    if stat.S_ISLNK(member.external_attr >> 16):
        raise ValueError(f"{zip_name}: member {member.filename!r} is a symbolic link")
    if not path.parts or path.parts[0] == "__MACOSX" or path.name == ".DS_Store":
        return None
    return path


def locate(folder: Path, required: str) -> Path | None:
    """The folder that holds ``required`` (a relative path): ``folder`` itself, or the one
    folder inside it that does (students often zip the folder around their file)."""
    if (folder / required).is_file():
        return folder
    parts = PurePosixPath(required).parts
    matches = [p for p in folder.rglob(parts[-1])
               if p.is_file() and p.parts[-len(parts):] == parts and "__MACOSX" not in p.parts]
    if len(matches) != 1:
        return None
    root = matches[0]
    for _ in parts:
        root = root.parent
    return root


def listing(folder: Path, limit: int = 12) -> str:
    """A short list of what a submission holds, for a 'missing' message."""
    names = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    if not names:
        return "the submission is empty"
    shown = ", ".join(names[:limit]) + (f", … ({len(names) - limit} more)" if len(names) > limit else "")
    return f"it holds: {shown}"


def scratch_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="nnstudio-unzip-"))
