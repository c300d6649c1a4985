"""Makes the benchmark's parquet files (pinned pyarrow, scripts/setup.sh):
  OUT/shard.parquet  SHARD_MB of incompressible 100 kB cells in 100-row
                     row groups (as the Hub's export writes media), with a
                     text column;
  OUT/text.parquet   TEXT_MB of text rows (pyarrow's default row groups).
Usage: make_datasets_big.py OUT SHARD_MB TEXT_MB
"""
import random
import sys

import pyarrow as pa
import pyarrow.parquet as pq

out, shard_mb, text_mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(3)
rows = max(100, shard_mb * 10)
with pq.ParquetWriter(f"{out}/shard.parquet", pa.schema([("text", pa.string()), ("blob", pa.binary())])) as w:
    for start in range(0, rows, 100):
        n = min(100, rows - start)
        w.write_table(pa.table({
            "text": [f"row {i}" for i in range(start, start + n)],
            "blob": [rng.randbytes(100_000) for _ in range(n)],
        }), row_group_size=100)
words = ["the", "cat", "sat", "on", "a", "mat", "while", "rain", "fell", "over", "quiet", "town"]
batch = 200_000
written = 0
with pq.ParquetWriter(f"{out}/text.parquet", pa.schema([("id", pa.int64()), ("text", pa.string())])) as w:
    i = 0
    while written < text_mb * 1_000_000:
        texts = [" ".join(rng.choice(words) for _ in range(20 + (k % 30))) for k in range(batch)]
        written += sum(len(t) for t in texts)
        w.write_table(pa.table({"id": list(range(i, i + batch)), "text": texts}))
        i += batch
