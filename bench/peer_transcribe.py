"""Times faster-whisper (int8 and float32) and transformers (PyTorch CPU)
on the same audio, threads and model (tiny.en), greedy decoding; prints
real-time factors.

    python bench/peer_transcribe.py CT2_DIR HF_DIR AUDIO THREADS
"""

import sys
import time
import wave

import numpy as np
import torch

ct2_dir, hf_dir, audio_path, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
w = wave.open(audio_path)
assert w.getframerate() == 16000 and w.getnchannels() == 1
audio = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768
dur = len(audio) / 16000

from faster_whisper import WhisperModel

for ct in ("int8", "float32"):
    m = WhisperModel(ct2_dir, device="cpu", compute_type=ct, cpu_threads=threads)
    t = time.perf_counter()
    segs, _ = m.transcribe(audio, beam_size=1, language="en", vad_filter=False)
    n = len(list(segs))
    secs = time.perf_counter() - t
    print(f"faster-whisper-{ct} {secs / dur:.3f} RTF ({secs:.1f} s, {n} segments)")

from transformers import WhisperFeatureExtractor, WhisperForConditionalGeneration

torch.set_num_threads(threads)
model = WhisperForConditionalGeneration.from_pretrained(hf_dir).eval()
fe = WhisperFeatureExtractor(feature_size=model.config.num_mel_bins)
t = time.perf_counter()
if dur <= 30:
    feats = fe(audio, sampling_rate=16000, return_tensors="pt")
else:
    feats = fe(audio, sampling_rate=16000, return_tensors="pt", truncation=False, padding="longest", return_attention_mask=True)
gen_kwargs = dict(num_beams=1, do_sample=False, return_timestamps=True)
with torch.no_grad():
    out = model.generate(**feats, **gen_kwargs)
secs = time.perf_counter() - t
print(f"transformers {secs / dur:.3f} RTF ({secs:.1f} s)")
