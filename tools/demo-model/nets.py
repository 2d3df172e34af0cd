"""The demo model's three networks, small enough to train on two CPU cores in about an hour.

- Autoencoder: RGB 128x128 <-> 4 x 32 x 32 latents (spatial factor 4), strided and transposed convolutions;
  the encoder outputs mean ++ logvar like optimum's `latent_parameters`.
- Text encoder: a CLIP-style causal transformer over the CLIP-format tokenizer's ids (77 positions).
- UNet: a cross-attention UNet on the latents (timestep embedding, ResBlocks, transformer blocks at 16x16 and 8x8),
  predicting the noise (epsilon) under Stable Diffusion's scheduler.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def group_norm(channels):
    return nn.GroupNorm(min(8, channels // 4), channels, eps=1e-5)


class VaeEncoder(nn.Module):
    def __init__(self, width=64, latent=4):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, width // 2, 2, stride=2), nn.SiLU(),  # 64 x 64
            nn.Conv2d(width // 2, width // 2, 3, padding=1), nn.SiLU(),
            nn.Conv2d(width // 2, width // 2, 3, padding=1), nn.SiLU(),
            nn.Conv2d(width // 2, width, 2, stride=2), nn.SiLU(),  # 32 x 32
            nn.Conv2d(width, width, 3, padding=1), nn.SiLU(),
            nn.Conv2d(width, width, 3, padding=1), nn.SiLU(),
            nn.Conv2d(width, 2 * latent, 1),
        )

    def forward(self, x):  # x in [-1, 1]
        return self.net(x)  # mean ++ logvar


class VaeDecoder(nn.Module):
    def __init__(self, width=64, latent=4):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(latent, width, 3, padding=1), nn.SiLU(),
            nn.Conv2d(width, width, 3, padding=1), nn.SiLU(),
            nn.Conv2d(width, width, 3, padding=1), nn.SiLU(),
            nn.ConvTranspose2d(width, width // 2, 2, stride=2), nn.SiLU(),  # 64 x 64
            nn.Conv2d(width // 2, width // 2, 3, padding=1), nn.SiLU(),
            nn.Conv2d(width // 2, width // 2, 3, padding=1), nn.SiLU(),
            nn.ConvTranspose2d(width // 2, 3, 2, stride=2),  # 128 x 128
        )

    def forward(self, z):
        return self.net(z)


def timestep_embedding(t, dim):
    """diffusers' get_timestep_embedding with flip_sin_to_cos=True, downscale_freq_shift=0."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, temb):
        super().__init__()
        self.norm1, self.conv1 = group_norm(cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.time = nn.Linear(temb, cout)
        self.norm2, self.conv2 = group_norm(cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class Attention(nn.Module):
    def __init__(self, dim, context, heads, bias=False):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim, bias=bias)
        self.k = nn.Linear(context, dim, bias=bias)
        self.v = nn.Linear(context, dim, bias=bias)
        self.out = nn.Linear(dim, dim)

    def forward(self, x, ctx, bias=None):
        b, n, d = x.shape
        h = self.heads
        q = self.q(x).reshape(b, n, h, d // h).transpose(1, 2)
        k = self.k(ctx).reshape(b, ctx.shape[1], h, d // h).transpose(1, 2)
        v = self.v(ctx).reshape(b, ctx.shape[1], h, d // h).transpose(1, 2)
        logits = q @ k.transpose(-1, -2) * (d // h) ** -0.5
        w = torch.softmax(logits if bias is None else logits + bias, dim=-1)
        return self.out((w @ v).transpose(1, 2).reshape(b, n, d))


class TextLayer(nn.Module):
    """CLIP's pre-LayerNorm block: causal self-attention, then an MLP."""

    def __init__(self, width, heads):
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(width), Attention(width, width, heads, bias=True)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, h, causal):
        n = self.norm1(h)
        h = h + self.attn(n, n, causal)
        return h + self.mlp(self.norm2(h))


class TextEncoder(nn.Module):
    def __init__(self, vocab, width=128, layers=2, heads=4, positions=77):
        super().__init__()
        self.token = nn.Embedding(vocab, width)
        self.position = nn.Parameter(torch.randn(positions, width) * 0.01)
        self.layers = nn.ModuleList(TextLayer(width, heads) for _ in range(layers))
        self.final = nn.LayerNorm(width)
        self.register_buffer('causal', torch.triu(torch.full((positions, positions), float('-inf')), diagonal=1), persistent=False)

    def forward(self, ids):
        n = ids.shape[1]
        h = self.token(ids) + self.position[:n]
        for layer in self.layers:
            h = layer(h, self.causal[:n, :n])
        return self.final(h)


class Transformer(nn.Module):
    """diffusers' Transformer2DModel with one BasicTransformerBlock: self-attention, cross-attention, feed-forward."""

    def __init__(self, ch, context, self_attention=True):
        super().__init__()
        heads = max(1, ch // 32)
        self.norm = group_norm(ch)
        self.proj_in = nn.Linear(ch, ch)
        self.self_attention = self_attention
        if self_attention:
            self.norm1, self.attn1 = nn.LayerNorm(ch), Attention(ch, ch, heads)
        self.norm2, self.attn2 = nn.LayerNorm(ch), Attention(ch, context, heads)
        self.norm3 = nn.LayerNorm(ch)
        self.ff = nn.Sequential(nn.Linear(ch, 4 * ch), nn.GELU(), nn.Linear(4 * ch, ch))
        self.proj_out = nn.Linear(ch, ch)

    def forward(self, x, ctx):
        b, c, hh, ww = x.shape
        h = self.proj_in(self.norm(x).reshape(b, c, hh * ww).transpose(1, 2))
        if self.self_attention:
            n = self.norm1(h)
            h = h + self.attn1(n, n)
        h = h + self.attn2(self.norm2(h), ctx)
        h = h + self.ff(self.norm3(h))
        return x + self.proj_out(h).transpose(1, 2).reshape(b, c, hh, ww)


class UNet(nn.Module):
    def __init__(self, context=128, channels=(32, 64, 128), latent=4, self_attention_16=True):
        super().__init__()
        c0, c1, c2 = channels
        temb = 4 * c0
        self.c0 = c0
        self.time = nn.Sequential(nn.Linear(c0, temb), nn.SiLU(), nn.Linear(temb, temb))
        self.conv_in = nn.Conv2d(latent, c0, 3, padding=1)
        self.down0 = ResBlock(c0, c0, temb)
        self.pool0 = nn.Conv2d(c0, c0, 3, stride=2, padding=1)
        self.down1, self.attn_d1 = ResBlock(c0, c1, temb), Transformer(c1, context, self_attention_16)
        self.pool1 = nn.Conv2d(c1, c1, 3, stride=2, padding=1)
        self.down2, self.attn_d2 = ResBlock(c1, c2, temb), Transformer(c2, context)
        self.mid, self.attn_mid = ResBlock(c2, c2, temb), Transformer(c2, context)
        self.up2, self.attn_u2 = ResBlock(2 * c2, c2, temb), Transformer(c2, context)
        self.up1, self.attn_u1 = ResBlock(c2 + c1, c1, temb), Transformer(c1, context, self_attention_16)
        self.up0, self.attn_u0 = ResBlock(c1 + c0, c0, temb), Transformer(c0, context, self_attention=False)
        self.norm_out = group_norm(c0)
        self.conv_out = nn.Conv2d(c0, latent, 3, padding=1)

    def forward(self, sample, timestep, ctx):
        temb = self.time(timestep_embedding(timestep, self.c0))
        s0 = self.down0(self.conv_in(sample), temb)
        s1 = self.attn_d1(self.down1(self.pool0(s0), temb), ctx)
        s2 = self.attn_d2(self.down2(self.pool1(s1), temb), ctx)
        h = self.attn_mid(self.mid(s2, temb), ctx)
        h = self.attn_u2(self.up2(torch.cat([h, s2], 1), temb), ctx)
        h = F.interpolate(h, scale_factor=2.0, mode='nearest')
        h = self.attn_u1(self.up1(torch.cat([h, s1], 1), temb), ctx)
        h = F.interpolate(h, scale_factor=2.0, mode='nearest')
        h = self.attn_u0(self.up0(torch.cat([h, s0], 1), temb), ctx)
        return self.conv_out(F.silu(self.norm_out(h)))
