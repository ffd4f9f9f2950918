"""docs/dataset.md: every python block runs in order (tests/test_docs.py checks each block's printed output)."""

from __future__ import annotations

from collections.abc import Callable


def test_dataset_page_runs(run_doc: Callable[..., list[str]]) -> None:
    printed = run_doc("dataset.md", min_blocks=5)
    assert "x.jsonl 2 not valid JSON (Expecting value: column 10)" in printed
    assert "['part.0.parquet']" in printed


def test_dataset_package_all_is_complete() -> None:
    import inspect

    import curator_synth
    import curator_synth.dataset as dataset

    public = {n for n, v in vars(dataset).items() if not n.startswith("_") and inspect.isclass(v)}
    assert public <= set(dataset.__all__)
    assert all(hasattr(dataset, name) for name in dataset.__all__)
    assert curator_synth.DocumentDataset is dataset.DocumentDataset
