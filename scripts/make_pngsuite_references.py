#!/usr/bin/env python3
"""Reference pixels for every valid PngSuite image (../shared/conformance/pngsuite).

Decodes each file with a small PNG decoder written here on numpy and zlib (independent of
libpng, which ImageIO uses), checks it against Pillow wherever Pillow keeps full precision
(8-bit and below, and 16-bit grey), and writes, per image, the layout ImageIO must deliver and
a hash of its samples:

    Tests/ImageIOTests/Fixtures/pngsuite.json

The samples hashed are those ImageIO delivers: `[height, width, channels]` with channels grey,
grey+alpha, RGB or RGBA; palettes expanded to RGB; tRNS turned into an alpha channel (0 where
the pixel equals the key, or the palette entry's alpha); 1/2/4-bit grey scaled to 8 bits
(v * 255 / (2^d - 1)); 16-bit samples kept as 16 bits; gamma ignored. Each sample is written as
a little-endian uint16 and hashed with 64-bit FNV-1a. No randomness is involved.

Run from the package root: python3 scripts/make_pngsuite_references.py
"""
import json
import pathlib
import struct
import zlib

import numpy as np
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parent.parent
SUITE = ROOT.parent / "shared" / "conformance" / "pngsuite"
OUTPUT = ROOT / "Tests" / "ImageIOTests" / "Fixtures" / "pngsuite.json"

ADAM7 = [  # (x0, y0, dx, dy) of the seven passes
    (0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
    (0, 1, 1, 2)]
SAMPLES_PER_PIXEL = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def chunks(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset = 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind = data[offset + 4:offset + 8]
        body = data[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length:offset + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        yield kind, body
        offset += 12 + length
        if kind == b"IEND":
            break


def unfilter(raw, height, row_bytes, bpp):
    """Undoes the per-row filters; returns rows as a uint8 array [height, row_bytes]."""
    out = np.zeros((height, row_bytes), dtype=np.uint8)
    previous = np.zeros(row_bytes, dtype=np.int32)
    position = 0
    for y in range(height):
        kind = raw[position]
        line = np.frombuffer(raw[position + 1:position + 1 + row_bytes], dtype=np.uint8)
        line = line.astype(np.int32)
        position += 1 + row_bytes
        row = np.zeros(row_bytes, dtype=np.int32)
        for i in range(row_bytes):
            a = row[i - bpp] if i >= bpp else 0
            b = previous[i]
            c = previous[i - bpp] if i >= bpp else 0
            if kind == 0:
                predictor = 0
            elif kind == 1:
                predictor = a
            elif kind == 2:
                predictor = b
            elif kind == 3:
                predictor = (a + b) // 2
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                predictor = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            else:
                raise ValueError(f"filter {kind}")
            row[i] = (line[i] + predictor) & 0xFF
        out[y] = row
        previous = row
    return out, position


def unpack(rows, width, depth, samples):
    """Rows of bytes -> integer samples [height, width, samples]."""
    height = rows.shape[0]
    if depth == 16:
        values = rows.reshape(height, -1, 2).astype(np.uint32)
        values = (values[..., 0] << 8) | values[..., 1]
    elif depth == 8:
        values = rows.astype(np.uint32)
    else:
        bits = np.unpackbits(rows, axis=1)
        groups = bits[:, : (bits.shape[1] // depth) * depth].reshape(height, -1, depth)
        weights = (1 << np.arange(depth - 1, -1, -1)).astype(np.uint32)
        values = (groups.astype(np.uint32) * weights).sum(axis=2)
    return values[:, : width * samples].reshape(height, width, samples)


def decode(path):
    data = path.read_bytes()
    idat = b""
    palette = None
    trns = None
    for kind, body in chunks(data):
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            palette = np.frombuffer(body, dtype=np.uint8).reshape(-1, 3).astype(np.uint32)
        elif kind == b"tRNS":
            trns = body
        elif kind == b"IDAT":
            idat += body
    raw = zlib.decompress(idat)
    samples = SAMPLES_PER_PIXEL[colour]
    bpp = max(1, samples * depth // 8)

    # Samples as stored, [height, width, samples].
    if interlace == 0:
        rows, _ = unfilter(raw, height, (width * samples * depth + 7) // 8, bpp)
        stored = unpack(rows, width, depth, samples)
    else:
        stored = np.zeros((height, width, samples), dtype=np.uint32)
        position = 0
        for x0, y0, dx, dy in ADAM7:
            pass_width = (width - x0 + dx - 1) // dx if width > x0 else 0
            pass_height = (height - y0 + dy - 1) // dy if height > y0 else 0
            if pass_width == 0 or pass_height == 0:
                continue
            row_bytes = (pass_width * samples * depth + 7) // 8
            rows, used = unfilter(raw[position:], pass_height, row_bytes, bpp)
            position += used
            stored[y0::dy, x0::dx] = unpack(rows, pass_width, depth, samples)

    # The delivered layout.
    if colour == 3:
        rgb = palette[stored[..., 0]]
        if trns is not None:
            table = np.full(len(palette), 255, dtype=np.uint32)
            table[: len(trns)] = np.frombuffer(trns, dtype=np.uint8)
            out = np.concatenate([rgb, table[stored[..., 0]][..., None]], axis=2)
        else:
            out = rgb
        return out, 8
    maximum = (1 << depth) - 1
    out_depth = 16 if depth == 16 else 8
    scale = 1 if depth >= 8 else 255 // maximum
    if trns is not None and colour in (0, 2):
        key = np.array(struct.unpack(">" + "H" * samples, trns[: 2 * samples]), dtype=np.uint32)
        transparent = np.all(stored == key, axis=2)
        alpha = np.where(transparent, 0, (1 << out_depth) - 1).astype(np.uint32)
        return np.concatenate([stored * scale, alpha[..., None]], axis=2), out_depth
    return stored * scale, out_depth


def fnv1a64(data):
    value = 0xCBF29CE484222325
    for byte in data:
        value ^= byte
        value = (value * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value


def check_against_pillow(path, pixels, depth):
    """Where Pillow keeps full precision, its pixels must equal ours."""
    image = Image.open(path)
    channels = pixels.shape[2]
    if depth == 16 and not (channels == 1 and image.mode.startswith("I")):
        return False  # Pillow reduces 16-bit colour to 8 bits
    if image.mode == "L" and "transparency" in image.info and image.info["transparency"] < 16:
        return False  # Pillow compares a 1/2/4-bit tRNS key with samples scaled to 8 bits
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[channels]
    if depth == 16:
        theirs = np.array(image).astype(np.uint32)[..., None]
    elif channels == 2 and "transparency" in image.info:
        # Pillow applies tRNS when converting to RGBA, not to LA.
        theirs = np.array(image.convert("RGBA")).astype(np.uint32)[..., [0, 3]]
    else:
        theirs = np.array(image.convert(mode)).astype(np.uint32).reshape(pixels.shape)
    assert np.array_equal(theirs, pixels), f"{path.name}: ours and Pillow's differ"
    return True


def main():
    references = []
    checked = 0
    for path in sorted(SUITE.glob("*.png")):
        if path.name.startswith("x"):
            continue
        pixels, depth = decode(path)
        checked += check_against_pillow(path, pixels, depth)
        height, width, channels = pixels.shape
        data = pixels.astype("<u2").tobytes()
        references.append({
            "file": path.name, "width": width, "height": height, "channels": channels,
            "bitDepth": depth, "fnv1a64": f"{fnv1a64(data):016x}",
            "channelSums": [int(pixels[..., c].sum()) for c in range(channels)],
        })
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(references, indent=1) + "\n")
    print(f"{len(references)} references, {checked} confirmed by Pillow -> {OUTPUT}")


if __name__ == "__main__":
    main()
