"""Makes a full-size Whisper architecture with random weights, for speed
comparisons only, in the Hugging Face layout (with the tokenizer and
generation files of an existing English Whisper folder, so the
vocabulary is its 51864 tokens) and as CTranslate2 int8 and float32
models. `small`: d_model 768, 12 + 12 layers, 12 heads, 80 mel bins
(openai/whisper-small.en); `turbo`: large-v3-turbo's shape, d_model 1280,
32 encoder and 4 decoder layers, 20 heads, 128 mel bins (its own
vocabulary has 2 more tokens). Not committed; bench/transcribe_shapes.sh
makes them once into the cache.

    python bench/make_whisper_big.py OUT_DIR SIZE TOKENIZER_DIR
"""

import shutil
import sys
from pathlib import Path

import torch
from ctranslate2.converters import TransformersConverter
from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperForConditionalGeneration

out, size, tok = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
shape = {
    "small": dict(d_model=768, encoder_layers=12, decoder_layers=12, encoder_attention_heads=12,
                  decoder_attention_heads=12, encoder_ffn_dim=3072, decoder_ffn_dim=3072, num_mel_bins=80),
    "turbo": dict(d_model=1280, encoder_layers=32, decoder_layers=4, encoder_attention_heads=20,
                  decoder_attention_heads=20, encoder_ffn_dim=5120, decoder_ffn_dim=5120, num_mel_bins=128),
}[size]
hf = out / "hf"
hf.mkdir(parents=True, exist_ok=True)
base = WhisperConfig.from_pretrained(tok)
cfg = WhisperConfig(**{**base.to_dict(), **shape})
torch.manual_seed(0)
model = WhisperForConditionalGeneration(cfg).eval()
model.save_pretrained(hf)
for f in tok.iterdir():
    if f.name not in ("config.json", "model.safetensors", "preprocessor_config.json") and f.is_file():
        shutil.copy(f, hf / f.name)
WhisperFeatureExtractor(feature_size=shape["num_mel_bins"]).save_pretrained(hf)
for ct in ["int8", "float32"]:
    TransformersConverter(str(hf)).convert(str(out / f"ct2-{ct}"), quantization=ct, force=True)
print(out)
