"""The studio window (PySide6 + pyqtgraph). Only this package imports Qt.

The GUI computes nothing itself: networks come from ``nnstudio.engine``, data from
``nnstudio.data``, training from ``nnstudio.training``, files from ``nnstudio.project``.

Modules: ``main_window`` (layout, menus via ``menus``, extension points), ``session`` (the
shared state and its signals), ``architecture`` + ``builder/`` (palette, stack, property
editor, undo commands), ``data_panel`` + ``data_preview``, ``training_panel`` +
``training_controller`` + ``workers`` (superqt's workers driving the engine's
``BundledRun``: coalesced bundles, pause/step/stop) + ``worker_run`` (the controllers' run
helper), ``training_presenter`` + ``redraw_pacer`` + ``run_status`` (a run on screen, paced
redraws), ``curves`` + ``series`` + ``plot_ranges``, ``batchnorm_panel``,
``boundary_view``, ``files`` (projects, recent files), ``launch`` (app.py, ``nnstudio gui``).

Extension points (used by the gradient-check view in ``gui/gradcheck``):

- ``MainWindow.add_view(title, widget) -> int``: a tab in the central view area.
- ``MainWindow.session_snapshot()``: ``SessionSnapshot(network copy, dataset, bn_stats,
  train_config)``; ``MainWindow.session`` signals when any of them change.
- ``MainWindow.layer_stack.set_layer_status(index, "ok" | "kink" | "mismatch" | None,
  detail)``, ``layer_status(index)``, ``clear_layer_statuses()``.
- ``MainWindow.palette.add_layer_type(cls)``: offer a loaded custom layer.
- ``MainWindow.add_menu_action(menu_title, action)``: an action in a (new) menu.
"""
