"""Reports show themselves in Jupyter: verdict, culprits, tensor table, an inline PNG heatmap
per failing tensor (a PNG written without Qt, decoded here to the pixels it was given)."""
import base64
import re
import struct
import zlib

import numpy as np

from nnstudio.engine import build_network
from nnstudio.engine.gradcheck import check_network
from nnstudio.engine.gradcheck.report_html import heatmap_rgb
from nnstudio.engine.png import png_bytes


def decode_png(data: bytes) -> np.ndarray:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, {}
    while position < len(data):
        (length,) = struct.unpack(">I", data[position:position + 4])
        tag = data[position + 4:position + 8]
        body = data[position + 8:position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length:position + 12 + length])
        assert crc == zlib.crc32(tag + body) & 0xFFFFFFFF
        chunks[tag] = chunks.get(tag, b"") + body
        position += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 2)
    raw = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), dtype=np.uint8)
    rows = raw.reshape(height, 1 + 3 * width)
    assert np.all(rows[:, 0] == 0)
    return rows[:, 1:].reshape(height, width, 3)


def test_png_bytes_round_trips_the_pixels():
    image = np.random.default_rng(0).integers(0, 256, (7, 5, 3)).astype(np.uint8)
    np.testing.assert_array_equal(decode_png(png_bytes(image)), image)


def test_a_failing_network_shows_verdict_culprit_table_and_a_heatmap_of_its_tensor():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 4)), rng.integers(0, 3, 16)
    network = build_network("dense:6,batchnorm,relu", 4, "classification", 3, seed=0)
    network.layers[1].set_fault("gamma_grad_without_xhat")
    report = check_network(network, x, y)
    html = report._repr_html_()
    assert "FAIL" in html and "Where the error enters" in html and "1.gamma" in html
    images = re.findall(r"alt='heatmap of ([^']+)' src='data:image/png;base64,([^']+)'", html)
    assert "1.gamma" in [name for name, _ in images]
    pixels = decode_png(base64.b64decode(dict(images)["1.gamma"]))
    assert pixels.shape[2] == 3 and np.any(pixels[..., 0] > pixels[..., 1] + 60)  # red cells
    fit = report.phases["fit"]
    assert "<table" in fit._repr_html_() and "FAIL" in fit._repr_html_()


def test_heatmap_marks_the_flagged_element():
    class Flagged:
        flat_index, verdict, rel_error = 5, "mismatch", 1.0
    image = heatmap_rgb((2, 4), [Flagged()])
    cell = image.shape[1] // 4
    centre = image[1 * cell + cell // 2, 1 * cell + cell // 2]
    assert tuple(centre) == (139, 0, 0)
    assert tuple(image[cell // 2, cell // 2]) == (236, 236, 236)
