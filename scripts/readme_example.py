"""Run the README's Python API example as written and check that it prints what the README says it prints.

    python scripts/readme_example.py [--installed]

The example is the ```python block of the README's "## Python API" section and its output the ```text block
after it; the example runs from the repository root (it reads edge/samples). --installed runs it isolated
(python -I), so that ``edge`` is the package installed in this interpreter, not the checkout's source.
Exits 1 showing both outputs when they differ.
"""

import argparse
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SECTION = "## Python API"


def example(readme: str) -> tuple[str, str]:
    """(code, expected output) of the README's Python API section; ValueError when either block is missing."""
    if SECTION not in readme:
        raise ValueError(f"README.md has no {SECTION!r} section")
    section = readme.split(SECTION, 1)[1].split("\n## ", 1)[0]
    blocks = dict(reversed(re.findall(r"```(python|text)\n(.*?)```", section, re.S)))  # the first of each kind
    if set(blocks) != {"python", "text"}:
        raise ValueError(f"the {SECTION!r} section needs a ```python block and a ```text block of its output")
    return blocks["python"], blocks["text"]


def run(code: str, installed: bool) -> subprocess.CompletedProcess:
    """The example's process, run from the repository root by this interpreter."""
    return subprocess.run([sys.executable, *(["-I"] if installed else []), "-c", code], cwd=REPO,
                          capture_output=True, text=True, timeout=600)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--installed", action="store_true", help="import the installed edge package (python -I)")
    args = parser.parse_args()
    code, expected = example((REPO / "README.md").read_text(encoding="utf-8"))
    proc = run(code, args.installed)
    if proc.returncode != 0 or proc.stdout != expected:
        print(f"README example: exit {proc.returncode}\n--- expected\n{expected}--- printed\n{proc.stdout}"
              f"--- stderr\n{proc.stderr[-3000:]}", file=sys.stderr)
        return 1
    print(f"README example: {len(expected.splitlines())} lines as documented ({sys.version.split()[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
