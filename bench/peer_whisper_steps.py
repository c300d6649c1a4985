"""The CTranslate2 side of bench/transcribe_shapes.sh: one 30 s window of
(random) log-mel features encoded, then exactly STEPS greedy tokens
decoded after the English transcription prompt (the end token
suppressed, so every engine decodes the same number), in int8 or
float32 with THREADS threads; prints the median over three runs, the
load time and the process's peak memory.

    python bench/peer_whisper_steps.py CT2_DIR HF_DIR COMPUTE_TYPE STEPS THREADS
"""

import resource
import sys
import time

import ctranslate2
import numpy as np
from tokenizers import Tokenizer

ct2_dir, hf_dir, ct, steps, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
t = time.perf_counter()
model = ctranslate2.models.Whisper(ct2_dir, device="cpu", compute_type=ct, intra_threads=threads)
load = time.perf_counter() - t
tok = Tokenizer.from_file(f"{hf_dir}/tokenizer.json")
prompt = [tok.token_to_id("<|startoftranscript|>"), tok.token_to_id("<|notimestamps|>")]
eot = tok.token_to_id("<|endoftext|>")
mels = model.n_mels
features = ctranslate2.StorageView.from_array(
    np.random.default_rng(0).standard_normal((1, mels, 3000)).astype(np.float32) * 0.5
)


def once():
    t0 = time.perf_counter()
    enc = model.encode(features, to_cpu=False)
    t1 = time.perf_counter()
    # CTranslate2 4.8's Whisper stops after max_length / 2 new tokens here
    # (measured: 66 → 33, 200 → 100); the assertion below checks the count.
    res = model.generate(enc, [prompt], beam_size=1, max_length=2 * steps,
                         suppress_blank=False, suppress_tokens=[eot], return_scores=False)
    t2 = time.perf_counter()
    n = len(res[0].sequences_ids[0])
    assert n == steps, (n, steps)
    return t1 - t0, t2 - t1


once()
# The run with the median total, as the spaceport side reports.
enc, dec = sorted((once() for _ in range(3)), key=sum)[1]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1000
print(f"ctranslate2-{ct} encode {enc * 1000:.0f} ms, {steps} steps {dec * 1000:.0f} ms "
      f"({dec * 1000 / steps:.1f} ms a token), total {(enc + dec) * 1000:.0f} ms, load {load:.2f} s, peak {peak:.0f} MB")
