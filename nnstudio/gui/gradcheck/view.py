"""The gradient-check tab: the commands, a summary line, the status tree, tabs for the
heatmap, the table, the histogram, the settings and the guide, and the element detail,
kept in step with the controller. It fits the ~550 px between the main window's docks.

The view follows the check by default: after each bundle the heatmap shows the tensor of
the element checked last and frames that element. Picking another tensor in the tree
turns following off; "Follow the check" turns it back on.
"""
from __future__ import annotations

import html

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtWidgets import (QCheckBox, QFrame, QScrollArea, QSplitter, QTabWidget,
                               QTextBrowser, QVBoxLayout, QWidget)

from nnstudio.engine.gradcheck import SELECTED, ElementResult

from .controller import CheckController
from .controls import CheckControls
from .element_detail import ElementDetail
from .example import SCENARIO_SCHEME, SCENARIOS
from .heatmap import HeatmapView
from .histogram import ErrorHistogram
from .phase_bar import PhaseBar
from .settings import SettingsForm
from .status import status_text
from .store import CheckProgress, DisplayResults
from .summary_line import SummaryLine
from .table import ResultsTable
from .tree import StatusTree

REDRAW_CAVEAT = ("The dropout mask was re-drawn for every evaluation, so f(θ+h) and f(θ−h) "
                 "are different functions: this shows why the mask must be fixed, not that "
                 "the backward pass is wrong.")
UNSEEN_FAULT_CAVEAT = ("A fault is injected, yet nothing disagrees: the faulty code path is not "
                       "used in this setting (e.g. BatchNorm on running statistics has no "
                       "batch mean or variance to differentiate). Try batch statistics.")
#: from this width on, the tree stands left of the heatmap instead of above it
WIDE_LAYOUT_WIDTH = 1000
TREE_MIN_HEIGHT = 90
DETAIL_MIN_HEIGHT = 90
#: tabs that show no results: a run started from one of them shows the heatmap
NO_RESULT_TABS = ("Settings", "Guide")
FINISHED_TEXTS = {"stopped": "Stopped.", "step": "", "mismatch": "", "done": "", "error": ""}


class GradCheckView(QWidget):
    """See the module docstring. ``message`` carries text for the status line."""

    message = Signal(str)

    def __init__(self, controller: CheckController, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("gradcheckView")
        self.controller = controller
        self.controls = CheckControls()
        self.phase_bar = PhaseBar(controller)
        self.summary = SummaryLine()
        self.settings = SettingsForm()
        self.tree = StatusTree()
        self.heatmap = HeatmapView()
        self.detail = ElementDetail()
        self.table = ResultsTable()
        self.histogram = ErrorHistogram()
        self.guide = QTextBrowser()
        self.guide.setOpenLinks(False)  # scenario links are handled here, not navigated
        self.follow = QCheckBox("Follow the check")
        self.follow.setChecked(True)
        self.follow.setToolTip("Show the tensor of the element checked last")
        self.shown_tensor: str | None = None
        self._programmatic_selection = False
        self._build_layout()
        self._connect()
        self._apply_settings()

    # -- construction ---------------------------------------------------------------------
    def _build_layout(self) -> None:
        # Between the docks of a 1440-px window the view is ~550 px wide: the commands wrap,
        # the tree sits above the tabs and the element's numbers. A wide view (docks
        # closed, big screen) puts the tree on the left instead (see ``resizeEvent``).
        heatmap_page = QWidget()
        heatmap_layout = QVBoxLayout(heatmap_page)
        heatmap_layout.setContentsMargins(2, 2, 2, 0)
        heatmap_layout.addWidget(self.follow)
        heatmap_layout.addWidget(self.heatmap, 1)
        self.heatmap_page = heatmap_page
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for page, title in ((heatmap_page, "Heatmap"), (self.table, "Elements"),
                            (self.histogram, "Histogram"), (_scrolled(self.settings), "Settings"),
                            (self.guide, "Guide")):
            self.tabs.addTab(page, title)
        self.main_split = QSplitter(Qt.Orientation.Vertical)
        self.main_split.setChildrenCollapsible(False)
        self.main_split.addWidget(self.tabs)
        detail_scroll = _scrolled(self.detail)
        detail_scroll.setMinimumHeight(DETAIL_MIN_HEIGHT)
        self.main_split.addWidget(detail_scroll)
        self.main_split.setStretchFactor(0, 3)
        self.main_split.setStretchFactor(1, 1)
        self.body = QSplitter(Qt.Orientation.Vertical)
        self.body.setChildrenCollapsible(False)
        self.body.addWidget(self.tree)
        self.body.addWidget(self.main_split)
        self.body.setStretchFactor(0, 1)
        self.body.setStretchFactor(1, 3)
        self.tree.setMinimumHeight(TREE_MIN_HEIGHT)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.controls)
        layout.addWidget(self.phase_bar)
        layout.addWidget(self.summary)
        layout.addWidget(self.body, 1)
        self._arranged_for: Qt.Orientation | None = None

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._arrange()

    def _arrange(self) -> None:
        """Tree above the rest when narrow, beside it when wide. The shares are set when the
        view is first shown and when the arrangement changes; otherwise they are the user's."""
        wide = self.width() >= WIDE_LAYOUT_WIDTH
        orientation = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
        if orientation == self._arranged_for or not self.isVisible():
            return
        self._arranged_for = orientation
        self.body.setOrientation(orientation)
        self.layout().activate()  # the splitters get their new lengths before the shares
        tree_share, detail_share = (0.36, 0.24) if wide else (0.28, 0.22)
        _share(self.body, tree_share)
        _share(self.main_split, 1 - detail_share)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self._arrange()

    def _connect(self) -> None:
        controller = self.controller
        self.controls.command.connect(self.run_command)
        self.controls.stop_requested.connect(controller.stop)
        self.controls.reset_requested.connect(controller.reset)
        self.settings.changed.connect(self._apply_settings)
        controller.started.connect(self._on_started)
        controller.results.connect(self._on_results)
        controller.progress.connect(self._on_progress)
        controller.cleared.connect(self._on_cleared)
        controller.finished.connect(self._on_finished)
        controller.state_changed.connect(self._on_state)
        self.tree.tensor_selected.connect(self._on_tree_selection)
        self.heatmap.element_clicked.connect(self.show_element_at)
        self.table.element_activated.connect(self._on_table_activated)
        self.follow.toggled.connect(self._on_follow_toggled)
        self.guide.anchorClicked.connect(self._on_guide_link)

    # -- commands -------------------------------------------------------------------------
    def run_command(self, until: str) -> bool:
        if not self._apply_settings():
            return False
        started = self.controller.command(until)
        if started and self.tabs.tabText(self.tabs.currentIndex()) in NO_RESULT_TABS:
            self.tabs.setCurrentWidget(self.heatmap_page)  # show what the check finds
        return started

    def _apply_settings(self) -> bool:
        try:
            settings = self.settings.check_settings()
        except ValueError as exc:
            self.summary.show_text(f"Settings: {exc}", "fail")
            return False
        self.controller.set_settings(settings)
        self.heatmap.set_tolerance(settings.config.rtol)
        self.histogram.set_tolerance(settings.config.rtol)
        if self.controller.store is None:
            self.summary.show_progress(None)
        return True

    # -- controller events ----------------------------------------------------------------
    @property
    def store(self) -> DisplayResults | None:
        return self.controller.store

    def _on_started(self, _store: DisplayResults) -> None:
        self.table.clear()
        self.detail.show_result(None)
        self.shown_tensor = None
        self.heatmap.show_grid(None)

    def _on_progress(self, progress: CheckProgress) -> None:
        if self.tree.tensor_names() != [info.name for info in progress.tensors]:
            self.tree.show_plan(progress, self._layer_notes())
        else:
            self.tree.show_progress(progress)
        self.summary.show_progress(progress, self.controller.state == "running", self._caveat())
        if self.shown_tensor is None and progress.tensors:
            self.show_tensor(progress.tensors[0].name)
        self.histogram.show_counts(self.store)

    def _on_results(self, results: list[ElementResult]) -> None:
        self.table.append(results)
        if not results:
            return
        last = results[-1]
        if self.follow.isChecked() and last.tensor != self.shown_tensor:
            self.show_tensor(last.tensor)
        else:
            self._refresh_heatmap()
        if self.follow.isChecked():
            self.heatmap.set_current(last.flat_index)
            self._show_detail(last)

    def _on_finished(self, reason: str) -> None:
        progress = self.controller.last_progress
        self.summary.show_progress(progress, False, self._caveat())
        if self.follow.isChecked() and progress is not None:
            self._show_worst_mismatch(progress)
        if reason == "done" and progress is not None and progress.finished:
            self.message.emit("The gradient check is complete.")
        elif FINISHED_TEXTS.get(reason):
            self.message.emit(f"Gradient check: {FINISHED_TEXTS[reason]}")

    def _on_cleared(self, why: str) -> None:
        self.tree.clear_check()
        self.table.clear()
        self.heatmap.show_grid(None)
        self.detail.show_result(None)
        self.histogram.show_counts(None)
        self.shown_tensor = None
        self.summary.show_progress(None)
        if why:
            self.message.emit(why)

    def _on_state(self, state: str) -> None:
        running = state == "running"
        self.controls.set_running(running)
        self.settings.setEnabled(not running)

    # -- selection ------------------------------------------------------------------------
    def show_tensor(self, name: str) -> None:
        """Show ``name`` in the heatmap (and select it in the tree and the table filter)."""
        self.shown_tensor = name
        self._programmatic_selection = True
        try:
            self.tree.select_tensor(name)
        finally:
            self._programmatic_selection = False
        self.table.set_selected_tensor(name)
        self._refresh_heatmap()

    def _refresh_heatmap(self) -> None:
        store, name = self.store, self.shown_tensor
        grid = None if store is None or name is None else store.grids.get(name)
        if grid is None:
            self.heatmap.show_grid(None)
            return
        self.heatmap.show_grid(grid, self._heatmap_title(name))

    def _heatmap_title(self, name: str) -> str:
        info = self.store.grids[name].info
        progress = self.controller.last_progress
        summary = None if progress is None else progress.summary(name)
        status = status_text(summary.status) if summary is not None else ""
        shape = "×".join(str(n) for n in info.shape)
        what = (f"the gradient {info.layer_label} returns for its input" if info.is_input
                else f"{info.param} of layer {info.layer_index} {info.layer_label}")
        return (f"<b>{html.escape(name)}</b> — {html.escape(what)} ({shape}) &nbsp; "
                f"<b>{status}</b> &nbsp; colour: log10 relative error")

    def _show_worst_mismatch(self, progress: CheckProgress) -> None:
        """After a run, show where the check found a wrong gradient (if it did): the
        culprit's wrong tensor (else the first with mismatches) and its worst element,
        rather than the last one checked."""
        first = [name for c in progress.culprits for name in c.tensors]
        ordered = sorted(progress.tensor_summaries, key=lambda s: s.name not in first)
        for summary in ordered:
            if summary.mismatch and summary.worst is not None:
                self.show_tensor(summary.name)
                self.heatmap.set_current(summary.worst.flat_index)
                self._show_detail(summary.worst)
                return

    def _on_tree_selection(self, name: str) -> None:
        if not self._programmatic_selection and name != self.shown_tensor:
            self.follow.setChecked(False)  # the user wants to look at this tensor
        if name != self.shown_tensor:
            self.show_tensor(name)

    def _on_follow_toggled(self, on: bool) -> None:
        store = self.store
        if on and store is not None and store.results:
            last = store.results[-1]
            self.show_tensor(last.tensor)
            self.heatmap.set_current(last.flat_index)

    def show_element_at(self, flat_index: int) -> None:
        """Show one element of the shown tensor (a heatmap click)."""
        store, name = self.store, self.shown_tensor
        if store is None or name is None:
            return
        self.heatmap.set_current(flat_index)
        result = store.result_at(name, flat_index)
        self._show_detail(result, note=f"{name} element {flat_index} has not been checked yet.")

    def _on_table_activated(self, result: ElementResult) -> None:
        self.follow.setChecked(False)
        self.show_tensor(result.tensor)
        self.heatmap.set_current(result.flat_index)
        self._show_detail(result)

    # -- helpers --------------------------------------------------------------------------
    def _tolerance(self) -> tuple[float, float] | None:
        return self.controller.tolerance()

    def _caveat(self) -> str:
        """A sentence that changes how to read the verdict, or ""."""
        phase, progress = self.controller.shown_phase, self.controller.last_progress
        if phase is None:
            return ""
        checker = phase.checker
        if phase.notes:
            return " ".join(f"Note: {note}." for note in phase.notes)
        if checker.config.dropout == "redraw":
            return REDRAW_CAVEAT
        if progress is not None and progress.finished and progress.passed and self._layer_notes():
            return UNSEEN_FAULT_CAVEAT
        return ""

    def _show_detail(self, result: ElementResult | None, note: str = "") -> None:
        self.detail.show_result(result, self._tolerance(), note=note, caveat=self._caveat())

    def _layer_notes(self) -> dict[int, str]:
        """Injected faults of the checked copy, to flag them in the tree."""
        phase = self.controller.shown_phase
        if phase is None:
            return {}
        network = phase.checker.objective.network
        notes = {i: f"fault {layer.fault}" for i, layer in enumerate(network.layers)
                 if layer.fault}
        if network.loss.fault:
            last = len(network.layers) - 1
            notes[last] = "; ".join(filter(None, [notes.get(last),
                                                  f"loss fault {network.loss.fault}"]))
        return notes

    def set_guide(self, markdown: str) -> None:
        self.guide.setMarkdown(markdown)

    def run_scenario(self, name: str) -> bool:
        """Set the check up as the guide's scenario ``name`` says, and run all of it."""
        scenario = SCENARIOS[name]
        if self.controller.state == "running":
            return False
        self.settings.set_phases(SELECTED)  # the scenario's own statistics and mask
        self.settings.set_bn_stats(scenario.bn_stats)
        self.settings.set_dropout(scenario.dropout)
        self.controller.reset()
        self.follow.setChecked(True)
        self.tabs.setCurrentWidget(self.heatmap_page)
        return self.run_command("end")

    def _on_guide_link(self, url: QUrl) -> None:
        if url.scheme() == SCENARIO_SCHEME and url.path().startswith("scenario/"):
            name = url.path().split("/", 1)[1]
            if name in SCENARIOS:
                self.run_scenario(name)


def _scrolled(widget: QWidget) -> QScrollArea:
    """``widget`` in a frameless scroll area that resizes it: it may be shown smaller than
    its minimum size, with scroll bars, instead of widening the view."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(widget)
    return area


def _share(splitter: QSplitter, first: float) -> None:
    """Give the first of two panes ``first`` of the splitter's length, the second the rest."""
    horizontal = splitter.orientation() == Qt.Orientation.Horizontal
    length = (splitter.width() if horizontal else splitter.height()) - splitter.handleWidth()
    splitter.setSizes([round(length * first), length - round(length * first)])
