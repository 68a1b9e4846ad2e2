"""The check commands: step element / tensor / layer, run to the next mismatch, run all,
stop, reset; plus the fault menu and report export buttons. They flow onto as many rows as
the view's width needs (one on a wide window, two between the docks)."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QPushButton, QSizePolicy, QToolButton, QWidget

from ..style import icon
from .flow_layout import FlowLayout

#: (until, button text, tooltip)
COMMANDS = (
    ("element", "Step element", "Check the next element"),
    ("tensor", "Step tensor", "Check the rest of the current tensor"),
    ("layer", "Step layer", "Check the rest of the current layer"),
    ("mismatch", "Run to next mismatch", "Check until an element's gradient is wrong"),
    ("end", "Run all", "Check every planned element"),
)


class CheckControls(QWidget):
    """Emits ``command(until)``, ``stop_requested`` and ``reset_requested``."""

    command = Signal(str)
    stop_requested = Signal()
    reset_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        layout = FlowLayout(self)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.buttons: dict[str, QPushButton] = {}
        for until, text, tip in COMMANDS:
            button = QPushButton(text)
            button.setToolTip(tip)
            button.setObjectName(f"gradcheck_{until}")
            button.clicked.connect(lambda _checked=False, u=until: self.command.emit(u))
            layout.addWidget(button)
            self.buttons[until] = button
        self.buttons["element"].setIcon(icon("step"))
        self.buttons["end"].setIcon(icon("play"))
        self.stop_button = QPushButton(icon("stop"), "Stop")
        self.stop_button.setToolTip("Stop the check after the element being computed")
        self.stop_button.clicked.connect(self.stop_requested)
        self.reset_button = QPushButton(icon("reset"), "Reset")
        self.reset_button.setToolTip("Forget the results; the next step starts a new check")
        self.reset_button.clicked.connect(self.reset_requested)
        layout.addWidget(self.stop_button)
        layout.addWidget(self.reset_button)
        self.fault_button = QToolButton()
        self.fault_button.setText("Inject fault ▾")
        self.fault_button.setToolTip("Break a layer's backward pass on purpose and watch the "
                                     "check find it")
        self.fault_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        # the text's ▾ says there is a menu; the style's own arrow would overlap it
        self.fault_button.setStyleSheet("QToolButton::menu-indicator { image: none; }")
        self.export_button = QPushButton("Export report…")
        layout.addWidget(self.fault_button)
        layout.addWidget(self.export_button)
        self.set_running(False)

    def set_running(self, running: bool) -> None:
        for button in self.buttons.values():
            button.setEnabled(not running)
        self.fault_button.setEnabled(not running)
        self.export_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
