"""New / Open / Save / Save As of ``.nnproj`` projects, recent files, the unsaved-changes
prompt, and PNG export of the curves.

Reading and writing are ``nnstudio.project``'s (``load_project``, ``save_project``); this
module chooses paths, keeps the recent-files list in QSettings and reports problems in a
dialog that names them. A project that fails to open leaves the current session as it was.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from nnstudio.data import make_builtin
from nnstudio.project import ProjectError, load_project, save_project

from . import messages
from .project_layers import ensure_project_layers

PROJECT_FILTER = "NN Studio projects (*.nnproj);;All files (*)"
RECENT_KEY = "recent_files"
MAX_RECENT = 8
#: data files up to this size are embedded in the project so it opens anywhere
EMBED_LIMIT_BYTES = 20 * 2**20


class ProjectFiles(QObject):
    """File actions of the main window (``window.files``)."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.session = window.session
        self.controller = window.controller
        self.settings = window.settings
        self._recent_menu: QMenu | None = None
        self._embed_answers: dict[tuple[str, str], bool] = {}

    def display_name(self) -> str:
        return Path(self.session.path).name if self.session.path else "untitled"

    # -- new / open -------------------------------------------------------------------------
    def _refuse_if_training(self, what: str) -> bool:
        reason = self.session.edit_refusal(what)
        if reason:
            self.window.show_status(reason)
            return True
        return False

    def new_project(self) -> bool:
        if self._refuse_if_training("start a new project") or not self.maybe_save():
            return False
        self.session.start_new(make_builtin("iris"))
        self.window.show_status("New project on the Iris dataset.")
        return True

    def open_dialog(self) -> bool:
        if self._refuse_if_training("open a project") or not self.maybe_save():
            return False
        start = str(Path(self.session.path).parent) if self.session.path else ""
        path, _ = QFileDialog.getOpenFileName(self.window, "Open project", start, PROJECT_FILTER)
        return bool(path) and self.open_project(path)

    def open_project(self, path: str) -> bool:
        """Open ``path``; on any problem show it and keep the current session."""
        if self._refuse_if_training("open a project"):
            return False
        if not ensure_project_layers(self.window, str(path)):  # asks before running any file
            return False
        try:
            project = load_project(path)
        except (ProjectError, ValueError, OSError) as exc:
            self.window.show_error("Cannot open the project", f"{path}:\n{exc}")
            return False
        dataset, note = project.dataset, project.data_note
        if dataset is None:
            dataset = self._fallback_dataset(project)
            if dataset is None:
                self.window.show_error("Cannot open the project",
                                       f"{path}:\nits data could not be loaded ({note}).")
                return False
        trainer = None
        try:
            trainer = project.make_trainer(dataset)
            if project.resume_notes:  # say what of the saved run starts afresh
                note = "; ".join(([note] if note else []) + project.resume_notes)
        except ProjectError as exc:
            note = f"training will restart: {exc}"
        self.session.adopt(project.network, dataset, project.train_config)
        self.controller.adopt_trainer(trainer)
        self._show_history(project.history)
        self.session.set_path(str(path))
        self.session.set_modified(False)
        self.add_recent(str(path))
        self.window.show_status(f"Opened {Path(path).name}" + (f" ({note})" if note else "."))
        return True

    def _fallback_dataset(self, project):
        """The current dataset, if the project's network fits it."""
        current, network = self.session.dataset, project.network
        if (current is not None and network.input_dim == current.n_features
                and network.output_dim == current.n_outputs):
            return current
        return None

    def _show_history(self, history: list[dict]) -> None:
        if not history:
            return
        curves = self.window.curves
        curves.set_metric_name(history[-1].get("metric_name", "accuracy"))
        curves.add_epochs(*([entry.get(key) for entry in history] for key in
                            ("epoch", "train_loss", "val_loss", "train_metric", "val_metric")))
        curves.redraw()

    # -- save -----------------------------------------------------------------------------
    def save(self) -> bool:
        if not self.session.path:
            return self.save_as()
        return self.write(self.session.path)

    def save_as(self) -> bool:
        start = self.session.path or str(Path.home() / "untitled.nnproj")
        path, _ = QFileDialog.getSaveFileName(self.window, "Save project as", start,
                                              PROJECT_FILTER)
        if not path:
            return False
        if not path.lower().endswith(".nnproj"):
            path += ".nnproj"
        return self.write(path)

    def write(self, path: str) -> bool:
        """Save the session to ``path`` (between batches only: not while a batch runs)."""
        session = self.session
        if self.controller.computing():
            self.window.show_status("Pause or stop training before saving.")
            return False
        if session.network is None:
            self.window.show_error("Cannot save the project", session.network_error or "no network")
            return False
        trainer = self.controller.trainer
        if trainer is not None and trainer.network is session.network:
            training = self.controller.ensure_trainer() if self.controller.state == "idle" else trainer
        else:
            training = session.train_config
        try:
            save_project(path, session.network, session.dataset, training,
                         embed_data=self._should_embed(path))
        except (ProjectError, ValueError, OSError) as exc:
            self.window.show_error("Cannot save the project", f"{path}:\n{exc}")
            return False
        session.set_path(str(path))
        session.set_modified(False)
        session.undo_stack.setClean()
        self.add_recent(str(path))
        self.window.show_status(f"Saved {Path(path).name}.")
        return True

    def _should_embed(self, project_path: str) -> bool:
        source = getattr(self.session.dataset, "source", "")
        if not source or str(source).startswith("builtin:"):
            return False
        try:
            data, folder = Path(source).resolve(), Path(project_path).resolve().parent
            if data.stat().st_size > EMBED_LIMIT_BYTES:
                return False
        except OSError:
            return False
        if data.is_relative_to(folder):
            return True
        # a file from elsewhere (perhaps named by a project someone sent) is copied into a
        # project the user may pass on only if they agree; asked once per file and folder
        key = (str(data), str(folder))
        if key not in self._embed_answers:
            self._embed_answers[key] = messages.ask_embed_outside(self.window, str(data), str(folder))
        return self._embed_answers[key]

    def maybe_save(self) -> bool:
        """Ask about unsaved changes; True if it is fine to go on (saved or discarded)."""
        if not self.session.modified:
            return True
        answer = messages.ask_save_changes(self.window, self.display_name())
        if answer == "save":
            return self.save()
        return answer == "discard"

    # -- recent files ---------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.settings.value(RECENT_KEY, [])
        if isinstance(value, str):
            value = [value]
        return [str(p) for p in (value or [])]

    def add_recent(self, path: str) -> None:
        path = str(Path(path).resolve())
        files = [path] + [p for p in self.recent_files() if p != path]
        self.settings.setValue(RECENT_KEY, files[:MAX_RECENT])
        self.settings.sync()

    def attach_recent_menu(self, menu: QMenu) -> None:
        self._recent_menu = menu
        menu.aboutToShow.connect(self._fill_recent_menu)
        self._fill_recent_menu()

    def _fill_recent_menu(self) -> None:
        menu = self._recent_menu
        menu.clear()
        files = self.recent_files()
        for path in files:
            action = menu.addAction(Path(path).name)
            action.setStatusTip(path)
            action.triggered.connect(lambda _checked=False, p=path: self._open_recent(p))
        if not files:
            menu.addAction("(none)").setEnabled(False)

    def _open_recent(self, path: str) -> None:
        if not self._refuse_if_training("open a project") and self.maybe_save():
            self.open_project(path)

    # -- other files ----------------------------------------------------------------------
    def export_curves(self) -> bool:
        start = str(Path(self.session.path or str(Path.home() / "curves")).with_suffix(".png"))
        path, _ = QFileDialog.getSaveFileName(self.window, "Export curves as PNG", start,
                                              "PNG images (*.png)")
        if not path:
            return False
        if not path.lower().endswith(".png"):
            path += ".png"
        try:
            self.window.curves.export_png(path)
        except OSError as exc:
            self.window.show_error("Cannot export the curves", str(exc))
            return False
        self.window.show_status(f"Curves saved to {path}.")
        return True

    def show_about(self) -> None:
        QMessageBox.information(self.window, "About NN Studio",
                                "NN Studio: build, train and gradient-check small neural "
                                "networks. numpy engine, PySide6 + pyqtgraph interface.")
