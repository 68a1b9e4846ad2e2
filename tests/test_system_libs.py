"""The desktop check that runs before Qt: missing xcb libraries are named, never Qt's abort."""
import io
import os
import subprocess
import sys
from pathlib import Path

from nnstudio import system_libs

ROOT = Path(__file__).resolve().parents[1]


def only_missing(*sonames):
    return lambda soname: soname not in sonames


def test_missing_libraries_are_named_with_their_packages_and_the_command():
    loadable = only_missing("libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1")
    assert system_libs.missing_packages(loadable) == ["libxcb-cursor0", "libxcb-icccm4",
                                                      "libxcb-keysyms1"]
    message = system_libs.desktop_problem({"DISPLAY": ":0"}, ["app.py"], loadable)
    assert "libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1" in message
    assert "apt-get install -y libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1" in message


def test_other_platforms_are_not_checked():
    loadable = only_missing("libxcb-cursor.so.0")
    assert system_libs.desktop_problem({"QT_QPA_PLATFORM": "offscreen"}, ["app.py"], loadable) is None
    assert system_libs.desktop_problem({"DISPLAY": ":0"}, ["app.py", "-platform", "offscreen"],
                                       loadable) is None
    assert system_libs.uses_xcb({}, ["app.py", "-platform", "xcb"])


def test_no_display_is_said_plainly():
    message = system_libs.desktop_problem({}, ["app.py"], lambda soname: True)
    assert "DISPLAY is not set" in message


def test_install_runs_apt_get_for_exactly_the_missing_packages(monkeypatch):
    calls = []
    monkeypatch.setattr(system_libs.os, "geteuid", lambda: 0)
    monkeypatch.setattr(system_libs.shutil, "which", lambda name: f"/usr/bin/{name}")
    code = system_libs.install(lambda argv, env: calls.append(argv) or 0,
                               only_missing("libxcb-cursor.so.0"), io.StringIO())
    assert code == 0
    assert calls[0][:2] == ["apt-get", "update"]
    assert calls[1][:4] == ["apt-get", "install", "-y", "libxcb-cursor0"]


def test_install_without_rights_prints_the_command_and_exits_2(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(system_libs.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(system_libs.shutil, "which", lambda name: None)
    code = system_libs.install(lambda *a, **k: 1 / 0, only_missing("libxcb-icccm.so.4"), out)
    assert code == 2
    assert "sudo apt-get install -y libxcb-icccm4" in out.getvalue()


def test_window_without_libraries_exits_2_with_the_packages(monkeypatch, capsys):
    from nnstudio.gui.launch import run_app

    monkeypatch.setattr(system_libs, "_loadable", only_missing("libxcb-cursor.so.0"))
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setenv("DISPLAY", ":0")
    assert run_app(None) == 2
    error = capsys.readouterr().err
    assert "libxcb-cursor0" in error and "apt-get install" in error


def test_app_without_a_display_exits_2_instead_of_aborting():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["QT_QPA_PLATFORM"] = "xcb"
    result = subprocess.run([sys.executable, str(ROOT / "app.py")], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    # on a machine without the xcb libraries the message names them first
    assert "DISPLAY is not set" in result.stderr or "apt-get install" in result.stderr


def test_install_does_nothing_off_linux(monkeypatch):
    monkeypatch.setattr(system_libs.sys, "platform", "darwin")
    assert system_libs.install(lambda *a, **k: 1 / 0, lambda soname: False, io.StringIO()) == 0
