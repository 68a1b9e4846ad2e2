"""The README's Python example runs exactly as written, and its commands stay true."""
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_python_example_runs_as_written(capsys):
    blocks = code_blocks("python")
    assert blocks, "README has no python example"
    exec(compile(blocks[0], str(README), "exec"), {"__name__": "__readme__"})
    printed = capsys.readouterr().out
    accuracy = float(re.search(r"accuracy ([0-9.]+)", printed).group(1))
    assert accuracy >= 0.9, printed


def test_readme_opens_with_the_install_and_test_commands():
    first_two = code_blocks("bash")[:2]
    assert "pip install -e ." in first_two[0] and "app.py" in first_two[0]
    assert 'pip install -e ".[test]"' in first_two[1] and "pytest" in first_two[1]
