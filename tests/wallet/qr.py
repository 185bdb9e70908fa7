"""Decoding the wallet's QR images in tests: PNG directly, SVG through a tiny rasteriser.

No SVG rasteriser is installed (cairosvg needs the cairo C library), so the SVG that
``qrcode``'s path factory writes — one ``<path>`` of axis-aligned squares, ``M x,y H x V y
H x z`` in millimetres — is drawn here with Pillow and decoded like any image. The module
matrix read from the SVG is also compared with the PNG's, so both renderings are the same
code, not merely two codes for the same URL.
"""

from __future__ import annotations

import base64
import io
import re
import xml.etree.ElementTree as ET

import zxingcpp
from PIL import Image, ImageDraw

_NUMBER = r"-?\d+(?:\.\d+)?"
_SQUARE = re.compile(rf"M({_NUMBER}),({_NUMBER})H({_NUMBER})V({_NUMBER})H({_NUMBER})z")


def decode_png(data_uri: str) -> list[str]:
    assert data_uri.startswith("data:image/png;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(data_uri.split(",", 1)[1])))
    return [
        result.text
        for result in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    ]


def svg_squares(svg: str) -> tuple[float, list[tuple[float, float, float, float]]]:
    root = ET.fromstring(svg)
    width = float(root.attrib["viewBox"].split()[2])
    path = next(el for el in root.iter() if el.tag.endswith("path"))
    squares = [
        tuple(float(v) for v in (m[0], m[1], m[2], m[3])) for m in _SQUARE.findall(path.attrib["d"])
    ]
    assert squares, "no squares found in the SVG path"
    return width, squares  # type: ignore[return-value]


def render_svg(svg: str, scale: float = 10.0) -> Image.Image:
    width, squares = svg_squares(svg)
    size = round(width * scale)
    image = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(image)
    for x0, y0, x1, y1 in squares:
        draw.rectangle(
            [round(x0 * scale), round(y0 * scale), round(x1 * scale) - 1, round(y1 * scale) - 1],
            fill=0,
        )
    return image


def decode_svg(svg: str) -> list[str]:
    return [
        result.text
        for result in zxingcpp.read_barcodes(render_svg(svg), formats=zxingcpp.BarcodeFormat.QRCode)
    ]


def svg_matrix(svg: str) -> set[tuple[int, int]]:
    """Dark modules (column, row) of the SVG, border excluded."""
    _, squares = svg_squares(svg)
    unit = min(x1 - x0 for x0, _, x1, _ in squares)
    origin = min(min(s[0] for s in squares), min(s[1] for s in squares))
    return {(round((x0 - origin) / unit), round((y0 - origin) / unit)) for x0, y0, _, _ in squares}


def png_matrix(data_uri: str) -> set[tuple[int, int]]:
    """Dark modules (column, row) of the PNG (qrcode's 8-pixel boxes), border excluded."""
    image = Image.open(io.BytesIO(base64.b64decode(data_uri.split(",", 1)[1]))).convert("L")
    box = 8
    cells = image.width // box
    dark = {
        (col, row)
        for row in range(cells)
        for col in range(cells)
        if image.getpixel((col * box + box // 2, row * box + box // 2)) < 128
    }
    origin = min(min(c for c, _ in dark), min(r for _, r in dark))
    return {(c - origin, r - origin) for c, r in dark}
