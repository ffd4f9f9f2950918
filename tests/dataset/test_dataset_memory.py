"""Reading is lazy: 1,000,000 records are read a partition at a time, never all at once (slow: --run-slow)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CHILD = """
import resource, sys
import dask
from curator_synth import DocumentDataset

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

path = sys.argv[1]
base = peak_mb()
with dask.config.set(scheduler="sync"):
    ds = DocumentDataset.read_json(path, blocksize="4MB")
    lazy = peak_mb()
    rows = len(ds)
    partitioned = peak_mb()
    whole = DocumentDataset.read_json(path, blocksize="1GB")
    assert whole.npartitions == 1
    assert len(whole) == rows
    single = peak_mb()
print(json.dumps({"rows": rows, "npartitions": ds.npartitions, "base": base, "lazy": lazy,
                  "partitioned": partitioned, "single": single}))
"""


@pytest.mark.slow
def test_a_million_records_are_read_partition_by_partition(tmp_path: Path) -> None:
    path = tmp_path / "million.jsonl"
    with path.open("w") as f:
        for i in range(1_000_000):
            f.write(f'{{"id": {i}, "text": "short record {i}"}}\n')
    out = subprocess.run(
        [sys.executable, "-c", "import json\n" + CHILD, str(path)], capture_output=True, text=True, check=True
    ).stdout
    m = json.loads(out.strip().splitlines()[-1])
    assert m["rows"] == 1_000_000
    assert m["npartitions"] >= 10
    assert m["lazy"] - m["base"] < 20  # building the dataset reads only the schema sample
    partitioned_growth = m["partitioned"] - m["base"]
    single_growth = m["single"] - m["base"]
    assert partitioned_growth < 150, m
    assert single_growth > 2 * partitioned_growth, m  # the same data in one partition needs far more memory
