"""The transformers side of bench/caption.sh: each picture through
BlipImageProcessor (PIL) and greedy generate() of exactly NEW_TOKENS
tokens on the CPU with THREADS threads; prints the median latency, the
load time and the process's peak memory.

    python bench/peer_caption.py MODEL_DIR NEW_TOKENS THREADS PICTURE...
"""

import resource
import statistics
import sys
import time

import torch
from PIL import Image
from transformers import BlipForConditionalGeneration
from transformers.models.blip.image_processing_pil_blip import BlipImageProcessorPil

model_dir, new_tokens, threads, pictures = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
torch.set_num_threads(threads)
loading = time.perf_counter()
model = BlipForConditionalGeneration.from_pretrained(model_dir).eval()
proc = BlipImageProcessorPil.from_pretrained(model_dir)
load = time.perf_counter() - loading


def once(path):
    start = time.perf_counter()
    pixels = proc(Image.open(path), return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        out = model.generate(pixel_values=pixels, min_new_tokens=new_tokens, max_new_tokens=new_tokens, num_beams=1)
    assert out.shape[1] == new_tokens + 1, out.shape
    return time.perf_counter() - start


once(pictures[0])  # warm-up
times = [once(p) for p in pictures for _ in range(2)]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1000  # kB on Linux
print(f"transformers {statistics.median(times) * 1000:.0f} ms per picture, load {load:.2f} s, peak {peak:.0f} MB")
