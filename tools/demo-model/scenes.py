"""Synthetic scenes for the demo model: one or two flat shapes on a plain, gradient or textured background, with
their captions. The world (shapes, colours, sizes) comes from scene-spec.json, which the TypeScript renderer used
by the tests (scenes.ts) reads too, so held-out test scenes come from the same distribution.

Rendering rule shared with scenes.ts: a shape is a signed distance d (pixels, positive inside) evaluated at pixel
centres; its coverage is clamp(d + 0.5, 0, 1) and the pixel is colour * coverage + below * (1 - coverage).
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

SPEC = json.load(open(os.path.join(os.path.dirname(__file__), 'scene-spec.json')))
SIZE = SPEC['size']
SHAPES = SPEC['shapes']
COLORS = list(SPEC['colors'].keys())
COLOR_RGB = torch.tensor([SPEC['colors'][c] for c in COLORS])
BACKGROUNDS = list(SPEC['backgrounds'].keys())
BACKGROUND_RGB = torch.tensor([SPEC['backgrounds'][c] for c in BACKGROUNDS])
R_MIN, R_MAX = SPEC['objectRadius']
JITTER = SPEC['colorJitter']
TEXTURE_GRID = SPEC['textureGrid']

# Background kinds: a named plain colour (the caption may say it), an unnamed plain colour, a gradient, a texture.
KIND_NAMED, KIND_PLAIN, KIND_GRADIENT, KIND_TEXTURE = 0, 1, 2, 3
KIND_P = SPEC['backgroundKindP']


def shape_sdf(shape, dx, dy, r):
    """Signed distance (positive inside) of shape index `shape` of size r centred at the origin; see scenes.ts."""
    if SHAPES[shape] == 'circle':
        return r - torch.sqrt(dx * dx + dy * dy)
    if SHAPES[shape] == 'square':
        return 0.85 * r - torch.maximum(dx.abs(), dy.abs())
    if SHAPES[shape] == 'triangle':
        # Equilateral, pointing up (y grows downwards), circumradius r: three half-planes at the inradius r / 2.
        d = None
        for angle in (90.0, -30.0, 210.0):
            a = math.radians(angle)
            e = r / 2 - (dx * math.cos(a) + dy * math.sin(a))
            d = e if d is None else torch.minimum(d, e)
        return d
    if SHAPES[shape] == 'diamond':
        return (r - (dx.abs() + dy.abs())) / math.sqrt(2)
    raise ValueError(SHAPES[shape])


def sample_scene(rng):
    """One scene's parameters as a plain dict (what the caption and the renderer need)."""
    kind = int(rng.choice(4, p=KIND_P))
    scene = {'kind': kind, 'objects': []}
    if kind == KIND_NAMED:
        scene['bg'] = int(rng.integers(len(BACKGROUNDS)))
        base = BACKGROUND_RGB[scene['bg']].numpy()
    else:
        base = rng.uniform(0.15, 0.9, 3)
        scene['base'] = base.tolist()
        if kind == KIND_GRADIENT:
            scene['base2'] = rng.uniform(0.15, 0.9, 3).tolist()
            scene['angle'] = float(rng.uniform(0, 2 * math.pi))
        if kind == KIND_TEXTURE:
            scene['grid'] = (base[None, None, :] + rng.uniform(-0.2, 0.2, (TEXTURE_GRID, TEXTURE_GRID, 3))).clip(0, 1).tolist()
    count = 1 if rng.random() < 0.6 else 2
    while len(scene['objects']) < count:
        color = int(rng.integers(len(COLORS)))
        # The object must stand out from the background's mean colour.
        if np.abs(COLOR_RGB[color].numpy() - np.asarray(base)).max() < 0.3:
            continue
        r = float(rng.uniform(R_MIN, R_MAX))
        cx, cy = rng.uniform(r + 2, SIZE - r - 2, 2)
        if any(math.hypot(cx - o['cx'], cy - o['cy']) < r + o['r'] + 4 for o in scene['objects']):
            continue
        scene['objects'].append({
            'shape': int(rng.integers(len(SHAPES))),
            'color': color,
            'rgb': (COLOR_RGB[color].numpy() + rng.uniform(-JITTER, JITTER, 3)).clip(0, 1).tolist(),
            'r': r, 'cx': float(cx), 'cy': float(cy),
        })
    return scene


def caption(scene, rng):
    """'a red circle', 'a red circle and a blue square', '... on a gray background' (the order of two is random)."""
    parts = [f"a {COLORS[o['color']]} {SHAPES[o['shape']]}" for o in scene['objects']]
    if len(parts) == 2 and rng.random() < 0.5:
        parts.reverse()
    text = ' and '.join(parts)
    if scene['kind'] == KIND_NAMED and rng.random() < 0.6:
        text += f" on a {BACKGROUNDS[scene['bg']]} background"
    return text


_ys, _xs = torch.meshgrid(torch.arange(SIZE) + 0.5, torch.arange(SIZE) + 0.5, indexing='ij')


def render(scene):
    """[3, SIZE, SIZE] in [0, 1]."""
    kind = scene['kind']
    if kind == KIND_NAMED:
        img = BACKGROUND_RGB[scene['bg']][:, None, None].expand(3, SIZE, SIZE).clone()
    elif kind == KIND_PLAIN:
        img = torch.tensor(scene['base'])[:, None, None].expand(3, SIZE, SIZE).clone()
    elif kind == KIND_GRADIENT:
        a = scene['angle']
        t = (((_xs - SIZE / 2) * math.cos(a) + (_ys - SIZE / 2) * math.sin(a)) / SIZE + 0.5).clamp(0, 1)
        img = torch.tensor(scene['base'])[:, None, None] * (1 - t) + torch.tensor(scene['base2'])[:, None, None] * t
    else:
        grid = torch.tensor(scene['grid']).permute(2, 0, 1)[None]
        img = F.interpolate(grid, size=(SIZE, SIZE), mode='bilinear', align_corners=True)[0]
    for o in scene['objects']:
        d = shape_sdf(o['shape'], _xs - o['cx'], _ys - o['cy'], o['r'])
        cover = (d + 0.5).clamp(0, 1)
        img = torch.tensor(o['rgb'])[:, None, None] * cover + img * (1 - cover)
    return img


def batch(rng, count):
    """`count` scenes: (pictures [count, 3, SIZE, SIZE] in [-1, 1], scene dicts)."""
    scenes = [sample_scene(rng) for _ in range(count)]
    return torch.stack([render(s) for s in scenes]) * 2 - 1, scenes
