"""Makes a full-size BLIP captioning architecture with random weights,
for speed comparisons only, with BlipImageProcessor's settings. `base`:
ViT-B/16 at 384 px, a 12-layer BERT decoder, vocabulary 30524
(transformers' BlipConfig defaults, as
Salesforce/blip-image-captioning-base); `large`: the vision tower of
Salesforce/blip-image-captioning-large (ViT-L/16 at 384 px: width 1024,
24 layers, 16 heads, MLP 4096) with the same decoder. Not committed;
bench/caption.sh makes them once into the cache.

    python bench/make_blip_big.py OUT_DIR [base|large]
"""

import sys
from pathlib import Path

import torch
from transformers import BlipConfig, BlipForConditionalGeneration
from transformers.models.blip.image_processing_pil_blip import BlipImageProcessorPil

out = Path(sys.argv[1])
size = sys.argv[2] if len(sys.argv) > 2 else "base"
out.mkdir(parents=True, exist_ok=True)
torch.manual_seed(0)
vision = {
    "base": {},
    "large": {"hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16, "intermediate_size": 4096},
}[size]
model = BlipForConditionalGeneration(BlipConfig(vision_config=vision)).eval()
model.save_pretrained(out)
BlipImageProcessorPil().save_pretrained(out)
print(out)
