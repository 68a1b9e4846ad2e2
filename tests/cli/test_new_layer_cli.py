"""``nnstudio new-layer``: the template passes the gradient check as written, in both styles,
and a planted mistake in it is caught."""
import subprocess
import sys

import pytest


def nnstudio(*args, cwd):
    return subprocess.run([sys.executable, "-m", "nnstudio", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("style", ["functions", "class"])
def test_the_template_passes_the_checker_as_written_and_a_planted_bug_fails(tmp_path, style):
    made = nnstudio("new-layer", "my_scale", "--style", style, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    path = tmp_path / "my_scale.py"
    assert "CHANGE" in path.read_text(encoding="utf-8")
    check = ["gradcheck", "builtin:iris", "--custom-layer", "my_scale.py", "--layers",
             "dense:8,my_scale"]
    passed = nnstudio(*check, cwd=tmp_path)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    text = path.read_text(encoding="utf-8")
    correct = "(dout * x).sum(axis=0)"
    assert correct in text
    path.write_text(text.replace(correct, "dout.sum(axis=0)"), encoding="utf-8")  # dgamma without x
    failed = nnstudio(*check, cwd=tmp_path)
    assert failed.returncode == 1 and "my_scale" in failed.stdout


def test_an_existing_file_or_a_bad_name_is_refused(tmp_path):
    (tmp_path / "taken.py").write_text("# mine\n", encoding="utf-8")
    refused = nnstudio("new-layer", "taken", cwd=tmp_path)
    assert refused.returncode == 2 and "exists already" in refused.stderr
    assert (tmp_path / "taken.py").read_text() == "# mine\n"
    assert nnstudio("new-layer", "Bad-Name", cwd=tmp_path).returncode == 2
    assert "built-in" in nnstudio("new-layer", "dense", cwd=tmp_path).stderr
