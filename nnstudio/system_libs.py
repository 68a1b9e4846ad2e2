"""The system libraries Qt's xcb platform (a desktop X display) needs, checked without Qt.

Since Qt 6.5 the xcb platform plugin links against ``libxcb-cursor0`` and a few other xcb
helper libraries that a fresh Debian or Ubuntu desktop does not always have. Without them Qt
prints "no Qt platform plugin could be initialized" and aborts the process, which a student
starting the app from a launcher never sees. So the window checks first, with ``ctypes``
(no Qt import), and says which packages to install; ``python -m nnstudio.system_libs
--install`` installs them with apt-get (as root, or through sudo).

Only the standard library is used: the module runs before anything else is importable.
"""
from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys

#: shared library -> Debian/Ubuntu package, everything libqxcb.so and Qt's GUI module load
XCB_LIBRARIES = {
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
}
EXIT_BAD_INPUT = 2


def _loadable(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def missing_packages(loadable=None) -> list[str]:
    """Packages whose libraries the dynamic loader cannot find, in install order.

    ``loadable(soname) -> bool`` is the probe (default: ``ctypes.CDLL`` succeeds).
    """
    loadable = loadable or _loadable
    return [package for soname, package in XCB_LIBRARIES.items() if not loadable(soname)]


def install_command(packages: list[str], root: bool | None = None,
                    have_sudo: bool | None = None) -> list[str]:
    """The apt-get command line that installs ``packages`` (with sudo when not root)."""
    root = os.geteuid() == 0 if root is None else root
    have_sudo = shutil.which("sudo") is not None if have_sudo is None else have_sudo
    prefix = [] if root or not have_sudo else ["sudo"]
    return prefix + ["apt-get", "install", "-y", *packages]


def uses_xcb(environ=None, argv=None) -> bool:
    """Whether Qt would start on its xcb platform (Linux, not offscreen/wayland/...)."""
    environ = os.environ if environ is None else environ
    argv = sys.argv if argv is None else argv
    if not sys.platform.startswith("linux"):
        return False
    if "-platform" in argv[:-1]:
        return argv[argv.index("-platform") + 1].split(":")[0] == "xcb"
    chosen = environ.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0]
    if chosen:
        return chosen == "xcb"
    return not (environ.get("WAYLAND_DISPLAY") and environ.get("XDG_SESSION_TYPE") == "wayland")


def desktop_problem(environ=None, argv=None, loadable=None) -> str | None:
    """A message saying why the window cannot open on this display, or None.

    Names the missing packages and the command that installs them; or says that there is
    no X display to open a window on.
    """
    environ = os.environ if environ is None else environ
    if not uses_xcb(environ, argv):
        return None
    missing = missing_packages(loadable)
    if missing:
        command = " ".join(install_command(missing))
        return ("Qt's desktop (xcb) platform needs system libraries that are missing: "
                f"{', '.join(missing)}.\nInstall them with:\n    {command}\n"
                "(or run: python -m nnstudio.system_libs --install)")
    if not environ.get("DISPLAY"):
        return ("there is no X display to open the window on (DISPLAY is not set). Start it "
                "from a desktop session, or headless with QT_QPA_PLATFORM=offscreen.")
    return None


def install(run=subprocess.call, loadable=None, out=None) -> int:
    """Install the missing packages with apt-get; 0 when nothing is missing afterwards."""
    out = out or sys.stdout
    if not sys.platform.startswith("linux"):
        return 0  # Qt's wheels bring what they need on macOS and Windows
    missing = missing_packages(loadable)
    if not missing:
        print("Qt's xcb platform libraries are all installed.", file=out)
        return 0
    root = os.geteuid() == 0
    if shutil.which("apt-get") is None or not (root or shutil.which("sudo")):
        command = " ".join(install_command(missing, root=False, have_sudo=True))
        print(f"Missing system packages for Qt's desktop platform: {', '.join(missing)}.\n"
              f"Install them (as an administrator) with:\n    {command}", file=out)
        return EXIT_BAD_INPUT
    prefix = [] if root else ["sudo"]
    print(f"Installing {', '.join(missing)} (needed by Qt's desktop platform)…", file=out)
    environ = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if run(prefix + ["apt-get", "update", "-qq"], env=environ) != 0:
        return EXIT_BAD_INPUT
    if run(install_command(missing, root=root, have_sudo=not root) + ["-qq"], env=environ) != 0:
        return EXIT_BAD_INPUT
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--install":
        return install()
    if not sys.platform.startswith("linux"):
        return 0
    missing = missing_packages()
    if missing:
        print(" ".join(missing))
        return EXIT_BAD_INPUT
    return 0


if __name__ == "__main__":
    sys.exit(main())
