"""Open a report in headless Chromium (Debian's `chromium`) as a person would: the page must load without
console errors or failed resources, and its screenshot must show the charts and images.

Not part of the default test run (CI has no browser): python tests/browser_check.py report/seam/index.html
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image


def check(page: Path) -> list[str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        return ["no chromium on PATH (apt-get install chromium)"]
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        shot = Path(tmp) / "shot.png"
        result = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
             "--allow-file-access-from-files", "--window-size=1400,6000", f"--screenshot={shot}",
             page.resolve().as_uri()], capture_output=True, text=True, timeout=120)
        log = result.stdout + result.stderr
        for line in log.splitlines():
            if re.search(r"CONSOLE|Uncaught|ERR_FILE_NOT_FOUND|Failed to load resource", line):
                problems.append(line.strip())
        if not shot.is_file():
            return problems + [f"no screenshot ({result.returncode}): {log[-500:]}"]
        pixels = np.asarray(Image.open(shot).convert("RGB")).astype(np.int32)
    colourful = (pixels.max(2) - pixels.min(2) > 40).mean()  # charts, overlays and photos are colourful
    if colourful < 0.02:
        problems.append(f"the page looks empty: {colourful:.1%} colourful pixels")
    html = page.read_text()
    missing = [src for src in re.findall(r"src='([^']+)'", html) if not (page.parent / src).is_file()]
    problems += [f"missing image {src}" for src in missing]
    print(f"{page}: {len(re.findall('<svg', html))} charts, {len(re.findall('<img', html))} images, "
          f"{colourful:.1%} colourful pixels in the screenshot")
    return problems


if __name__ == "__main__":
    found = check(Path(sys.argv[1]))
    for problem in found:
        print("problem:", problem)
    sys.exit(1 if found else 0)
