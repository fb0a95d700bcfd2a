"""docs/python.md runs as written: in an empty folder, each ```c block whose first line is
`// NAME.dck` is saved as NAME.dck, each ```sh line that starts with `dckc ` is run (with the
build's dckc), and the ```python blocks of the tutorial run in order in one namespace. A block
that raises fails the test and names the block."""
import os
import re
import shlex
import subprocess
import textwrap

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PAGE = os.path.join(ROOT, "docs", "python.md")


def _tutorial_blocks():
    text = open(PAGE).read()
    start, end = text.index("## Tutorial"), text.index("## Reference")
    return re.findall(r"```(\w*)\n(.*?)```", text[start:end], re.S)


def test_tutorial_runs(tmp_path, monkeypatch):
    dckc = os.environ.get("DCKC") or os.path.join(ROOT, "build", "driver", "dckc")
    if not os.path.exists(dckc):
        pytest.skip("dckc not found (set DCKC)")
    monkeypatch.chdir(tmp_path)
    blocks = _tutorial_blocks()
    kinds = [lang for lang, _ in blocks]
    assert kinds.count("python") >= 8 and "c" in kinds and "sh" in kinds, kinds
    ns = {"__name__": "__tutorial__"}
    ran = 0
    for k, (lang, body) in enumerate(blocks):
        first = body.split("\n", 1)[0].strip()
        m = re.fullmatch(r"//\s*([\w.-]+\.dck)", first)
        if lang == "c" and m:
            (tmp_path / m.group(1)).write_text(body)
        elif lang == "sh":
            for line in body.splitlines():
                if line.startswith("dckc "):
                    subprocess.run([dckc] + shlex.split(line)[1:], check=True)
                    ran += 1
        elif lang == "python":
            try:
                exec(compile(body, "%s block %d" % (PAGE, k + 1), "exec"), ns)
            except Exception as e:
                pytest.fail("docs/python.md tutorial block %d failed: %r\n%s" % (k + 1, e, body))
            ran += 1
    assert ran >= 9
    assert os.path.exists(tmp_path / "kernels.dckpkg")


def test_reference_struct_example():
    """The structured dtype the reference shows matches struct Particle's C layout."""
    import numpy as np

    text = open(PAGE).read()
    code = re.search(r"```python\n( *particle = np\.dtype.*?)```", text, re.S).group(1)
    ns = {"np": np}
    exec(textwrap.dedent(code), ns)
    assert ns["particle"].itemsize == 48
    assert ns["particle"].fields["mass"][1] == 32 and ns["particle"].fields["id"][1] == 36
