"""Small photos for the demo's evidence: a school building, a sign and a camera date stamp.

Drawn with Pillow from a seed, so the same task and day always give the same bytes (and the
same SHA-256 in the evidence store). Labels are ASCII: the default font draws them on every
machine without a CJK font.
"""

from __future__ import annotations

import io
import random
from datetime import datetime

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 640, 480
_WALLS = ((236, 226, 208), (222, 208, 190), (214, 222, 230), (240, 232, 220), (226, 214, 214))
_ROOFS = ((150, 60, 50), (90, 100, 120), (120, 80, 60), (70, 90, 80))
_SKIES = ((170, 200, 230), (200, 210, 220), (185, 215, 240))


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size)
    except (OSError, TypeError):  # Pillow built without FreeType: the bitmap default
        return ImageFont.load_default()


def evidence_photo(seed: str, label: str, taken_at: datetime) -> bytes:
    """A JPEG of a school building with `label` on a sign and `taken_at` stamped in."""
    rng = random.Random(seed)
    image = Image.new("RGB", (WIDTH, HEIGHT), rng.choice(_SKIES))
    draw = ImageDraw.Draw(image)
    ground = int(HEIGHT * rng.uniform(0.72, 0.8))
    draw.rectangle((0, ground, WIDTH, HEIGHT), fill=(120, 130, 110))
    # The building: a block with rows of windows and a door.
    left = rng.randint(30, 120)
    right = WIDTH - rng.randint(30, 120)
    top = rng.randint(110, 170)
    draw.rectangle((left, top, right, ground), fill=rng.choice(_WALLS), outline=(90, 90, 90))
    draw.polygon(
        [(left - 12, top), ((left + right) // 2, top - rng.randint(30, 60)), (right + 12, top)],
        fill=rng.choice(_ROOFS),
    )
    floors = rng.randint(2, 4)
    columns = rng.randint(5, 9)
    cell_w = (right - left) / columns
    cell_h = (ground - top - 40) / floors
    for floor in range(floors):
        for column in range(columns):
            x = left + column * cell_w + cell_w * 0.2
            y = top + 12 + floor * cell_h
            lit = (250, 240, 200) if rng.random() < 0.2 else (120, 150, 180)
            draw.rectangle((x, y, x + cell_w * 0.6, y + cell_h * 0.55), fill=lit,
                           outline=(70, 70, 70))
    door = (left + right) // 2
    draw.rectangle((door - 22, ground - 48, door + 22, ground), fill=(110, 80, 60))
    # A sign in front, as offices photograph their boards and plaques.
    sign_x = rng.randint(40, WIDTH - 260)
    draw.rectangle((sign_x, ground + 8, sign_x + 220, ground + 52), fill=(250, 250, 245),
                   outline=(160, 40, 40), width=3)
    draw.text((sign_x + 12, ground + 18), label[:22], fill=(160, 40, 40), font=_font(20))
    # The date stamp a phone camera burns into the corner.
    stamp = taken_at.strftime("%Y-%m-%d %H:%M")
    draw.text((WIDTH - 200, HEIGHT - 34), stamp, fill=(255, 150, 40), font=_font(20))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()
