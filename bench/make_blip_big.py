"""Makes a full-size BLIP-base captioning architecture (ViT-B/16 at 384
px, a 12-layer BERT decoder, vocabulary 30524: transformers' BlipConfig
defaults, as Salesforce/blip-image-captioning-base) with random weights,
for speed comparisons only, with BlipImageProcessor's settings. Not
committed; bench/caption.sh makes it once into the cache.

    python bench/make_blip_big.py OUT_DIR
"""

import sys
from pathlib import Path

import torch
from transformers import BlipConfig, BlipForConditionalGeneration
from transformers.models.blip.image_processing_pil_blip import BlipImageProcessorPil

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
torch.manual_seed(0)
model = BlipForConditionalGeneration(BlipConfig()).eval()
model.save_pretrained(out)
BlipImageProcessorPil().save_pretrained(out)
print(out)
