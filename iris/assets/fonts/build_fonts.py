"""Derive the certificate's static fonts from the Noto Sans variable font of fontpkg-noto-sans.

Run after upgrading fontpkg-noto-sans (the outputs are committed beside this script):

    .venv/bin/python iris/assets/fonts/build_fonts.py

Why not use the variable font directly: WeasyPrint subsets every embedded font on every
render, and without HarfBuzz-subset (not installed on these machines) it does so with
fontTools, which costs 1.3-1.8 s per certificate for the 2 MB variable font (measured).
Static instances limited to the scripts a certificate needs (Latin with its extensions,
Cyrillic, punctuation; text in other scripts falls back to the system's fonts) still cost
0.19 s per font and render, nearly all of it in decoding the GPOS table (kerning and mark
positioning); without GPOS it is 0.03 s. So GPOS is dropped: text is set without pair
kerning (barely visible at certificate sizes; the titles are letter-spaced anyway) and
combining marks are not repositioned, which Polish, Ukrainian and Russian do not need
(their letters are precomposed: ą, ł, ї, й, ё). Noto Sans is under the SIL
Open Font License 1.1 (OFL.txt beside this script), which allows modified versions; Noto has
no reserved font name.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import fontpkg_noto_sans
from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.varLib.instancer import instantiateVariableFont

HERE = Path(__file__).resolve().parent
SOURCE = fontpkg_noto_sans.ROOT / "files" / "NotoSans[wdth,wght].ttf"
WEIGHTS = {400: "Regular", 700: "Bold"}
RANGES = [
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x024F),  # Latin-1, Latin Extended-A and -B (Polish, Czech, Romanian ...)
    (0x02B0, 0x02FF),  # modifier letters (U+02BC, the Ukrainian apostrophe)
    (0x0400, 0x052F),  # Cyrillic and its supplement (Ukrainian, Russian, Belarusian ...)
    (0x2000, 0x206F),  # General Punctuation (dashes, quotes, ellipsis)
    (0x20A0, 0x20CF),  # currency signs
    (0x2100, 0x214F),  # letterlike symbols (No.)
    (0x2190, 0x21FF),  # arrows
    (0x25A0, 0x25FF),  # geometric shapes
]


def build() -> None:
    unicodes = [cp for start, end in RANGES for cp in range(start, end + 1)]
    for weight, name in WEIGHTS.items():
        font = instantiateVariableFont(TTFont(SOURCE), {"wght": weight, "wdth": 100}, static=True)
        options = subset.Options()
        options.layout_features = ["*"]
        options.name_IDs = ["*"]
        options.notdef_outline = True
        options.hinting = False
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=unicodes)
        subsetter.subset(font)
        del font["GPOS"]
        target = HERE / f"NotoSans-{name}.ttf"
        font.save(target)
        print(f"{target.name}: {target.stat().st_size} bytes")
    shutil.copyfile(fontpkg_noto_sans.ROOT / "LICENSE", HERE / "OFL.txt")


if __name__ == "__main__":
    build()
