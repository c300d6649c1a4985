"""Times one peer on an audio file — faster-whisper in int8 or float32, or
transformers (PyTorch CPU) — with the same threads and model (tiny.en),
greedy decoding, in its own process; prints the real-time factor, the
load time and the process's peak memory.

    python bench/peer_transcribe.py CT2_DIR HF_DIR AUDIO THREADS ENGINE
    ENGINE: faster-whisper-int8 | faster-whisper-float32 |
            faster-whisper-batched-int8 | faster-whisper-batched-float32 |
            transformers
"""

import resource
import sys
import time
import wave

import numpy as np

ct2_dir, hf_dir, audio_path, threads, engine = sys.argv[1:6]
threads = int(threads)
w = wave.open(audio_path)
assert w.getframerate() == 16000 and w.getnchannels() == 1
audio = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768
dur = len(audio) / 16000


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1000


if engine.startswith("faster-whisper"):
    from faster_whisper import BatchedInferencePipeline, WhisperModel

    ct = engine.rsplit("-", 1)[1]
    t = time.perf_counter()
    m = WhisperModel(ct2_dir, device="cpu", compute_type=ct, cpu_threads=threads)
    load = time.perf_counter() - t
    t = time.perf_counter()
    if "batched" in engine:
        segs, _ = BatchedInferencePipeline(model=m).transcribe(audio, beam_size=1, language="en", batch_size=8)
    else:
        segs, _ = m.transcribe(audio, beam_size=1, language="en", vad_filter=False)
    n = len(list(segs))
    secs = time.perf_counter() - t
    print(f"{engine} {secs / dur:.3f} RTF ({secs:.1f} s, {n} segments) load {load:.2f} s peak {peak_mb():.0f} MB")
else:
    import torch
    from transformers import WhisperFeatureExtractor, WhisperForConditionalGeneration

    torch.set_num_threads(threads)
    t = time.perf_counter()
    model = WhisperForConditionalGeneration.from_pretrained(hf_dir).eval()
    load = time.perf_counter() - t
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
    print(f"transformers {secs / dur:.3f} RTF ({secs:.1f} s) load {load:.2f} s peak {peak_mb():.0f} MB")
