"""Makes a full-size opus-mt-en-de architecture (d_model 512, 6+6 layers,
8 heads, FFN 2048, vocabulary 58101; with `big`, the opus-mt-tc-big
shape: d_model 1024, 16 heads, FFN 4096) with random weights, for speed
comparisons only: the tokenizer files come from the tiny test fixture,
padded to the full vocabulary, and generation is pinned to a fixed output
length (min_length = max_length), so every implementation does the same
work. Not committed; bench/translate.sh makes it in a temporary folder.

    python bench/make_marian_big.py OUT_DIR NEW_TOKENS BEAMS [base|big]
"""

import json
import shutil
import sys
from pathlib import Path

import torch
from transformers import GenerationConfig, MarianConfig, MarianMTModel

out, new_tokens, beams = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
size = sys.argv[4] if len(sys.argv) > 4 else "base"
D, HEADS, FFN = {"base": (512, 8, 2048), "big": (1024, 16, 4096)}[size]
fixture = Path(__file__).resolve().parent.parent / "tests/fixtures/marian/tiny-en-de"
out.mkdir(parents=True, exist_ok=True)
for f in ["source.spm", "target.spm", "tokenizer_config.json"]:
    shutil.copy(fixture / f, out / f)
vocab = json.loads((fixture / "vocab.json").read_text())
del vocab["<pad>"]
VOCAB = 58101
i = 0
while len(vocab) < VOCAB - 1:
    vocab.setdefault(f"<filler{i}>", len(vocab))
    i += 1
vocab["<pad>"] = VOCAB - 1
(out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
tok_cfg = json.loads((out / "tokenizer_config.json").read_text())
dec = tok_cfg.get("added_tokens_decoder", {})
for k in list(dec):
    if dec[k]["content"] == "<pad>":
        dec[str(VOCAB - 1)] = dec.pop(k)
(out / "tokenizer_config.json").write_text(json.dumps(tok_cfg))

cfg = MarianConfig(
    vocab_size=VOCAB, decoder_vocab_size=VOCAB, d_model=D, encoder_layers=6, decoder_layers=6,
    encoder_attention_heads=HEADS, decoder_attention_heads=HEADS, encoder_ffn_dim=FFN, decoder_ffn_dim=FFN,
    max_position_embeddings=512, pad_token_id=VOCAB - 1, eos_token_id=0, decoder_start_token_id=VOCAB - 1,
    forced_eos_token_id=0, activation_function="swish", scale_embedding=True,
    share_encoder_decoder_embeddings=True,
)
torch.manual_seed(0)
model = MarianMTModel(cfg).eval()
model.generation_config = GenerationConfig(
    bad_words_ids=[[VOCAB - 1]], decoder_start_token_id=VOCAB - 1, eos_token_id=0, forced_eos_token_id=0,
    pad_token_id=VOCAB - 1, num_beams=beams, max_length=new_tokens + 1, min_length=new_tokens + 1,
)
model.save_pretrained(out)
print(out)
