#!/usr/bin/env python3
"""Draws Bucketstream's icon (a bucket with a play triangle) as RGBA PNGs, standard library only."""
import struct, zlib

def inside_round_rect(x, y, s):
    m, r = 0.0625 * s, 0.19 * s
    if x < m or y < m or x > s - m or y > s - m:
        return False
    cx = min(max(x, m + r), s - m - r)
    cy = min(max(y, m + r), s - m - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r

def pixel(x, y, s):
    u, v = x / s, y / s
    # play triangle
    if 0.44 <= u <= 0.62 and abs(v - 0.57) <= (0.62 - u) * 0.62:
        return (230, 57, 70, 255)
    # bucket rim (ellipse)
    if ((u - 0.5) / 0.25) ** 2 + ((v - 0.33) / 0.063) ** 2 <= 1:
        return (241, 250, 238, 255)
    # bucket body (trapezoid)
    if 0.33 <= v <= 0.80:
        half = 0.25 - (v - 0.33) * 0.12
        if abs(u - 0.5) <= half:
            return (168, 218, 220, 255)
    if inside_round_rect(x, y, s):
        return (29, 53, 87, 255)
    return (0, 0, 0, 0)

def png(size, path):
    rows = []
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            # 2x2 supersampling for smooth edges
            acc = [0, 0, 0, 0]
            for dx in (0.25, 0.75):
                for dy in (0.25, 0.75):
                    p = pixel(x + dx, y + dy, size)
                    for i in range(4):
                        acc[i] += p[i]
            row += bytes(int(c / 4) for c in acc)
        rows.append(bytes(row))
    raw = zlib.compress(b"".join(rows), 9)
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)))
        f.write(chunk(b"IDAT", raw))
        f.write(chunk(b"IEND", b""))

for size, name in [(32, "32x32.png"), (128, "128x128.png"), (256, "128x128@2x.png"), (256, "256x256.png"), (512, "icon.png")]:
    png(size, name)
