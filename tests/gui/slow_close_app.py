"""Run by test_close_during_slow_batch: the window closes while a training batch takes
``SLOW_SECONDS``; the process must then exit normally (not abort), after the batch."""
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings, QTimer  # noqa: E402

from nnstudio.gui.launch import make_application, open_window  # noqa: E402
from nnstudio.training import trainer as trainer_module  # noqa: E402

SLOW_SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
slow_batch_started = []
original = trainer_module.Trainer._train_batch


def slow_batch(self, progress):
    slow_batch_started.append(time.monotonic())
    time.sleep(SLOW_SECONDS)
    result = original(self, progress)
    print(f"slow batch finished after {time.monotonic() - slow_batch_started[0]:.2f}s", flush=True)
    return result


trainer_module.Trainer._train_batch = slow_batch
app = make_application()
settings = QSettings(sys.argv[2], QSettings.Format.IniFormat) if len(sys.argv) > 2 else None
window = open_window(None, settings=settings)
window.session.set_modified(False)


def close_when_busy():
    if not slow_batch_started:
        QTimer.singleShot(20, close_when_busy)
        return
    window.session.set_modified(False)  # no "save changes?" prompt
    closed = window.close()
    print(f"closed={closed} after {time.monotonic() - slow_batch_started[0]:.2f}s", flush=True)
    app.quit()


window.controller.start()
QTimer.singleShot(20, close_when_busy)
code = app.exec()
del window
print("event loop ended", flush=True)
sys.exit(code)
