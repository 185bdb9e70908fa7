"""One loader for the JSON and YAML files people write (routes, trust registries, known
issuers): one behaviour where there were three."""

from __future__ import annotations

from pathlib import Path

import pytest

from credentials.datafiles import load_data_file
from credentials.errors import MalformedInput


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("a.json", b'{"x": [1, 2]}'),
        ("a.yaml", b"x:\n  - 1\n  - 2\n"),
        ("a.YML", b"x: [1, 2]\n"),  # the suffix counts whatever its case
        ("a.json", b'\xef\xbb\xbf{"x": [1, 2]}'),  # a BOM, as some editors write
        ("a.txt", '{"x": [1, 2]}'.encode("utf-16")),  # anything else is JSON
    ],
)
def test_json_and_yaml_read_alike(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert load_data_file(path, code="c") == {"x": [1, 2]}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.json", b"{not json", "a.json: not valid JSON"),
        ("a.yml", b"x: [1, 2\n", "a.yml: not valid YAML"),
        ("a.yaml", b"!!python/object/apply:os.system ['true']\n", "not valid YAML"),
        ("big.json", b"[" + b"1," * 600 + b"1]", "larger than 1000 bytes"),
    ],
)
def test_every_failure_is_malformed_input_with_the_callers_code(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(MalformedInput, match=message) as raised:
        load_data_file(path, code="invalid_thing", max_bytes=1000)
    assert raised.value.code == "invalid_thing"


def test_an_unreadable_file_is_malformed_input_too(tmp_path: Path) -> None:
    with pytest.raises(MalformedInput, match="cannot read") as raised:
        load_data_file(tmp_path / "missing.yaml", code="invalid_route")
    assert raised.value.code == "invalid_route"
