"""Session fixtures for the real-model tests: the tiny checkpoints `npm run tiny-hf` writes."""
import subprocess

import pytest

from conftest import ROOT, TRAINING


@pytest.fixture(scope="session")
def tiny_hf(tmp_path_factory):
    """DIR/llava and DIR/llava-onevision, written as a user would write them."""
    out = tmp_path_factory.mktemp("tiny-hf")
    subprocess.run(["bash", "scripts/training-python.sh", str(TRAINING / "tiny_hf.py"), "--out", str(out)], cwd=ROOT,
                   check=True, capture_output=True)
    return out
