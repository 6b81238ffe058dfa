#!/usr/bin/env bash
# Regenerates test/fixtures/formats/: the MNIST digits of test/fixtures/mnist/ (Apache-2.0, see
# test/fixtures/SOURCES.md) re-encoded in the image formats and format variants users send, plus the
# formats the server refuses. A file named "<d>-..." shows digit d; "patches-*" are colour charts.
#
# Tools (Debian 12 packages): ImageMagick 6.9 (imagemagick; called as /usr/bin/convert, because
# /usr/local/bin/convert may be an unrelated stand-in), netpbm 11 (pnmtojpeg: the JPEG variants
# ImageMagick cannot write: arithmetic coding, RGB without YCbCr, a given EXIF block) and
# Ghostscript 10 (gs: restart markers, an Adobe CMYK JPEG with transform 0, and a PDF; ImageMagick writes
# CMYK JPEGs as YCCK only and its policy forbids PDF output). Output is byte-reproducible: metadata
# that carries dates is stripped.
#
# Usage: scripts/make-format-fixtures.sh   (from anywhere; rewrites test/fixtures/formats/)
set -euo pipefail

cd "$(dirname "$0")/.."
SRC=test/fixtures/mnist
OUT=test/fixtures/formats
IM=/usr/bin/convert
IDENTIFY=/usr/bin/identify

for tool in "$IM" "$IDENTIFY" pnmtojpeg pnmtops gs base64; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 1; }
done

rm -rf "$OUT"
mkdir -p "$OUT"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# The MNIST digit d as a dark digit on light paper, followed by extra ImageMagick options.
dark() { local d=$1; shift; "$IM" "$SRC/$d.png" -negate "$@"; }
# Navy ink on cream paper, enlarged to 56x56: a "photo" with colour in it.
INK=(-colorspace sRGB -type TrueColor -filter Triangle -resize 200% +level-colors 'rgb(20,30,110)','rgb(250,246,230)')
# The digit as ink in the alpha channel (transparent paper), in the colour given.
alpha_ink() { local d=$1 colour=$2; shift 2; "$IM" "$SRC/$d.png" -background "$colour" -alpha shape "$@"; }
# ImageMagick writes creation dates into PNG text chunks unless told not to.
PNG=(-strip -define png:exclude-chunks=date,time)

# Colour chart for the decoder unit tests: 8x8 patches of red, green, blue, (40,120,200), white,
# black, mid-grey, (250,200,40), left to right.
"$IM" -size 8x8 xc:'rgb(255,0,0)' xc:'rgb(0,255,0)' xc:'rgb(0,0,255)' xc:'rgb(40,120,200)' \
  xc:white xc:black xc:'rgb(128,128,128)' xc:'rgb(250,200,40)' +append -strip "$TMP/patches.ppm"
"$IM" "$TMP/patches.ppm" "${PNG[@]}" "$OUT/patches.png"

# ---------------------------------------------------------------- JPEG
dark 3 "${INK[@]}" -strip -quality 90 "$OUT/3-jpeg-baseline.jpg"
dark 4 "${INK[@]}" -strip -quality 90 -interlace JPEG "$OUT/4-jpeg-progressive.jpg"
dark 6 -strip -colorspace Gray -quality 90 "$OUT/6-jpeg-gray.jpg"
# CMYK as ImageMagick (libjpeg) writes it: Adobe APP14 transform 2 = YCCK, inverted as Photoshop does.
dark 8 -strip -colorspace CMYK -quality 90 "$OUT/8-jpeg-ycck.jpg"
"$IM" "$TMP/patches.ppm" -colorspace CMYK -quality 95 "$OUT/patches-ycck.jpg"
# CMYK with Adobe APP14 transform 0 (plain inverted CMYK): Ghostscript's jpegcmyk device. UseFastColor
# gives the textbook RGB->CMYK conversion and no embedded ICC profile (which would be 180 KB).
cmyk_jpeg() { pnmtops -noturn -nocenter -dpi 72 -equalpixels "$1" 2>/dev/null >"$TMP/page.ps"
  gs -q -dSAFER -dBATCH -dNOPAUSE -sDEVICE=jpegcmyk -r72 -dJPEGQ=92 -dUseFastColor=true \
    -g"$("$IDENTIFY" -format '%wx%h' "$1")" -sOutputFile="$2" "$TMP/page.ps"; }
dark 5 "${INK[@]}" -strip "$TMP/5.ppm"
cmyk_jpeg "$TMP/5.ppm" "$OUT/5-jpeg-cmyk.jpg"
cmyk_jpeg "$TMP/patches.ppm" "$OUT/patches-cmyk.jpg"
# Restart markers (DRI, then RST0-RST7 after every MCU): Ghostscript's DCTEncode filter with
# Resync 1 (pnmtojpeg 11.1 ignores its -restart option).
dark 2 "${INK[@]}" -strip "rgb:$TMP/2.rgb"
{
  printf '/out (%%stdout) (w) file << /Columns 56 /Rows 56 /Colors 3 /Resync 1 /QFactor 0.5 >> /DCTEncode filter def\n'
  printf 'out <%s> writestring out closefile\n' "$(od -An -tx1 -v "$TMP/2.rgb" | tr -d ' \n')"
} >"$TMP/restart.ps"
gs -q -dSAFER -dBATCH -dNOPAUSE -sDEVICE=nullpage "$TMP/restart.ps" >"$OUT/2-jpeg-restart.jpg"
# RGB stored without YCbCr (Adobe APP14 transform 0, three components).
dark 9 "${INK[@]}" -strip "$TMP/9.ppm"
pnmtojpeg -quiet -quality=90 -rgb "$TMP/9.ppm" >"$OUT/9-jpeg-rgb.jpg"
pnmtojpeg -quiet -quality=95 -rgb "$TMP/patches.ppm" >"$OUT/patches-rgb.jpg"
# Arithmetic coding (SOF9): valid JPEG, but no decoder here reads it -> refused with 415.
dark 1 -strip "$TMP/1.pgm"
pnmtojpeg -quiet -quality=90 -arithmetic "$TMP/1.pgm" >"$OUT/1-jpeg-arithmetic.jpg"
# EXIF orientations 1-8: the pixels are stored so that a viewer applying the orientation shows an
# upright 7. Orientation o displays the stored image transformed; store the inverse transform.
STORED=([1]='' [2]='-flop' [3]='-rotate 180' [4]='-flip' [5]='-transpose' [6]='-rotate -90' [7]='-transverse' [8]='-rotate 90')
for o in 1 2 3 4 5 6 7 8; do
  # pnmtojpeg --exif takes the APP1 payload preceded by its 2-byte length: "Exif\0\0", a big-endian
  # TIFF header, IFD0 with the single entry Orientation (0x0112, SHORT, 1, o), no next IFD.
  printf '\x00\x22Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00'"\\x0$o"'\x00\x00\x00\x00\x00\x00' >"$TMP/exif$o"
  # shellcheck disable=SC2086 # STORED holds several words on purpose
  dark 7 "${INK[@]}" ${STORED[$o]} -strip "$TMP/7-$o.ppm"
  pnmtojpeg -quiet -quality=90 -exif="$TMP/exif$o" "$TMP/7-$o.ppm" >"$OUT/7-jpeg-exif-$o.jpg"
done

# ---------------------------------------------------------------- PNG
dark 0 -depth 16 -define png:bit-depth=16 -define png:color-type=0 "${PNG[@]}" "$OUT/0-png-gray16.png"
dark 1 "${INK[@]}" -depth 16 "${PNG[@]}" "PNG48:$OUT/1-png-rgb16.png"
alpha_ink 2 black -define png:color-type=4 "${PNG[@]}" "$OUT/2-png-graya.png"
alpha_ink 2 black -depth 16 -define png:bit-depth=16 -define png:color-type=4 "${PNG[@]}" "$OUT/2-png-graya16.png"
dark 3 "${INK[@]}" "${PNG[@]}" "PNG8:$OUT/3-png-palette.png"
alpha_ink 3 navy -colors 16 "${PNG[@]}" "PNG8:$OUT/3-png-palette-trns.png"
dark 4 "${INK[@]}" -interlace PNG "${PNG[@]}" "PNG24:$OUT/4-png-adam7.png"
alpha_ink 5 navy "${PNG[@]}" "PNG32:$OUT/5-png-rgba.png"
dark 6 -monochrome "${PNG[@]}" "$OUT/6-png-1bit.png"
dark 7 -transparent white -define png:color-type=0 "${PNG[@]}" "$OUT/7-png-gray-trns.png"

# ---------------------------------------------------------------- GIF
dark 9 -strip "$OUT/9-gif.gif"
dark 9 "${INK[@]}" -strip -interlace GIF "$OUT/9-gif-interlaced.gif"
alpha_ink 8 black -strip "$OUT/8-gif-transparent.gif"
# Two frames showing different digits: only the first (4) may be classified.
"$IM" -delay 50 \( "$SRC/4.png" -negate \) \( "$SRC/9.png" -negate \) -loop 0 -strip "$OUT/4-gif-animated-then-9.gif"
# A 28x28 frame at (10,6) on a 48x40 logical screen: the rest of the screen is transparent.
dark 6 -strip -set page 48x40+10+6 "$OUT/6-gif-offset-frame.gif"

# ---------------------------------------------------------------- BMP
dark 1 -strip -type truecolor "BMP3:$OUT/1-bmp-24.bmp"
dark 1 -strip "$OUT/1-bmp-rle8.bmp" # ImageMagick's default for a grey image: 8-bit palette, RLE8
dark 2 -strip -type palette -compress None "$OUT/2-bmp-8bit.bmp"
dark 3 -strip -colors 16 -compress None "$OUT/3-bmp-4bit.bmp"
dark 5 -strip -monochrome "$OUT/5-bmp-1bit.bmp"
alpha_ink 6 black -strip -type truecolormatte "$OUT/6-bmp-32-alpha.bmp"
dark 7 -strip "BMP2:$OUT/7-bmp-os2.bmp" # 12-byte OS/2 core header
dark 8 -strip -type truecolor -define bmp:subtype=RGB565 "$OUT/8-bmp-rgb565.bmp"

# ---------------------------------------------------------------- TIFF
dark 2 -strip -compress None "$OUT/2-tiff-none.tif"
dark 2 "${INK[@]}" -strip -type truecolor -compress LZW -define tiff:predictor=2 "$OUT/2-tiff-lzw-rgb.tif"
dark 3 -strip -depth 16 -compress Zip "$OUT/3-tiff-zip-16.tif"
dark 4 -strip -monochrome -compress Group4 "$OUT/4-tiff-g4.tif"
dark 5 -strip -type palette -colors 16 -compress RLE "$OUT/5-tiff-packbits-palette.tif"
dark 6 "${INK[@]}" -strip -type truecolor -compress JPEG -quality 90 "$OUT/6-tiff-jpeg.tif"
dark 7 "${INK[@]}" -strip -type truecolor -define tiff:tile-geometry=16x16 "$OUT/7-tiff-tiled.tif"
dark 8 -strip -rotate -90 -orient RightTop "$OUT/8-tiff-orient6.tif" # Orientation 6
dark 9 -strip -type truecolor -define tiff:endian=msb "$OUT/9-tiff-bigendian.tif"
"$IM" \( "$SRC/0.png" -negate \) \( "$SRC/7.png" -negate \) -strip "$OUT/0-tiff-2pages-then-7.tif"
dark 5 "${INK[@]}" -strip -colorspace CMYK "$OUT/5-tiff-cmyk.tif"
# TIFF variants the TIFF decoder (utif2) gets wrong: refused with 415.
dark 2 "${INK[@]}" -strip -type truecolor -interlace plane "$OUT/2-tiff-planar.tif"
dark 2 -strip -type truecolor -depth 32 -define quantum:format=floating-point "$OUT/2-tiff-float.tif"
alpha_ink 2 black -strip "$OUT/2-tiff-graya.tif"
dark 2 -strip -compress JPEG "$OUT/2-tiff-jpeg-gray.tif"
dark 2 -strip -compress None "TIFF64:$OUT/2-tiff-bigtiff.tif"

# ---------------------------------------------------------------- refused formats
dark 7 -strip -quality 80 "$OUT/7.webp"
dark 7 -strip -quality 60 "$OUT/7.heic"
dark 7 -strip -quality 60 "$OUT/7.avif"
dark 7 -strip "$OUT/7.ico"
dark 7 -strip "$TMP/7.ppm"
pnmtops -noturn -nocenter -dpi 72 -equalpixels "$TMP/7.ppm" 2>/dev/null |
  gs -q -dSAFER -dBATCH -dNOPAUSE -sDEVICE=pdfwrite -g28x28 -dOmitInfoDate -dOmitID -dOmitXMP -sOutputFile="$OUT/7.pdf" -
# SVG as drawing programs and browsers save a raster: the PNG embedded as a data URI.
{
  printf '<?xml version="1.0" encoding="UTF-8"?>\n'
  printf '<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28" viewBox="0 0 28 28">\n'
  printf '  <image width="28" height="28" href="data:image/png;base64,%s"/>\n' "$(dark 7 "${PNG[@]}" png:- | base64 -w0)"
  printf '</svg>\n'
} >"$OUT/7.svg"

ls -l "$OUT" | awk 'NR > 1 { n++; total += $5; if ($5 >= 20000) big = big " " $9 } END {
  printf "%d files, %d bytes\n", n, total; if (big != "") { print "over 20 KB:" big; exit 1 } }'
