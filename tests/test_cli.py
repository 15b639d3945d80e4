"""The README's first command: the core example through the console entry point."""

from __future__ import annotations

import re

from oggm_glaunti.cli import main


def test_example_prints_smb_and_corrections(capsys):
    assert main(["example", "--variant", "D", "--years", "2", "--rows", "12", "--cols", "10"]) == 0
    out = capsys.readouterr().out
    smb = [float(x) for x in re.findall(r"^\s+\d{4}/\d{2}\s+(-?\d+\.\d+)$", out, re.M)]
    assert len(smb) == 2 and all(-5 < s < 5 for s in smb)
    assert out.count("d5 melt temperature shift") == 2


def test_example_variant_a_has_no_corrections(capsys):
    assert main(["example", "--variant", "A", "--years", "1"]) == 0
    assert "Corrector output" not in capsys.readouterr().out


def test_commands_built_without_importing_oggm(tmp_path):
    """Every ``oggm-glaunti`` call builds all sub-commands' help: none may import OGGM (hence
    salem, which downloads its sample data at import) before the command has prepared salem's
    cache, or a newcomer's offline ``oggm-glaunti demo`` fails in a fresh home folder."""
    import os
    import subprocess
    import sys

    code = ("import sys; from oggm_glaunti.cli import build_parser; build_parser(); "
            "print(sorted(m for m in ('oggm', 'salem') if m in sys.modules))")
    env = {**os.environ, "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
    assert not (tmp_path / ".salem_cache").exists()
