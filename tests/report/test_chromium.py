"""Open the HTML report in headless Chromium and check it renders tables and figures."""

import re
import shutil
import subprocess

import pytest

from survmeta.report import write_report

CHROMIUM = shutil.which("chromium")

pytestmark = [
    pytest.mark.chromium,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


def _chromium(tmp_path, *args):
    profile = tmp_path / "profile"
    proc = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120)
    return proc


def test_dom_has_tables_and_embedded_figures(synthetic_poolset, tmp_path):
    page = write_report(synthetic_poolset, None, tmp_path / "out", fmt="html")
    proc = _chromium(tmp_path, "--dump-dom", page.as_uri())
    dom = proc.stdout
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert '<table id="sof">' in dom
    assert '<table id="stamp" class="stamp">' in dom or 'id="stamp"' in dom
    imgs = re.findall(r'<img[^>]*src="([^"]+)"', dom)
    assert len(imgs) >= 2 * len(synthetic_poolset)
    assert all(src.startswith("data:image/png;base64,") for src in imgs)
    for qid in synthetic_poolset:
        assert f'id="estimates_{qid}"' in dom


def test_screenshot_renders(synthetic_poolset, tmp_path):
    page = write_report(synthetic_poolset, None, tmp_path / "out", fmt="html", figures=("forest",))
    shot = tmp_path / "shot.png"
    proc = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", page.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 20000
