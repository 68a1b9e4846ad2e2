"""Screenshots of the studio window for review: ``python bench/screenshots.py [out_dir]``.

Writes (default ``screenshots/``, git-ignored): the main window during training, the
BatchNorm panel during training, the decision boundary on two spirals, the data panel with a
CSV preview, and the builder with a layer's properties open.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402

from nnstudio.gui.launch import make_application, open_window  # noqa: E402


def pump(app, seconds: float) -> None:
    """Run the application's event loop for ``seconds``, as the real window does (a
    processEvents/sleep loop starves the queued worker bundles and the redraw timer)."""
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def wait_idle(app, window, limit: float = 30.0) -> None:
    end = time.monotonic() + limit
    while window.controller.state != "idle" and time.monotonic() < end:
        pump(app, 0.02)


def main(out_dir: str = "screenshots") -> int:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    app = make_application()
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "settings.ini"), QSettings.Format.IniFormat)
    window = open_window(None, settings=settings)
    window.resize(1440, 900)
    window.curves.smoothing_spin.setValue(5)
    window.session.update_train_config(epochs=100000, batch_size=16)
    pump(app, 0.5)  # shown and painted, as when a user presses Train
    window.controller.start()
    pump(app, 2.0)
    window.grab().save(str(out / "main_window_training.png"))
    window.views.setCurrentWidget(window.batchnorm_panel)
    pump(app, 1.0)
    window.grab().save(str(out / "main_window_batchnorm.png"))
    window.batchnorm_panel.grab().save(str(out / "batchnorm_panel.png"))
    window.controller.stop()
    wait_idle(app, window)

    window.builder.stack.select_layer(1)
    pump(app, 0.1)
    window.builder.grab().save(str(out / "builder.png"))

    window.session.set_modified(False)  # else loading asks about the unsaved run first
    window.data_panel.load_builtin("two_spirals")
    window.session.update_train_config(epochs=150, batch_size=32, lr=0.02)
    window.views.setCurrentWidget(window.boundary_view)
    window.controller.start()
    wait_idle(app, window)
    pump(app, 0.3)
    window.grab().save(str(out / "decision_boundary.png"))

    csv = Path(tempfile.mkdtemp()) / "penguins_sample.csv"
    csv.write_text("bill_length,bill_depth,island,body_mass,sex,species\n" + "".join(
        f"{38 + i % 9}.{i % 10},{17 + i % 4}.{i % 7},{('Biscoe', 'Dream', 'Torgersen')[i % 3]},"
        f"{3400 + 37 * (i % 23)},{('male', 'female', 'NA')[i % 3]},"
        f"{('Adelie', 'Gentoo', 'Chinstrap')[i % 3]}\n" for i in range(120)))
    window.docks["Data"].raise_()
    window.data_panel.set_file(str(csv))
    pump(app, 0.3)
    window.grab().save(str(out / "data_panel.png"))
    window.session.set_modified(False)
    window.close()
    print(f"screenshots written to {out.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
