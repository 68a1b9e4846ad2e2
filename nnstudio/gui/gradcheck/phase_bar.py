"""Which phase of the check the view shows: fit, predict (or the one selected phase).

Lists the phases of the current check with their verdict so far; picking one shows its
results again (the controller keeps each phase's store). Hidden when a check has one phase.
"""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from nnstudio.engine.gradcheck.phases import PHASE_TEXT

from .controller import CheckController


class PhaseBar(QWidget):
    def __init__(self, controller: CheckController, parent=None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.picker = QComboBox()
        self.picker.setToolTip("Each phase is a check of its own: pick one to see its results")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Phase:"))
        layout.addWidget(self.picker, 1)
        self.picker.activated.connect(self._on_picked)
        controller.phases_changed.connect(self.refresh)
        controller.progress.connect(lambda _progress: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        phases = self.controller.phases
        self.setVisible(len(phases) > 1)
        self.picker.blockSignals(True)
        try:
            self.picker.clear()
            for phase in phases:
                progress = phase.progress
                if progress.checked == 0:
                    state = "not started"
                elif progress.finished:
                    state = "✓ PASS" if progress.passed else "✗ FAIL"
                else:
                    state = f"{progress.checked:,} of {progress.planned:,} checked" + \
                        ("" if progress.passed else ", ✗ failing")
                self.picker.addItem(f"{PHASE_TEXT[phase.name]} — {state}")
            if phases:
                self.picker.setCurrentIndex(self.controller.shown)
        finally:
            self.picker.blockSignals(False)

    def _on_picked(self, index: int) -> None:
        if not self.controller.show_phase(index):
            self.picker.setCurrentIndex(self.controller.shown)

    def phase_texts(self) -> list[str]:
        return [self.picker.itemText(i) for i in range(self.picker.count())]

