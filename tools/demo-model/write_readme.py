"""Writes <out>/README.md for a trained demo model: how it was made (command, seed, steps, time, losses, from the
training log in --work) and the size and sha256 of every file, so a copy can be checked and a retrain compared.

  /usr/bin/python3 tools/demo-model/write_readme.py --out demo/model --work /tmp/demo-train --command "..."
"""
import argparse
import hashlib
import json
import os

P = argparse.ArgumentParser()
P.add_argument('--out', required=True)
P.add_argument('--work', required=True)
P.add_argument('--command', required=True)
P.add_argument('--machine', default='2 cores (AMD EPYC, AVX-512), PyTorch 1.13 (Debian 12) with OpenBLAS')
ARGS = P.parse_args()

records = [json.loads(line) for line in open(os.path.join(ARGS.work, 'log.jsonl'))]
vae = [r for r in records if r['phase'] == 'vae']
unet = [r for r in records if r['phase'] == 'unet']
scale = next(r for r in records if r['phase'] == 'scale')
done = [r for r in records if r['phase'] == 'done']
total = (done[-1] if done else records[-1])['time']
vae_end = vae[-1]['time'] if vae else 0
unet_start = unet[0]['time'] if unet else 0

files = []
for root, _, names in os.walk(ARGS.out):
    for name in names:
        path = os.path.join(root, name)
        rel = os.path.relpath(path, ARGS.out)
        if rel == 'README.md' or rel.startswith('optimized'):
            continue
        data = open(path, 'rb').read()
        files.append((rel, len(data), hashlib.sha256(data).hexdigest()))
files.sort()


def minutes(seconds):
    return f'{seconds / 60:.0f} min'


lines = [
    '# demo/model: the demo model (a toy, trained here on synthetic shapes; not Stable Diffusion)',
    '',
    'A small latent diffusion model in the layout and tensor contract of an optimum Stable Diffusion 1.x export,',
    'trained from nothing by [tools/demo-model](../../tools/demo-model/README.md) on 128 x 128 scenes of one or two flat',
    'shapes (circle, square, triangle, diamond; eight colours) with captions such as "a red circle and a blue square on',
    'a gray background". `npm run demo` edits with it; the quality tests (test/engine/quality) hold the engine to it.',
    'Try the bot on it with `MODEL_DIR=demo/model npm start` (prompts in its 17-word world; other words mean nothing to it).',
    '',
    '## How it was made',
    f'- Command: `{ARGS.command}`',
    f'- Machine: {ARGS.machine}; total {minutes(total)} (autoencoder {minutes(vae_end)}, dataset encoding'
    f' {minutes(unet_start - vae_end)}, UNet + text encoder {minutes(total - unet_start)}).',
    f'- Seed: {os.environ.get("DEMO_SEED", "20261203")} (train.py --seed; scenes, initial weights, noise and caption dropout all derive from it).',
    f'- Autoencoder: {len(vae) and vae[-1]["step"] + 1} steps; last loss (L1 + MSE on [-1, 1]) {vae[-1]["rec"] if vae else "-"};'
    f' reconstruction error {scale["reconstruction_mae_0_255"]} mean |error| on 0..255 over 1,024 fresh scenes;'
    f' latent scaling_factor {scale["scaling_factor"]} (latent mean before scaling {scale["latent_mean"]}).',
    f'- UNet + text encoder: {unet[-1]["step"] + 1 if unet else 0} steps of 64; noise-prediction MSE (running mean)'
    f' {unet[0]["mse_running"] if unet else "-"} at the start -> {unet[-1]["mse_running"] if unet else "-"} at the end.',
    '',
    '## Files',
    '| file | bytes | sha256 |',
    '|---|---:|---|',
]
lines += [f'| {rel} | {size:,} | `{digest}` |' for rel, size, digest in files]
lines += ['', f'Total: {sum(size for _, size, _ in files):,} bytes.', '']
open(os.path.join(ARGS.out, 'README.md'), 'w').write('\n'.join(lines))
print('\n'.join(lines))
