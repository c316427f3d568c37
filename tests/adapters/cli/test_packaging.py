"""The command as installed: the library imports without click and rich, the missing extra is one line, ``-m`` runs."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

from carteira.adapters.cli import ExitCode, main
from tests.support import ROOT

BLOCK = """
import sys

class _NoCliExtra:
    # Stands in for an environment without the [cli] extra: click and rich cannot be imported.
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("click", "rich"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _NoCliExtra())
"""

EVERY_LIBRARY_MODULE = """
import importlib, pkgutil, sys
import carteira

# The command's own modules are the only ones that may need click or rich.
CLI_ONLY = {
    "carteira.adapters.cli.app",
    "carteira.adapters.cli.demo",
    "carteira.adapters.cli.returns",
    "carteira.adapters.cli.ops",
    "carteira.adapters.cli.options",
    "carteira.adapters.cli.postings",
    "carteira.adapters.cli.payments",
    "carteira.adapters.cli.render",
    "carteira.adapters.cli.session",
    "carteira.adapters.cli.__main__",
    "carteira.adapters.cli.sending",
    "carteira.adapters.cli.worker",
}
names = [m.name for m in pkgutil.walk_packages(carteira.__path__, "carteira.")
         if m.name not in CLI_ONLY and not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
assert "carteira.adapters.cli.wiring" in names and "carteira.adapters.cli" in names, names
leaked = sorted(m for m in sys.modules if m.partition(".")[0] in ("click", "rich"))
assert not leaked, leaked
print(len(names))
"""


def _python(code: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=120, check=False)  # fmt: skip


def test_the_library_imports_every_module_without_click_or_rich() -> None:
    done = _python(BLOCK + EVERY_LIBRARY_MODULE)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 50  # the walk really reached the library


def test_the_command_without_the_extra_is_one_line_naming_pip(tmp_path: Path) -> None:
    run_as_main = "import runpy; runpy.run_module('carteira.adapters.cli', run_name='__main__')"
    done = _python(BLOCK + run_as_main, "returns", "list", cwd=tmp_path)
    assert done.returncode == ExitCode.MISSING_EXTRA == 5
    assert done.stderr == "error: the carteira command needs the 'cli' extra: pip install 'carteira[cli]'\n"


def test_python_dash_m_runs_the_command_with_its_exit_codes(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "100"}
    env.pop("CARTEIRA_STORE", None)
    command = [sys.executable, "-m", "carteira.adapters.cli"]
    helped = subprocess.run([*command, "returns", "import", "--help"], capture_output=True, text=True, env=env,
                            cwd=tmp_path, timeout=120, check=False)  # fmt: skip
    assert helped.returncode == 0
    assert helped.stdout.startswith("Usage: carteira returns import [OPTIONS] FILE")
    assert 'carteira returns import retorno-0312.ret --description "BB 2026-03-12"' in helped.stdout
    missing = subprocess.run([*command, "returns", "list"], capture_output=True, text=True, env=env, cwd=tmp_path,
                             timeout=120, check=False)  # fmt: skip
    assert missing.returncode == ExitCode.STORE_UNAVAILABLE
    assert missing.stderr.startswith("error: no carteira database at 'carteira.db'")
    assert missing.stderr.count("\n") == 1


def test_the_extra_the_dev_extra_and_the_console_script_are_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    assert extras["cli"] == ["click>=8.1", "rich>=13"]
    (itself,) = [r for r in extras["dev"] if r.startswith("carteira[")]
    assert {"postgres", "cli"} <= set(itself.removeprefix("carteira[").removesuffix("]").split(","))
    assert project["scripts"] == {"carteira": "carteira.adapters.cli:main"}
    assert callable(main)
    assert "click" not in "".join(project["dependencies"])
