#!/usr/bin/env python3
"""Hostile and edge-case image fixtures for ImageIOTests, with their reference values.

Writes Tests/ImageIOTests/Fixtures/hostile/*.{png,jpg,...} and
Tests/ImageIOTests/Fixtures/hostile.json. The JSON holds, for every file that must decode, its
expected size, channels and bit depth, and either exact samples (PNG) or samples decoded by
Pillow (JPEG, compared with a tolerance of a few levels since Pillow bundles its own
libjpeg-turbo build). Files that must be refused are described in the Swift tests, which name
the error each one gives.

Pixel content comes from numpy's generator seeded with SEED; PNGs are assembled chunk by
chunk here (so that CRCs, zlib streams and headers can be damaged on purpose), JPEGs by Pillow
or by cjpeg/jpegtran (libjpeg-turbo-progs) for progressive and restart-marker files.
Special file-system entries (FIFOs, dangling and looping links, non-UTF-8 names, folders
named like images) cannot live in git; the tests build them in a temporary folder.

Run from the package root: python3 scripts/make_image_fixtures.py
"""
import io
import json
import pathlib
import shutil
import struct
import subprocess
import zlib

import numpy as np
from PIL import Image, ImageOps

SEED = 20261203
ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "ImageIOTests" / "Fixtures" / "hostile"
MANIFEST = ROOT / "Tests" / "ImageIOTests" / "Fixtures" / "hostile.json"
rng = np.random.default_rng(SEED)
manifest = {}


def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bytes(samples, depth=8, colour=None, extra_chunks=(), level=9):
    """A PNG of `samples` [h, w, c] (c = 1, 2, 3, 4), filter 0 on every row."""
    height, width, channels = samples.shape
    colour = {1: 0, 2: 4, 3: 2, 4: 6}[channels] if colour is None else colour
    if depth == 16:
        rows = samples.astype(">u2").reshape(height, -1).view(np.uint8)
    else:
        rows = samples.astype(np.uint8).reshape(height, -1)
    raw = b"".join(b"\x00" + rows[y].tobytes() for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + b"".join(extra_chunks)
    body += chunk(b"IDAT", zlib.compress(raw, level)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def write(name, data):
    (OUT / name).write_bytes(data)
    return data


def expect_exact(name, samples, depth=8):
    """The file must decode to exactly these samples ([h, w, c], alpha last)."""
    height, width, channels = samples.shape
    manifest[name] = {
        "width": width, "height": height, "channels": channels, "bitDepth": depth,
        "samples": samples.reshape(-1).astype(int).tolist(), "tolerance": 0}


def expect_pillow(name, tolerance, transpose=False):
    """The file must decode to Pillow's pixels (EXIF-transposed if asked) within tolerance."""
    image = Image.open(OUT / name)
    image.load()
    if transpose:
        image = ImageOps.exif_transpose(image)
    mode = "L" if image.mode in ("L", "1") else "RGB"
    samples = np.array(image.convert(mode)).reshape(image.height, image.width, -1)
    height, width, channels = samples.shape
    manifest[name] = {
        "width": width, "height": height, "channels": channels, "bitDepth": 8,
        "samples": samples.reshape(-1).astype(int).tolist(), "tolerance": tolerance}


def jpeg_bytes(image, **options):
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **options)
    return buffer.getvalue()


def blocks_image(width, height, colours, block=8):
    """Flat colour blocks (JPEG reproduces them almost exactly)."""
    pixels = np.zeros((height, width, 3), dtype=np.uint8)
    for y in range(0, height, block):
        for x in range(0, width, block):
            pixels[y:y + block, x:x + block] = colours[(y // block * 7 + x // block) % len(colours)]
    return pixels


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    small = rng.integers(0, 256, size=(6, 5, 3), dtype=np.uint8)
    valid_png = write("small_rgb.png", png_bytes(small))
    expect_exact("small_rgb.png", small)

    # Truncations and empty files.
    write("truncated.png", valid_png[: len(valid_png) // 2])
    write("truncated_before_iend.png", valid_png[:-12])
    write("empty.png", b"")
    photo = blocks_image(32, 24, rng.integers(0, 256, size=(9, 3)))
    valid_jpeg = jpeg_bytes(Image.fromarray(photo), quality=90)
    write("small.jpg", valid_jpeg)
    expect_pillow("small.jpg", tolerance=2)
    scan = valid_jpeg.index(b"\xff\xda")  # cut in the middle of the entropy-coded data
    write("truncated.jpg", valid_jpeg[: scan + (len(valid_jpeg) - scan) // 2])
    write("truncated_header.jpg", valid_jpeg[: scan // 2])
    write("only_soi.jpg", b"\xff\xd8\xff")

    # Damaged PNG data: a CRC, a zlib stream, the header's size.
    damaged = bytearray(valid_png)
    idat = damaged.index(b"IDAT")
    length = struct.unpack(">I", damaged[idat - 4:idat])[0]
    damaged[idat + 4 + length] ^= 0xFF  # first CRC byte of IDAT
    write("bad_crc.png", bytes(damaged))
    garbage = rng.integers(0, 256, size=64, dtype=np.uint8).tobytes()
    ihdr = struct.pack(">IIBBBBB", 5, 6, 8, 2, 0, 0, 0)
    write("bad_zlib.png", b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"\x78\x9c" +
          garbage) + chunk(b"IEND", b""))
    for name, width, height in [("zero_width.png", 0, 6), ("zero_height.png", 5, 0)]:
        ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
        write(name, b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
              chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))
    # Headers announcing huge images over a few bytes of data.
    ihdr = struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)
    write("huge_header.png", b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
          chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))
    sof = valid_jpeg.index(b"\xff\xc0")
    huge = bytearray(valid_jpeg)
    huge[sof + 5:sof + 9] = struct.pack(">HH", 65000, 65000)
    write("huge_header.jpg", bytes(huge))
    zero = bytearray(valid_jpeg)
    zero[sof + 5:sof + 9] = struct.pack(">HH", 0, 32)
    write("zero_height.jpg", bytes(zero))
    # A true decompression bomb: 20000 x 20000 one-bit pixels (400 megapixels) in ~50 KB.
    rows = b"".join(b"\x00" + bytes(2500) for _ in range(20000))
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 1, 0, 0, 0, 0)
    write("bomb.png", b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
          chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))

    # A text-chunk bomb: zTXt inflating to 20 MB, above libpng's 8 MB chunk limit; libpng
    # skips it with a warning and the image decodes.
    ztxt = chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(bytes(20_000_000), 9))
    write("ztxt_bomb.png", png_bytes(small, extra_chunks=[ztxt]))
    expect_exact("ztxt_bomb.png", small)

    # Tiny and odd sizes.
    for name, shape in [("1x1.png", (1, 1, 3)), ("1x7.png", (7, 1, 3)), ("7x1.png", (1, 7, 1)),
                        ("13x7_rgba.png", (7, 13, 4))]:
        samples = rng.integers(0, 256, size=shape, dtype=np.uint8)
        write(name, png_bytes(samples))
        expect_exact(name, samples)
    one = np.full((1, 1, 3), (200, 30, 90), dtype=np.uint8)
    write("1x1.jpg", jpeg_bytes(Image.fromarray(one), quality=100, subsampling=0))
    expect_pillow("1x1.jpg", tolerance=2)
    odd = rng.integers(0, 256, size=(7, 13, 3), dtype=np.uint8)
    write("13x7_420.jpg", jpeg_bytes(Image.fromarray(odd), quality=85, subsampling=2))
    expect_pillow("13x7_420.jpg", tolerance=2)
    line = rng.integers(0, 256, size=(1, 9), dtype=np.uint8)
    write("9x1_grey.jpg", jpeg_bytes(Image.fromarray(line, "L"), quality=90))
    expect_pillow("9x1_grey.jpg", tolerance=2)

    # 16-bit samples whose high bytes agree and low bytes differ.
    deep = np.array([[[0x0101], [0x0102], [0xFFFE]], [[0x0000], [0x8000], [0xFFFF]]], dtype=np.uint16)
    write("grey16.png", png_bytes(deep, depth=16))
    expect_exact("grey16.png", deep, depth=16)

    # Trailing garbage after IEND / EOI: ignored, the image is intact.
    write("trailing_garbage.png", valid_png + b"GARBAGE" * 10)
    expect_exact("trailing_garbage.png", small)
    write("trailing_garbage.jpg", valid_jpeg + b"\x00GARBAGE" * 10)
    expect_pillow("trailing_garbage.jpg", tolerance=2)

    # Signatures decide, not names.
    write("png_named.jpg", valid_png)
    expect_exact("png_named.jpg", small)
    write("jpeg_named.png", valid_jpeg)
    expect_pillow("jpeg_named.png", tolerance=2)
    write("html_named.png", b"<!DOCTYPE html>\n<html><body>404 Not Found</body></html>\n")
    for name, fmt in [("gif_named.png", "GIF"), ("bmp_named.png", "BMP"), ("webp_named.png", "WEBP")]:
        buffer = io.BytesIO()
        Image.fromarray(small).save(buffer, fmt)
        write(name, buffer.getvalue())

    # CMYK as Photoshop writes it (Adobe marker, inverted): flat patches of known ink.
    inks = [(0, 0, 0, 0), (255, 0, 0, 0), (0, 255, 0, 0), (0, 0, 255, 0), (0, 0, 0, 255),
            (128, 64, 32, 16), (255, 255, 0, 0), (40, 200, 100, 60)]
    cmyk = np.zeros((16, 64, 4), dtype=np.uint8)
    for index, ink in enumerate(inks):
        cmyk[:, index * 8:(index + 1) * 8] = ink
    write("cmyk_adobe.jpg", jpeg_bytes(Image.fromarray(cmyk, "CMYK"), quality=100))
    expected = np.zeros((16, 64, 3))
    ink = cmyk.astype(float) / 255
    for channel in range(3):
        expected[..., channel] = 255 * (1 - ink[..., channel]) * (1 - ink[..., 3])
    manifest["cmyk_adobe.jpg"] = {
        "width": 64, "height": 16, "channels": 3, "bitDepth": 8, "tolerance": 4,
        "samples": np.round(expected).astype(int).reshape(-1).tolist()}

    # The same inks as YCCK, through libjpeg itself (scripts/write_ycck_jpeg.c, built here).
    tool = OUT / "write_ycck_jpeg"
    subprocess.run(["cc", "-O2", "-o", str(tool), str(ROOT / "scripts" / "write_ycck_jpeg.c"),
                    "-ljpeg"], check=True)
    ycck = subprocess.run([str(tool), "64", "16", "100"], input=(255 - cmyk).tobytes(),
                          capture_output=True, check=True).stdout
    tool.unlink()
    write("ycck_adobe.jpg", ycck)
    manifest["ycck_adobe.jpg"] = dict(manifest["cmyk_adobe.jpg"], tolerance=6)

    # An unknown JFIF revision (3.1) is only a libjpeg warning about the header: it decodes.
    jfif = bytearray(valid_jpeg)
    version = jfif.index(b"JFIF\x00") + 5
    jfif[version] = 3
    write("jfif_version_3.jpg", bytes(jfif))
    manifest["jfif_version_3.jpg"] = manifest["small.jpg"]

    # Corrupt entropy-coded data in the middle of the scan (not a truncation).
    corrupt = bytearray(valid_jpeg)
    middle = scan + (len(valid_jpeg) - scan) // 2
    corrupt[middle:middle + 8] = b"\xff\xd0\x00\x13\x37\xff\xd9\x00"
    write("corrupt_data.jpg", bytes(corrupt))

    # EXIF orientations 1-8 on an asymmetric 24 x 16 picture, and a PNG with eXIf.
    arrow = blocks_image(24, 16, rng.integers(0, 256, size=(6, 3)))
    for orientation in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = orientation
        name = f"orientation_{orientation}.jpg"
        write(name, jpeg_bytes(Image.fromarray(arrow), quality=95, subsampling=0, exif=exif))
        expect_pillow(name, tolerance=2, transpose=True)
    exif = Image.Exif()
    exif[0x0112] = 6
    tiff = exif.tobytes()[6:]  # eXIf holds the TIFF structure without "Exif\0\0"
    small_png = png_bytes(small, extra_chunks=[chunk(b"eXIf", tiff)])
    write("orientation_6.png", small_png)
    expect_exact("orientation_6.png", np.rot90(small, k=-1))

    # Malformed EXIF: each decodes upright as stored, without hanging or crashing.
    plain = jpeg_bytes(Image.fromarray(arrow), quality=95, subsampling=0)
    tiffs = {
        "exif_bad_offset.jpg": b"II*\x00" + struct.pack("<I", 0xFFFFFFF0),
        "exif_huge_count.jpg": b"II*\x00" + struct.pack("<IH", 8, 0xFFFF) + b"\x12\x01\x03",
        "exif_truncated.jpg": b"MM\x00*\x00\x00\x00\x08\x00\x01\x01",
        "exif_bad_order.jpg": b"XX*\x00\x08\x00\x00\x00",
        "exif_orientation_99.jpg": b"II*\x00" + struct.pack("<IHHHII", 8, 1, 0x0112, 3, 1, 99),
        "exif_self_loop.jpg": b"II*\x00" + struct.pack("<IH", 8, 1) + struct.pack("<HHII", 0x8769, 4, 1, 8) + b"\x00\x00\x08\x00\x00\x00",
        "exif_empty.jpg": b"",
    }
    for name, tiff in tiffs.items():
        payload = b"Exif\x00\x00" + tiff
        app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
        write(name, plain[:2] + app1 + plain[2:])
        manifest[name] = manifest.get("orientation_1.jpg")
    # JPEG variants through libjpeg-turbo's own tools, compared with djpeg by the tests.
    source = OUT / "small.ppm"
    Image.fromarray(photo).save(source)
    subprocess.run(["cjpeg", "-progressive", "-quality", "90", "-outfile",
                    str(OUT / "progressive.jpg"), str(source)], check=True)
    subprocess.run(["cjpeg", "-restart", "1B", "-quality", "90", "-outfile",
                    str(OUT / "restart_markers.jpg"), str(source)], check=True)
    subprocess.run(["cjpeg", "-arithmetic", "-quality", "90", "-outfile",
                    str(OUT / "arithmetic.jpg"), str(source)], check=True)
    subprocess.run(["cjpeg", "-grayscale", "-quality", "90", "-outfile",
                    str(OUT / "greyscale.jpg"), str(source)], check=True)
    source.unlink()

    # A decoding-time bomb: the last scan of the progressive file repeated 600 times. libjpeg
    # only warns about the repeats (an error when strict) and would decode every one of them.
    progressive = (OUT / "progressive.jpg").read_bytes()
    last_scan = progressive.rindex(b"\xff\xda")
    end_of_image = progressive.rindex(b"\xff\xd9")
    repeated = progressive[last_scan:end_of_image]
    write("scan_bomb.jpg", progressive[:end_of_image] + repeated * 600 + b"\xff\xd9")

    # Lossless JPEG (SOF3), which this libjpeg-turbo does not decode: the marker says so.
    lossless = bytearray(valid_jpeg)
    lossless[sof + 1] = 0xC3
    write("lossless_sof3.jpg", bytes(lossless))

    MANIFEST.write_text(json.dumps(manifest, separators=(",", ":")) + "\n")
    total = sum(path.stat().st_size for path in OUT.iterdir())
    print(f"{len(list(OUT.iterdir()))} files, {total} bytes; {len(manifest)} references")


if __name__ == "__main__":
    main()
