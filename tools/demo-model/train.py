"""Trains the demo model and writes it as an optimum-layout ONNX export (see README.md in this folder).

  /usr/bin/python3 tools/demo-model/train.py --out demo/model --work /tmp/demo-train

The tokenizer must already be in <out>/tokenizer (tools/demo-model/write-tokenizer.ts writes it; `train.sh` runs
both). Phases, each checkpointed in --work so a stopped run resumes: autoencoder, latent scale, dataset encoding,
UNet + text encoder under the DDPM loss on Stable Diffusion's scheduler, ONNX export.
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

import scenes
from nets import TextEncoder, UNet, VaeDecoder, VaeEncoder

P = argparse.ArgumentParser()
P.add_argument('--out', required=True)
P.add_argument('--work', required=True)
P.add_argument('--seed', type=int, default=20261203)
P.add_argument('--threads', type=int, default=2)
P.add_argument('--vae-steps', type=int, default=800)
P.add_argument('--vae-batch', type=int, default=32)
P.add_argument('--scenes', type=int, default=32000)
P.add_argument('--unet-steps', type=int, default=1200)
P.add_argument('--unet-batch', type=int, default=64)
P.add_argument('--export-only', action='store_true', help='export the latest checkpoints and stop')
ARGS = P.parse_args()

torch.set_num_threads(ARGS.threads)
os.makedirs(ARGS.work, exist_ok=True)
LOG = os.path.join(ARGS.work, 'log.jsonl')
UNET_CHANNELS = (32, 64, 96)
TEXT_WIDTH = 128
MAX_TOKENS = 77


def log(**record):
    record['time'] = round(time.time() - START, 1)
    print(json.dumps(record), flush=True)
    with open(LOG, 'a') as f:
        f.write(json.dumps(record) + '\n')


START = time.time()

# ---- tokenizer (the files the engine reads) -------------------------------------------------------------------
VOCAB = json.load(open(os.path.join(ARGS.out, 'tokenizer', 'vocab.json')))
BOS, EOS = VOCAB['<|startoftext|>'], VOCAB['<|endoftext|>']


def token_ids(text):
    """CLIP's encoding for captions made only of whole-word tokens: BOS, words, EOS, EOS padding to 77."""
    words = [VOCAB[w + '</w>'] for w in text.split()]
    ids = [BOS] + words + [EOS]
    return ids + [EOS] * (MAX_TOKENS - len(ids))


# ---- SD's scheduler -------------------------------------------------------------------------------------------
SCHEDULER = {
    '_class_name': 'DDIMScheduler', '_diffusers_version': '0.30.0', 'beta_end': 0.012, 'beta_schedule': 'scaled_linear',
    'beta_start': 0.00085, 'clip_sample': False, 'num_train_timesteps': 1000, 'prediction_type': 'epsilon',
    'set_alpha_to_one': False, 'steps_offset': 1, 'timestep_spacing': 'leading', 'trained_betas': None,
}
BETAS = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float64) ** 2
ALPHAS_CUMPROD = torch.cumprod(1 - BETAS, 0).float()


def cosine_lr(step, total, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup))))


def checkpoint(name):
    return os.path.join(ARGS.work, name)


# ---- phase 1: autoencoder -------------------------------------------------------------------------------------
encoder, decoder = VaeEncoder(), VaeDecoder()
if os.path.exists(checkpoint('vae.pt')):
    state = torch.load(checkpoint('vae.pt'))
    encoder.load_state_dict(state['encoder'])
    decoder.load_state_dict(state['decoder'])
elif not ARGS.export_only:
    torch.manual_seed(ARGS.seed)
    rng = np.random.default_rng(ARGS.seed)
    params = list(encoder.parameters()) + list(decoder.parameters())
    opt = torch.optim.AdamW(params, lr=2e-3, weight_decay=0.0)
    for step in range(ARGS.vae_steps):
        for group in opt.param_groups:
            group['lr'] = cosine_lr(step, ARGS.vae_steps, 2e-3, 50)
        x, _ = scenes.batch(rng, ARGS.vae_batch)
        stats = encoder(x)
        mean, logvar = stats[:, :4], stats[:, 4:].clamp(-20, 4)
        z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
        y = decoder(z)
        rec = (y - x).abs().mean() + (y - x).pow(2).mean()
        kl = 0.5 * (mean.pow(2) + logvar.exp() - 1 - logvar).mean()
        loss = rec + 1e-4 * kl
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if step % 50 == 0 or step == ARGS.vae_steps - 1:
            log(phase='vae', step=step, rec=round(rec.item(), 5), kl=round(kl.item(), 4))
    torch.save({'encoder': encoder.state_dict(), 'decoder': decoder.state_dict()}, checkpoint('vae.pt'))
encoder.eval()
decoder.eval()

# ---- phase 2: the latent scale (SD's scaling_factor: latents * scale have unit variance) ---------------------
if os.path.exists(checkpoint('scale.json')):
    latent_info = json.load(open(checkpoint('scale.json')))
else:
    rng = np.random.default_rng(ARGS.seed + 1)
    with torch.no_grad():
        x, _ = scenes.batch(rng, 1024)
        mean = torch.cat([encoder(x[i:i + 256])[:, :4] for i in range(0, 1024, 256)])
        recon = torch.cat([decoder(mean[i:i + 256]) for i in range(0, 1024, 256)])
    latent_info = {
        'scaling_factor': round(1.0 / mean.std().item(), 5),
        'latent_mean': round(mean.mean().item(), 5),
        'reconstruction_mae_0_255': round(((recon - x).abs().mean() * 127.5).item(), 3),
    }
    json.dump(latent_info, open(checkpoint('scale.json'), 'w'))
    log(phase='scale', **latent_info)
SCALE = latent_info['scaling_factor']

# ---- phase 3: the UNet's training set, encoded once -----------------------------------------------------------
if not ARGS.export_only and not os.path.exists(checkpoint('unet.pt')):
    if os.path.exists(checkpoint('dataset.pt')):
        dataset = torch.load(checkpoint('dataset.pt'))
    else:
        rng = np.random.default_rng(ARGS.seed + 2)
        latents, scene_list = [], []
        with torch.no_grad():
            for i in range(0, ARGS.scenes, 256):
                x, sc = scenes.batch(rng, min(256, ARGS.scenes - i))
                latents.append(encoder(x)[:, :4] * SCALE)
                scene_list += sc
        dataset = {'latents': torch.cat(latents), 'scenes': scene_list}
        torch.save(dataset, checkpoint('dataset.pt'))
        log(phase='dataset', scenes=len(scene_list), latent_std=round(dataset['latents'].std().item(), 4))

# ---- phase 4: UNet + text encoder, DDPM loss (epsilon), min-SNR-5 weights, 10% empty captions, EMA -----------
text_encoder, unet = TextEncoder(len(VOCAB), TEXT_WIDTH), UNet(TEXT_WIDTH, UNET_CHANNELS, self_attention_16=False)
if os.path.exists(checkpoint('unet.pt')):
    state = torch.load(checkpoint('unet.pt'))
    text_encoder.load_state_dict(state['text_encoder_ema'])
    unet.load_state_dict(state['unet_ema'])
elif not ARGS.export_only:
    torch.manual_seed(ARGS.seed + 3)
    rng = np.random.default_rng(ARGS.seed + 3)
    ema_te, ema_unet = TextEncoder(len(VOCAB), TEXT_WIDTH), UNet(TEXT_WIDTH, UNET_CHANNELS, self_attention_16=False)
    ema_te.load_state_dict(text_encoder.state_dict())
    ema_unet.load_state_dict(unet.state_dict())
    params = list(text_encoder.parameters()) + list(unet.parameters())
    ema_params = list(ema_te.parameters()) + list(ema_unet.parameters())
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01)
    start_step = 0
    if os.path.exists(checkpoint('unet-partial.pt')):
        state = torch.load(checkpoint('unet-partial.pt'))
        text_encoder.load_state_dict(state['text_encoder'])
        unet.load_state_dict(state['unet'])
        ema_te.load_state_dict(state['text_encoder_ema'])
        ema_unet.load_state_dict(state['unet_ema'])
        opt.load_state_dict(state['opt'])
        start_step = state['step'] + 1
        rng = np.random.default_rng(ARGS.seed + 3 + start_step)
    latents, scene_list = dataset['latents'], dataset['scenes']
    snr = ALPHAS_CUMPROD / (1 - ALPHAS_CUMPROD)
    weights = torch.clamp(snr, max=5.0) / snr
    running = None
    for step in range(start_step, ARGS.unet_steps):
        for group in opt.param_groups:
            group['lr'] = cosine_lr(step, ARGS.unet_steps, 1e-3, 100)
        pick = rng.integers(len(scene_list), size=ARGS.unet_batch)
        x0 = latents[torch.from_numpy(pick)]
        texts = ['' if rng.random() < 0.1 else scenes.caption(scene_list[i], rng) for i in pick]
        ids = torch.tensor([token_ids(t) for t in texts])
        t = torch.from_numpy(rng.integers(1000, size=ARGS.unet_batch))
        noise = torch.randn_like(x0)
        a = ALPHAS_CUMPROD[t][:, None, None, None]
        xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
        pred = unet(xt, t, text_encoder(ids))
        per_item = (pred - noise).pow(2).mean(dim=(1, 2, 3))
        loss = (per_item * weights[t]).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        decay = 0.0 if step < 100 else 0.995
        with torch.no_grad():
            for e, p in zip(ema_params, params):
                e.mul_(decay).add_(p.detach(), alpha=1 - decay)
        mse = per_item.mean().item()
        running = mse if running is None else 0.98 * running + 0.02 * mse
        if step % 25 == 0 or step == ARGS.unet_steps - 1:
            log(phase='unet', step=step, mse=round(mse, 5), mse_running=round(running, 5), lr=round(opt.param_groups[0]['lr'], 6))
        if step % 100 == 99 or step == ARGS.unet_steps - 1:
            torch.save({'text_encoder': text_encoder.state_dict(), 'unet': unet.state_dict(), 'text_encoder_ema': ema_te.state_dict(),
                        'unet_ema': ema_unet.state_dict(), 'opt': opt.state_dict(), 'step': step}, checkpoint('unet-partial.pt'))
    torch.save({'text_encoder_ema': ema_te.state_dict(), 'unet_ema': ema_unet.state_dict(), 'final_mse_running': running},
               checkpoint('unet.pt'))
    text_encoder, unet = ema_te, ema_unet
elif os.path.exists(checkpoint('unet-partial.pt')):
    state = torch.load(checkpoint('unet-partial.pt'))
    text_encoder.load_state_dict(state['text_encoder_ema'])
    unet.load_state_dict(state['unet_ema'])
    log(phase='export', note=f"from the partial checkpoint at step {state['step']}")
text_encoder.eval()
unet.eval()

# ---- phase 5: the export, in optimum's layout and contract ----------------------------------------------------
import export  # noqa: E402  (needs the trained modules)

export.write_export(ARGS.out, encoder, decoder, text_encoder, unet, VOCAB, SCHEDULER, latent_info, UNET_CHANNELS, TEXT_WIDTH)
log(phase='done', out=ARGS.out)
