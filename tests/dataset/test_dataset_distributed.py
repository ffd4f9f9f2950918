"""The same reads and writes under a real ``distributed`` cluster (2 worker processes) as locally."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import dask
import pandas as pd
import pytest
from data_paths import T0_SAMPLE_ROWS

from curator_synth import DocumentDataset
from curator_synth.dataset import DataFormatError

distributed = pytest.importorskip("distributed")

T = TypeVar("T")


def _long_prompts(frame: pd.DataFrame) -> pd.DataFrame:
    # adversarial_qa files keep 29-49 of their 100-120 prompts, 8 duorc files all, build_story_around_qa none
    return frame[frame["prompt"].str.len() > 1000]


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0", host="127.0.0.1"
    )
    with distributed.Client(cluster) as active:
        active.run(importlib.import_module, "curator_synth.dataset")  # workers import pandas & co. once, up front
        yield active
    cluster.close()


def _local_and_cluster(run: Callable[[], T], client: object) -> tuple[T, T]:
    """``run()`` on the cluster (the default client) and again on the local threaded scheduler."""
    assert distributed.default_client() is client
    on_cluster = run()
    with dask.config.set(scheduler="threads"):
        local = run()
    return local, on_cluster


def test_read_transform_and_write_match_the_local_scheduler(t0_dir: Path, tmp_path: Path, client: object) -> None:
    files = sorted(t0_dir.glob("duorc_*.jsonl")) + sorted(t0_dir.glob("adversarial_qa_*.jsonl"))
    runs = iter(range(2))

    def run() -> tuple[pd.DataFrame, list[str]]:
        ds = DocumentDataset.read_json(files, blocksize=50_000, add_filename=True)  # splits the 110-138 kB files
        long = ds.map_partitions(_long_prompts, meta=ds.df._meta)
        out = tmp_path / f"out-{next(runs)}"
        long.to_json(out, write_to_filename=True)
        back = DocumentDataset.read_json(out, add_filename=True).to_pandas()
        return back.sort_values(["file_name", "prompt"]).reset_index(drop=True), sorted(p.name for p in out.iterdir())

    (local_frame, local_names), (cluster_frame, cluster_names) = _local_and_cluster(run, client)
    pd.testing.assert_frame_equal(local_frame, cluster_frame)
    assert local_names == cluster_names
    assert len(cluster_names) == 13  # 14 files; every prompt of build_story_around_qa was filtered out
    assert "duorc_ParaphraseRC_build_story_around_qa.jsonl" not in cluster_names
    assert (tmp_path / "out-0" / "adversarial_qa_dbert_based_on.jsonl").read_bytes() == (
        tmp_path / "out-1" / "adversarial_qa_dbert_based_on.jsonl"
    ).read_bytes()


def test_whole_t0_sample_counts_on_the_cluster(t0_dir: Path, client: object) -> None:
    assert len(DocumentDataset.read_json(t0_dir, files_per_partition=8)) == T0_SAMPLE_ROWS


def test_errors_and_reports_cross_from_workers(tmp_path: Path, client: object) -> None:
    (tmp_path / "a.jsonl").write_text('{"n": 1}\n' * 1500 + '{"n": 2,\n' + '{"n": 3}\n')
    with pytest.raises(DataFormatError, match=r"a\.jsonl:1501: not valid JSON") as caught:
        DocumentDataset.read_json(tmp_path, blocksize=1000).to_pandas()
    assert caught.value.line == 1501
    skipped = DocumentDataset.read_json(tmp_path, blocksize=1000, on_bad_lines="skip")
    assert len(skipped) == 1501
    report = skipped.read_report()
    assert (report.records, report.bad_lines, report.examples[0].line) == (1501, 1, 1501)


def test_parquet_round_trip_on_the_cluster(t0_dir: Path, tmp_path: Path, client: object) -> None:
    ds = DocumentDataset.read_json(sorted(t0_dir.glob("quoref_*.jsonl")), files_per_partition=4)
    ds.persist().to_parquet(tmp_path)
    back = DocumentDataset.read_parquet(tmp_path).to_pandas().reset_index(drop=True)
    pd.testing.assert_frame_equal(back, ds.to_pandas().reset_index(drop=True))
