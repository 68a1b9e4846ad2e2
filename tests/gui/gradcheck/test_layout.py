"""The gradient-check view fits the main window as it opens (1440×900, docks on both sides)
without scrolling sideways, shows the heatmap when a check finds a mismatch, and spreads
out when it is given room."""
from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QScrollArea

from nnstudio.engine.gradcheck import MISMATCH

from .conftest import press
from .test_view import red_pixels


def rect_in(widget, ancestor) -> QRect:
    """``widget``'s rectangle in ``ancestor``'s coordinates."""
    return QRect(widget.mapTo(ancestor, QPoint(0, 0)), widget.size())


def test_the_view_fits_between_the_docks_at_1440_by_900(qtbot, studio):
    window, parts = studio
    view, views = parts.view, window.views
    qtbot.waitUntil(lambda: view.isVisible() and view.width() > 0)
    assert (window.width(), window.height()) == (1440, 900)
    assert window.docks["Network"].isVisible() and window.docks["Training"].isVisible()
    assert views.width() < 700  # the docks take the rest: this is the narrow case
    assert view.minimumSizeHint().width() <= views.width()
    page = views.widget(parts.tab_index)
    if isinstance(page, QScrollArea):
        assert not page.horizontalScrollBar().isVisible()
    assert views.rect().contains(rect_in(view, views))
    controls = view.controls
    for button in [*controls.buttons.values(), controls.stop_button, controls.reset_button,
                   controls.fault_button, controls.export_button]:
        assert button.isVisible() and views.rect().contains(rect_in(button, views)), \
            button.text()
    for widget in (view.summary, view.tree, view.tabs, view.detail):
        assert widget.isVisible() and views.rect().contains(rect_in(widget, views))


def test_run_to_next_mismatch_shows_the_fault_in_the_heatmap(qtbot, bn_studio):
    window, parts = bn_studio
    view, views = parts.view, window.views
    view.tabs.setCurrentIndex(view.tabs.indexOf(view.guide))  # a tab without results
    assert parts.injector.inject(1, "no_mean_path")
    press(qtbot, parts, "mismatch")
    assert view.store.results[-1].verdict == MISMATCH
    graphics = view.heatmap.graphics
    assert view.heatmap.isVisible() and graphics.isVisible()
    assert graphics.width() > 100 and graphics.height() > 100
    assert views.rect().contains(rect_in(graphics, views))
    assert red_pixels(graphics) > 20
    assert view.detail.isVisible() and view.detail.result == view.store.results[-1]


def test_a_wide_view_puts_the_tree_beside_the_heatmap(qtbot, studio):
    window, parts = studio
    view = parts.view
    qtbot.waitUntil(lambda: view.isVisible())
    assert view.body.orientation() == Qt.Orientation.Vertical
    docks = [window.docks["Network"], window.docks["Training"], window.docks["Data"]]
    for dock in docks:
        dock.hide()
    window.resize(1600, 900)
    qtbot.waitUntil(lambda: view.body.orientation() == Qt.Orientation.Horizontal)
    tree, tabs = rect_in(view.tree, view), rect_in(view.tabs, view)
    assert tree.right() < tabs.left()
    for dock in docks:
        dock.show()
    window.resize(1440, 900)
    qtbot.waitUntil(lambda: view.body.orientation() == Qt.Orientation.Vertical)
    assert rect_in(view.tree, view).bottom() < rect_in(view.tabs, view).top()


def test_a_fault_note_row_does_not_stop_a_layer_row_showing_its_tensor(qtbot, bn_studio):
    _window, parts = bn_studio
    view = parts.view
    parts.injector.inject(1, "no_mean_path")
    press(qtbot, parts, "element")
    layer_row = view.tree._layer_items[1]
    assert "no_mean_path" in layer_row.child(0).text(0)  # the note, across the row
    view.tree.setCurrentItem(layer_row)
    assert view.shown_tensor == "1.gamma"


def test_the_screen_column_shows_only_when_the_check_screened(qtbot, bn_studio):
    _window, parts = bn_studio
    tree = parts.view.tree
    press(qtbot, parts, "element")
    assert tree.isColumnHidden(4)
    parts.view.settings.screen_first.setChecked(True)
    press(qtbot, parts, "end")
    assert not tree.isColumnHidden(4)
