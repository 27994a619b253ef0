#!/usr/bin/env python3
"""Writes the small PNG/JPEG fixtures the image tests read, with known pixel values.

Uses only the standard library (zlib, struct), so the PNG variants that stb_image_write cannot
produce (palette, 16-bit, gray+alpha) are encoded here byte by byte. Run it from any folder; the
files land beside this script. The outputs are committed; rerun only to change them.
"""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def png(path, width, height, bit_depth, colour_type, rows, palette=None):
    raw = b"".join(b"\x00" + row for row in rows)  # filter type 0 on every row
    data = b"\x89PNG\r\n\x1a\n"
    data += chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0))
    if palette is not None:
        data += chunk(b"PLTE", b"".join(bytes(c) for c in palette))
    data += chunk(b"IDAT", zlib.compress(raw))
    data += chunk(b"IEND", b"")
    with open(os.path.join(HERE, path), "wb") as f:
        f.write(data)


# 3x2 palette image: indices 0 1 2 / 2 1 0 into three colours.
palette = [(255, 0, 0), (0, 128, 255), (10, 20, 30)]
png("palette_3x2.png", 3, 2, 8, 3, [bytes([0, 1, 2]), bytes([2, 1, 0])], palette)

# 2x2 16-bit gray: 0, 65535 / 32768, 1000 (values above 255 must survive: scaled by 65535).
png("gray16_2x2.png", 2, 2, 16, 0, [struct.pack(">HH", 0, 65535), struct.pack(">HH", 32768, 1000)])

# 2x1 gray + alpha (8-bit): gray 51 alpha 255, gray 204 alpha 0 -> alpha is dropped.
png("gray_alpha_2x1.png", 2, 1, 8, 4, [bytes([51, 255, 204, 0])])

# 2x1 RGBA: (255, 0, 0, 128), (0, 255, 51, 255).
png("rgba_2x1.png", 2, 1, 8, 6, [bytes([255, 0, 0, 128, 0, 255, 51, 255])])

# 2x1 16-bit RGB: (65535, 0, 13107), (0, 32768, 65535).
png("rgb16_2x1.png", 2, 1, 16, 2, [struct.pack(">HHHHHH", 65535, 0, 13107, 0, 32768, 65535)])
