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

    def confirm_replace(self, what: str) -> bool:
        """Before anything that replaces the session (or its weights and curves): refused
        while training, and unsaved changes are offered for saving first."""
        return not self._refuse_if_training(what) and self.maybe_save()

    def new_project(self) -> bool:
        if not self.confirm_replace("start a new project"):
            return False
        self.session.start_new(make_builtin("iris"))
        self.window.show_status("New project on the Iris dataset.")
        return True

    def open_dialog(self) -> bool:
        if not self.confirm_replace("open a project"):
            return False
        path, _ = QFileDialog.getOpenFileName(self.window, "Open project", self.start_folder(),
                                              PROJECT_FILTER)
        return bool(path) and self.open_project(path, ask=False)

    def open_project(self, path: str, ask: bool = True) -> bool:
        """Open ``path``; on any problem show it and keep the current session.

        With ``ask``, unsaved changes are offered for saving first (callers that asked
        already pass False).
        """
        if not (self.confirm_replace("open a project") if ask else
                not self._refuse_if_training("open a project")):
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
        self.window.show_restored_progress()
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
        # batch losses are not saved: the batch plot gets each epoch's mean at its last step
        steps = [entry.get("step") for entry in history]
        if all(isinstance(step, int) for step in steps):
            curves.add_saved_epoch_means(steps, [entry.get("train_loss") for entry in history])
        curves.finish_run()

    # -- save -----------------------------------------------------------------------------
    def save(self) -> bool:
        if not self.session.path:
            return self.save_as()
        return self.write(self.session.path)

    def start_folder(self) -> str:
        """Where file dialogs start: beside the project, else beside the data, else the
        last project opened, else the working directory."""
        candidates = [self.session.path, getattr(self.session.dataset, "source", None)]
        candidates += self.recent_files()[:1]
        for candidate in candidates:
            if candidate and not str(candidate).startswith("builtin:"):
                folder = Path(candidate).parent
                if folder.is_dir():
                    return str(folder)
        return str(Path.cwd())

    def save_as(self) -> bool:
        if self.session.path:
            start = self.session.path
        else:
            source = getattr(self.session.dataset, "source", "") or ""
            stem = Path(source).stem if source and not source.startswith("builtin:") else (
                source.split(":", 1)[-1] if source else "untitled")
            start = str(Path(self.start_folder()) / f"{stem}.nnproj")
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
        self.open_project(path, ask=True)

    # -- other files ----------------------------------------------------------------------
    def export_curves(self) -> bool:
        start = str(Path(self.session.path).with_suffix(".png")) if self.session.path else str(
            Path(self.start_folder()) / "curves.png")
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
