"""Times transformers (PyTorch, CPU) and CTranslate2 on the model made by
make_marian_big.py, on the same sentences and threads as spaceport, with
the output length fixed. Prints one line per peer: tokens/s.

    python bench/peer_translate.py MODEL_DIR SENTENCES_FILE THREADS BEAMS
"""

import statistics
import sys
import time
from pathlib import Path

import torch
from transformers import MarianMTModel, MarianTokenizer

model_dir, sentences_file, threads, beams = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
sentences = [s for s in Path(sentences_file).read_text().splitlines() if s.strip()]
torch.set_num_threads(threads)
tok = MarianTokenizer.from_pretrained(model_dir)
model = MarianMTModel.from_pretrained(model_dir).eval()
gen = model.generation_config


def run_hf():
    n = 0
    for s in sentences:
        ids = tok(s, return_tensors="pt").input_ids
        with torch.no_grad():
            out = model.generate(ids, num_beams=beams, do_sample=False)
        n += out.shape[1] - 1
    return n


run_hf()  # warm-up
times = []
for _ in range(3):
    t = time.perf_counter()
    n = run_hf()
    times.append(time.perf_counter() - t)
print(f"transformers {n / statistics.median(times):.1f} tokens/s ({n} tokens, median of 3, {threads} threads)")

def run_hf_batched():
    batch = tok(sentences, return_tensors="pt", padding=True)
    with torch.no_grad():
        out = model.generate(**batch, num_beams=beams, do_sample=False)
    return (out.shape[1] - 1) * out.shape[0]


run_hf_batched()
times = []
for _ in range(3):
    t = time.perf_counter()
    n = run_hf_batched()
    times.append(time.perf_counter() - t)
print(f"transformers-batched {n / statistics.median(times):.1f} tokens/s ({n} tokens, median of 3, {threads} threads)")

try:
    import ctranslate2
    from ctranslate2.converters import TransformersConverter
except ImportError:
    print("ctranslate2 not installed")
    sys.exit(0)
ct2_dir = Path(model_dir) / "ct2"
if not ct2_dir.exists():
    TransformersConverter(model_dir).convert(str(ct2_dir), force=True)
length = gen.max_length - 1


def timed(run):
    run()
    times = []
    for _ in range(3):
        t = time.perf_counter()
        n = run()
        times.append(time.perf_counter() - t)
    return n, statistics.median(times)


for ct in ("int8", "float32"):
    t = time.perf_counter()
    translator = ctranslate2.Translator(str(ct2_dir), device="cpu", compute_type=ct, inter_threads=1, intra_threads=threads)
    load = time.perf_counter() - t

    def run_ct2():
        n = 0
        for s in sentences:
            toks = tok.convert_ids_to_tokens(tok(s).input_ids)
            r = translator.translate_batch(
                [toks], beam_size=beams, min_decoding_length=length, max_decoding_length=length,
                return_end_token=True,
            )
            n += len(r[0].hypotheses[0])
        return n

    def run_ct2_batched():
        toks = [tok.convert_ids_to_tokens(tok(s).input_ids) for s in sentences]
        r = translator.translate_batch(
            toks, beam_size=beams, min_decoding_length=length, max_decoding_length=length, return_end_token=True,
        )
        return sum(len(x.hypotheses[0]) for x in r)

    n, secs = timed(run_ct2)
    print(f"ctranslate2-{ct} {n / secs:.1f} tokens/s ({n} tokens, median of 3, {threads} threads) load {load:.2f} s")
    n, secs = timed(run_ct2_batched)
    print(f"ctranslate2-batched-{ct} {n / secs:.1f} tokens/s ({n} tokens, median of 3, {threads} threads)")
    del translator
