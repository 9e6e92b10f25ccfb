"""Screenshots of the demo's two HTML reports, as a reader sees them in a browser.

Usage::

    radsem demo --out demo-output
    python benchmarks/report_screenshots.py demo-output docs/img

writes ``docs/img/sem_report.png`` and ``docs/img/outcome_report.png`` (headless Chromium at
1280 px wide, then scaled to 1000 px) and prints the size of each page. Needs
``/usr/bin/chromium``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
PAGES = {"sem_report.html": 6000, "outcome_report.html": 12000}  # viewport heights (px)


def screenshot(html: Path, png: Path, height: int, width: int = 1280) -> None:
    """Render ``html`` in headless Chromium and save the top ``height`` px, scaled to 1000."""
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.png"
        cmd = [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            f"--user-data-dir={tmp}/profile",
            f"--screenshot={raw}",
            f"--window-size={width},{height}",
            html.resolve().as_uri(),
        ]
        subprocess.run(
            cmd,
            check=True,
            capture_output=True,
            timeout=300,
            env={"HOME": tmp, "PATH": "/usr/bin:/bin"},
        )
        with Image.open(raw) as im:
            im = im.convert("RGB")
            ink = [
                y
                for y in range(im.height - 1, -1, -1)
                if min(im.crop((0, y, im.width, y + 1)).getextrema()[c][0] for c in range(3)) < 245
            ]
            if ink:  # drop the empty viewport below the end of the page
                im = im.crop((0, 0, im.width, min(im.height, ink[0] + 30)))
            scale = 1000 / im.width
            small = im.resize((1000, round(im.height * scale)), Image.LANCZOS)
            # a 256-colour palette keeps text and plots legible at a fraction of the size
            small = small.quantize(colors=256, method=Image.Quantize.MEDIANCUT)
            tmp_png = png.with_suffix(".tmp.png")
            small.save(tmp_png, optimize=True)
            tmp_png.replace(png)


def main(argv: list[str]) -> int:
    source, target = Path(argv[0]), Path(argv[1])
    target.mkdir(parents=True, exist_ok=True)
    for name, height in PAGES.items():
        png = target / name.replace(".html", ".png")
        screenshot(source / name, png, height)
        print(f"{png}: {png.stat().st_size / 1e3:.0f} kB from {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
