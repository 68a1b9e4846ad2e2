"""*File ▸ Export to PyTorch…*: the session's network as PyTorch code in a chosen folder.

The export itself is :func:`nnstudio.export.export_pytorch` (no Qt, no torch); this module
asks for the folder and reports the outcome: an injected fault, a custom layer without
``to_torch()`` or an unwritable folder is shown in a dialog that names it.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from nnstudio.export import ExportError, export_pytorch


def export_to_pytorch(window) -> Path | None:
    """Ask for a folder and export into it; return the folder, or None."""
    session = window.session
    if window.controller.computing():
        window.show_status("Pause or stop training before exporting.")
        return None
    snapshot = session.snapshot()  # a copy: nothing the export does touches the session
    if snapshot.network is None:
        window.show_error("Cannot export to PyTorch", session.network_error or "there is no network")
        return None
    start = str(Path(session.path).parent) if session.path else str(Path.home())
    folder = QFileDialog.getExistingDirectory(window, "Export to PyTorch: choose a folder", start)
    if not folder:
        return None
    name = Path(session.path).name if session.path else "an unsaved NN Studio session"
    trainer = window.controller.trainer
    moments = (trainer.optimizer.state_dict()
               if trainer is not None and trainer.network is session.network
               and trainer.config.optimizer == snapshot.train_config.optimizer else None)
    try:
        result = export_pytorch(snapshot.network, folder, dataset=snapshot.dataset,
                                train_config=snapshot.train_config,
                                eval_bn_stats=snapshot.bn_stats, optimizer_state=moments,
                                about=f"Exported by NN Studio from {name}.")
    except (ExportError, ValueError, OSError) as exc:  # UserCodeError is a ValueError
        window.show_error("Cannot export to PyTorch", f"{folder}:\n{exc}")
        return None
    files = ", ".join(path.name for path in result.files)
    window.show_status(f"Exported to {result.directory}: {files}.")
    return result.directory
