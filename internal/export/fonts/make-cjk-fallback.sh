#!/bin/sh
# Rebuilds NotoSansSC-Regular-subset.ttf.gz, the CJK fallback font of PDF
# transcripts, from Noto Sans SC Regular as the npm package
# @expo-google-fonts/noto-sans-sc@0.4.3 ships it (TrueType outlines, SIL
# Open Font License 1.1: OFL.txt). The whole font is 10.5 MB; this keeps the
# characters of GB 2312, JIS X 0208 and Big5 level 1 (10,269 ideographs),
# CJK punctuation, kana and full-width forms, and drops hinting and layout
# tables a transcript does not use.
#
# Needs npm and fontTools (Debian: python3-fonttools). Run from this folder.
set -eu
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent @expo-google-fonts/noto-sans-sc@0.4.3 >/dev/null && tar xzf ./*.tgz)
${PYTHON:-python3} - "$work/unicodes.txt" <<'PY'
import sys
def charset(codec, leads, trails):
    out = set()
    for a in leads:
        for b in trails:
            try:
                c = bytes([a, b]).decode(codec)
            except UnicodeDecodeError:
                continue
            if len(c) == 1 and 0x4E00 <= ord(c) <= 0x9FFF:
                out.add(ord(c))
    return out
han = (charset("gb2312", range(0xB0, 0xF8), range(0xA1, 0xFF))
       | charset("euc_jp", range(0xB0, 0xF5), range(0xA1, 0xFF))
       | charset("big5", range(0xA4, 0xC7), list(range(0x40, 0x7F)) + list(range(0xA1, 0xFF))))
ranges = "U+3000-303F,U+3040-309F,U+30A0-30FF,U+31F0-31FF,U+FF00-FFEF"
open(sys.argv[1], "w").write(ranges + "," + ",".join("U+%04X" % c for c in sorted(han)))
PY
${PYTHON:-python3} -m fontTools.subset "$work/package/400Regular/NotoSansSC_400Regular.ttf" \
  --unicodes-file="$work/unicodes.txt" --layout-features='' --no-hinting \
  --drop-tables+=GSUB,GPOS,BASE,GDEF,STAT,vhea,vmtx,gasp,prep \
  --output-file="$work/subset.ttf"
gzip -9 -n -c "$work/subset.ttf" > NotoSansSC-Regular-subset.ttf.gz
cp "$work/package/LICENSE_FONT" OFL.txt
