"""Starting the window: a path that cannot be opened is shown in a dialog, the default
session opens anyway (a user started from a launcher sees no terminal)."""


def test_nonexistent_project_shows_a_dialog_and_opens_the_default_session(qtbot, make_window,
                                                                        dialogs):
    window = make_window("/nonexistent/lab.nnproj")
    assert window.isVisible()
    qtbot.waitUntil(lambda: bool(dialogs.errors))
    assert dialogs.errors and "no such file: /nonexistent/lab.nnproj" in dialogs.errors[0][1]
    assert window.session.dataset is not None and window.session.dataset.source == "builtin:iris"
    assert window.session.network is not None
