"""The example notebook runs from top to bottom and shows the reports as HTML."""
import nbformat
from nbclient import NotebookClient

from nnstudio.resources import resource_path


def test_the_example_notebook_checks_a_cs231n_style_network():
    path = resource_path("examples", "check_your_own_network.ipynb")
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=180, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()  # raises CellExecutionError naming the cell if an assert fails
    html = [output["data"]["text/html"] for cell in notebook.cells if cell.cell_type == "code"
            for output in cell.get("outputs", []) if "text/html" in output.get("data", {})]
    assert len(html) == 2 and "PASS" in html[0] and "FAIL" in html[1]
    assert "data:image/png;base64," in html[1]
    printed = "".join(output.get("text", "") for cell in notebook.cells
                      for output in cell.get("outputs", []))
    assert "mismatching tensors: ['W1', 'W2', 'W3']" in printed
