"""Writes the trained demo networks as an optimum ONNX export: the same folders, file names, tensor names, dtypes,
dynamic axes and config files that `optimum-cli export onnx` writes for Stable Diffusion 1.x (optimum >= 1.24:
float32 scalar timestep, VAE encoder output `latent_parameters` = mean ++ logvar)."""
import json
import os

import torch
import torch.nn as nn

OPSET = 17


class TextEncoderExport(nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, input_ids):
        hidden = self.encoder(input_ids)
        # CLIP pools the hidden state at the EOS token, the vocabulary's highest id (argmax finds the first one).
        pooled = hidden[torch.arange(hidden.shape[0]), input_ids.argmax(dim=-1)]
        return hidden, pooled


class UnetExport(nn.Module):
    def __init__(self, unet):
        super().__init__()
        self.unet = unet

    def forward(self, sample, timestep, encoder_hidden_states):
        return self.unet(sample, timestep.reshape(1).expand(sample.shape[0]), encoder_hidden_states)


class VaeEncoderExport(nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, sample):
        return self.encoder(sample)


def _json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(json.dumps(value, indent=2) + '\n')


def _onnx(module, args, path, inputs, outputs, axes):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.onnx.export(module, args, path, input_names=inputs, output_names=outputs, dynamic_axes=axes, opset_version=OPSET,
                      do_constant_folding=True)


def write_export(out, encoder, decoder, text_encoder, unet, vocab, scheduler, latent_info, unet_channels, text_width):
    batch, seq = 'batch_size', 'sequence_length'
    image = {0: batch, 2: 'height', 3: 'width'}
    latent = {0: batch, 2: 'latent_height', 3: 'latent_width'}
    with torch.no_grad():
        ids = torch.full((2, 77), vocab['<|endoftext|>'], dtype=torch.int64)
        ids[:, 0] = vocab['<|startoftext|>']
        _onnx(TextEncoderExport(text_encoder), (ids,), os.path.join(out, 'text_encoder', 'model.onnx'), ['input_ids'],
              ['last_hidden_state', 'pooler_output'], {'input_ids': {0: batch, 1: seq}, 'last_hidden_state': {0: batch, 1: seq},
                                                       'pooler_output': {0: batch}})
        _onnx(UnetExport(unet), (torch.randn(2, 4, 32, 32), torch.tensor(500.0), torch.randn(2, 77, text_width)),
              os.path.join(out, 'unet', 'model.onnx'), ['sample', 'timestep', 'encoder_hidden_states'], ['out_sample'],
              {'sample': latent, 'encoder_hidden_states': {0: batch, 1: seq}, 'out_sample': latent})
        _onnx(VaeEncoderExport(encoder), (torch.randn(1, 3, 128, 128),), os.path.join(out, 'vae_encoder', 'model.onnx'),
              ['sample'], ['latent_parameters'], {'sample': image, 'latent_parameters': latent})
        _onnx(decoder, (torch.randn(1, 4, 32, 32),), os.path.join(out, 'vae_decoder', 'model.onnx'), ['latent_sample'], ['sample'],
              {'latent_sample': latent, 'sample': image})

    _json(os.path.join(out, 'model_index.json'), {
        '_class_name': 'StableDiffusionPipeline', '_diffusers_version': '0.30.0',
        'feature_extractor': [None, None], 'requires_safety_checker': False, 'safety_checker': [None, None],
        'scheduler': ['diffusers', 'DDIMScheduler'], 'text_encoder': ['transformers', 'CLIPTextModel'],
        'tokenizer': ['transformers', 'CLIPTokenizer'], 'unet': ['diffusers', 'UNet2DConditionModel'],
        'vae': ['diffusers', 'AutoencoderKL'],
    })
    _json(os.path.join(out, 'scheduler', 'scheduler_config.json'), scheduler)
    _json(os.path.join(out, 'text_encoder', 'config.json'), {
        'architectures': ['CLIPTextModel'], 'model_type': 'clip_text_model', 'hidden_size': text_width,
        'intermediate_size': 4 * text_width, 'num_attention_heads': 4, 'num_hidden_layers': len(text_encoder.layers),
        'max_position_embeddings': 77, 'vocab_size': len(vocab), 'bos_token_id': vocab['<|startoftext|>'],
        'eos_token_id': vocab['<|endoftext|>'], 'pad_token_id': vocab['<|endoftext|>'], 'hidden_act': 'gelu',
    })
    _json(os.path.join(out, 'unet', 'config.json'), {
        '_class_name': 'UNet2DConditionModel', '_comment': 'the demo UNet (tools/demo-model/nets.py), not diffusers code',
        'sample_size': 32, 'in_channels': 4, 'out_channels': 4, 'cross_attention_dim': text_width,
        'block_out_channels': list(unet_channels), 'layers_per_block': 1, 'attention_head_dim': 32,
    })
    vae = {
        '_class_name': 'AutoencoderKL', '_comment': 'the demo autoencoder (tools/demo-model/nets.py): spatial factor 4',
        'in_channels': 3, 'out_channels': 3, 'latent_channels': 4, 'block_out_channels': [32, 64, 64], 'sample_size': 128,
        'scaling_factor': latent_info['scaling_factor'],
    }
    _json(os.path.join(out, 'vae_encoder', 'config.json'), vae)
    _json(os.path.join(out, 'vae_decoder', 'config.json'), vae)
