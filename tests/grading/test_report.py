"""The per-student report: the PNG heatmaps decode, the HTML and JSON name the culprit."""
import json
import struct
import zlib

import numpy as np

from nnstudio.engine.png import png_bytes as encode_png
from nnstudio.grading.report import heatmap_png, write_reports

from .conftest import DGAMMA_BUG, student


def test_encode_png_writes_a_png_that_decodes_to_the_pixels():
    rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    data = encode_png(rgb)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert (width, height, depth, colour) == (3, 2, 8, 2)
    length = struct.unpack(">I", data[33:37])[0]
    assert data[37:41] == b"IDAT"
    rows = zlib.decompress(data[41:41 + length])
    assert rows == b"\x00" + rgb[0].tobytes() + b"\x00" + rgb[1].tobytes()


def test_a_heatmap_is_white_where_errors_are_tiny_and_dark_where_large():
    import base64
    png = base64.b64decode(heatmap_png(np.array([1e-9, 1.0, np.nan]), cell=1))
    length = struct.unpack(">I", png[33:37])[0]
    pixels = zlib.decompress(png[41:41 + length])[1:]
    assert pixels == bytes([255, 255, 255, 140, 10, 10, 200, 200, 200])


def test_the_reports_name_the_culprit_and_explain_in_words(grader, tmp_path):
    grade = grader.grade(student(tmp_path, "bob", DGAMMA_BUG))
    write_reports(grade, tmp_path / "out", "BatchNorm")
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    assert data["status"] == "failed" and data["assignment"] == "BatchNorm"
    train = data["checks"][0]
    assert [t["name"] for t in train["tensors"]] == ["dx", "dgamma", "dbeta"]
    assert [t["status"] for t in train["tensors"]] == ["ok", "mismatch", "ok"]
    page = (tmp_path / "out" / "report.html").read_text()
    # dgamma in both gradient checks (train, test) and in the reference check
    assert "dgamma is wrong" in page and page.count("data:image/png;base64,") == 3
    assert "seed" not in page.lower()                    # the hidden inputs stay hidden
