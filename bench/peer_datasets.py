"""The peers of bench/datasets.sh, timed in one process each:
  first-page REPO CACHE  what datasets.load_dataset(REPO, split="train[:100]")
                  does: hf_hub_download the split's shard (the whole file),
                  then load the parquet and take 100 rows
  all-text FILE   pyarrow reading every row of the text column into Python
                  strings, and datasets.load_dataset + iterating the rows
"""
import sys
import time

mode, arg = sys.argv[1], sys.argv[2]
if mode == "first-page":
    import datasets
    from huggingface_hub import hf_hub_download
    datasets.disable_progress_bars()
    t = time.perf_counter()
    path = hf_hub_download(arg, "default/train/0000.parquet", repo_type="dataset",
                           revision="refs/convert/parquet")
    ds = datasets.load_dataset("parquet", data_files=path, split="train[:100]",
                               cache_dir=sys.argv[3])
    n = len(ds)
    print(f"huggingface_hub + datasets first page: {n} rows in {time.perf_counter() - t:.2f} s")
else:
    import pyarrow.parquet as pq
    t = time.perf_counter()
    n = 0
    f = pq.ParquetFile(arg)
    for batch in f.iter_batches(columns=["id", "text"]):
        for row in batch.to_pylist():
            n += 1
    print(f"pyarrow rows: {n} in {time.perf_counter() - t:.2f} s")
