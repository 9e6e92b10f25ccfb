"""issue 13: YAML read by radsem is bounded (alias bombs, deep nesting) with a clear error."""

from __future__ import annotations

import time

import pytest

from radsem._yaml import MAX_DEPTH, YAMLLimitError, load_yaml_text
from radsem.cli import main
from radsem.errors import DataError
from radsem.workflows import ConfigError, read_comparison_config


def _bomb(levels: int = 9) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


def _deep(depth: int) -> str:
    return "families: " + "[" * depth + "]" * depth + "\n"


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        (_bomb(), "once its aliases are expanded", 6),
        (_deep(20_000), f"nested more than {MAX_DEPTH} levels deep", 1),
        ("families:\n" + "  " + "- " * 5_000 + "x\n", "nested more than", 2),
    ],
)
def test_bounded_config_errors(tmp_path, capsys, text, message, line):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    start = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        read_comparison_config(path)
    assert time.perf_counter() - start < 5
    assert message in str(info.value)
    assert info.value.line == line
    assert str(info.value).startswith(f"{path}, line {line}: not accepted")
    assert main(["compare", str(path), "--check"]) == 3
    assert message in capsys.readouterr().err


def test_few_aliases_expanding_to_a_huge_document_are_refused():
    # 6 aliases only, but 60**6 nodes once expanded: the node budget catches it
    lines = ["a0: &a0 [" + ", ".join(["x"] * 60) + "]"]
    for i in range(1, 7):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 60) + "]")
    with pytest.raises(YAMLLimitError, match="aliases"):
        load_yaml_text("\n".join(lines))
    lines = ["a0: &a0 [" + ", ".join(["x"] * 3000) + "]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 8)]
    with pytest.raises(YAMLLimitError, match="grows beyond"):
        load_yaml_text("\n".join(lines))


def test_ordinary_anchors_still_work():
    data = load_yaml_text("base: &b {x: 1}\none: *b\ntwo: *b\nlist: [[1, [2, [3]]]]\n")
    assert data == {"base": {"x": 1}, "one": {"x": 1}, "two": {"x": 1}, "list": [[1, [2, [3]]]]}


def test_radiomics_parameter_file_is_bounded(tmp_path):
    from radsem.radiomics.settings import resolve_settings

    path = tmp_path / "params.yaml"
    path.write_text(_bomb())
    with pytest.raises(DataError, match="not accepted"):
        resolve_settings(path)
    path.write_text("setting: " + "[" * 20_000 + "]" * 20_000 + "\n")
    with pytest.raises(DataError, match="nested more than"):
        resolve_settings(path)


def test_recursive_alias_is_refused(tmp_path):
    with pytest.raises(YAMLLimitError, match="refers to its own anchor"):
        load_yaml_text("a: &a [1, *a]\n")
    path = tmp_path / "c.yaml"
    path.write_text("families: &f {x: *f}\n")
    with pytest.raises(ConfigError, match="refers to its own anchor"):
        read_comparison_config(path)
