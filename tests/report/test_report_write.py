"""write_report: stats.json equal to the inputs, PNGs that decode, a self-contained and escaped report.html."""

from __future__ import annotations

import base64
import io
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from curator_synth.diversity import compute_diversity_score, rouge_l_to_nearest_seed
from curator_synth.errors import ConfigError
from curator_synth.report import Pricing, ReportData, TokenUsage, write_report
from curator_synth.report import write as report_write

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SEEDS = [
    "Write a haiku about the sea.",
    "Summarize the following article in two sentences.",
    "List three uses of baking soda.",
]
TEXTS = [
    "Write a haiku about the ocean at night.",
    "Summarize this article in one sentence.",
    "Explain how a bicycle gear works.",
    "List five uses of vinegar in cleaning.",
    "Translate the sentence into German.",
]


@pytest.fixture
def data() -> ReportData:
    rng = np.random.default_rng(7)
    report = ReportData(title="Run <script>alert('title')</script>", info={"model": "meta/llama-3.1-8b-instruct"})
    report.info["note"] = "<script>alert('x')</script> & friends"
    report.add_stage("generate", 0, 120, 31.5)
    report.add_stage("heuristic filters", 120, 97, 0.75)
    report.add_stage("dedup <exact>", 97, 90, 0.25)
    report.add_rejections("word_count", {"too_short": 15, "too_long": 3})
    report.add_rejections("refusal", {"": 5})
    report.set_scores({f"reward_{name}": rng.uniform(0, 4, 90).tolist() for name in ("helpfulness", "verbosity")})
    report.scores["overall"] = rng.uniform(0, 1, 90).tolist()
    report.set_lengths(
        {"instruction": TEXTS * 18, "response": [" ".join(["w"] * int(n)) for n in rng.integers(1, 400, 90)]}
    )
    report.rouge_l_to_seed = rouge_l_to_nearest_seed(TEXTS, SEEDS)
    report.diversity = compute_diversity_score(
        TEXTS, topics=["poem", "summary", "science", "chores", "language"], embed=False
    )
    report.set_cluster_sizes({"poems": 40, "how-to": 30, "<b>misc</b>": 20})
    report.add_usage("generator", TokenUsage(120, 48_000, 96_000, from_journal=20), Pricing(0.2, 0.6))
    report.add_usage("judge", TokenUsage(90, 90_000, 9_000))
    return report


def _images(page: str) -> list[bytes]:
    return [base64.b64decode(data) for data in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)]


def test_the_files_are_written(data: ReportData, tmp_path: Path) -> None:
    html_path = write_report(data, tmp_path / "report")
    assert html_path == tmp_path / "report" / "report.html"
    names = sorted(p.relative_to(html_path.parent).as_posix() for p in html_path.parent.rglob("*"))
    plots = [
        "plots/cluster_sizes.png",
        "plots/length_instruction.png",
        "plots/length_response.png",
        "plots/rouge_l_to_seed.png",
        "plots/score_helpfulness.png",
        "plots/score_overall.png",
        "plots/score_verbosity.png",
    ]
    assert names == ["plots", *plots, "report.html", "stats.json"]  # nothing else: no staging left behind
    stats = json.loads((html_path.parent / "stats.json").read_text())
    assert sorted(stats["plots"]) == plots


def test_stats_json_holds_the_inputs(data: ReportData, tmp_path: Path) -> None:
    stats = json.loads((write_report(data, tmp_path).parent / "stats.json").read_text())
    assert stats["stages"] == [
        {"name": "generate", "records_in": 0, "records_out": 120, "dropped": -120, "seconds": 31.5},
        {"name": "heuristic filters", "records_in": 120, "records_out": 97, "dropped": 23, "seconds": 0.75},
        {"name": "dedup <exact>", "records_in": 97, "records_out": 90, "dropped": 7, "seconds": 0.25},
    ]
    assert stats["totals"] == {"records_in": 0, "records_out": 90, "seconds": 32.5}
    assert stats["rejections"] == {"word_count": {"too_short": 15, "too_long": 3}, "refusal": {"unspecified": 5}}
    assert stats["rejected"] == 23
    for name, values in data.scores.items():
        scores = stats["scores"][name]
        assert scores["count"] == len(values)
        assert scores["mean"] == pytest.approx(float(np.mean(values)))
        assert scores["median"] == pytest.approx(float(np.median(values)))
        assert sum(scores["histogram"]["counts"]) == len(values)
    assert stats["lengths"]["unit"] == "words"
    assert stats["lengths"]["instruction"]["max"] == 8.0
    assert stats["lengths"]["response"]["mean"] == pytest.approx(float(np.mean(data.lengths["response"])))
    assert stats["rouge_l_to_seed"]["count"] == 5
    assert stats["rouge_l_to_seed"]["max"] == pytest.approx(max(data.rouge_l_to_seed))
    assert stats["diversity"] == pytest.approx(data.diversity)
    assert stats["diversity"]["topic_entropy"] == pytest.approx(np.log2(5))
    assert stats["cluster_sizes"] == {"poems": 40, "how-to": 30, "<b>misc</b>": 20}
    generator = stats["usage"]["clients"]["generator"]
    assert (generator["requests"], generator["prompt_tokens"], generator["completion_tokens"]) == (120, 48_000, 96_000)
    assert generator["cost"] == pytest.approx((48_000 * 0.2 + 96_000 * 0.6) / 1e6)
    assert stats["usage"]["clients"]["judge"]["cost"] is None
    assert stats["usage"]["total"]["total_tokens"] == 48_000 + 96_000 + 90_000 + 9_000


def test_the_html_embeds_every_plot_and_names_every_stage(data: ReportData, tmp_path: Path) -> None:
    html_path = write_report(data, tmp_path)
    page = html_path.read_text()
    images = _images(page)
    files = sorted((tmp_path / "plots").glob("*.png"))
    assert len(images) == len(files) == 7
    assert sorted(images) == sorted(f.read_bytes() for f in files)
    for name in ("generate", "heuristic filters", "dedup &lt;exact&gt;", "word_count", "too_short", "judge"):
        assert name in page
    assert "not priced" in page


def test_the_pngs_decode(data: ReportData, tmp_path: Path) -> None:
    image = pytest.importorskip("matplotlib.image")
    write_report(data, tmp_path)
    for path in sorted((tmp_path / "plots").glob("*.png")):
        raw = path.read_bytes()
        assert raw.startswith(PNG_MAGIC), path.name
        pixels = image.imread(io.BytesIO(raw), format="png")
        assert pixels.shape[0] > 100
        assert pixels.shape[1] > 100
        assert pixels.std() > 0  # not a blank image


def test_the_html_is_self_contained_and_escaped(data: ReportData, tmp_path: Path) -> None:
    page = write_report(data, tmp_path).read_text()
    assert "http://" not in page
    assert "https://" not in page
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; friends" in page
    assert "Run &lt;script&gt;" in page
    assert re.findall(r'<(?:img|link|script|iframe)[^>]*(?:src|href)="(?!data:)', page) == []


def test_without_matplotlib_the_report_has_tables_and_a_note(
    data: ReportData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    html_path = write_report(data, tmp_path)
    page = html_path.read_text()
    assert _images(page) == []
    assert not (tmp_path / "plots").exists()
    assert "pip install &#x27;curator_synth[report]&#x27;" in page
    assert "<caption>Reward score: helpfulness</caption>" in page
    assert "<caption>Cluster sizes (largest first)</caption>" in page
    assert "&lt;b&gt;misc&lt;/b&gt;" in page  # a cluster label, escaped in its table
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["plots"] == []
    assert stats["stages"][0]["name"] == "generate"


def test_a_large_bar_chart_table_is_cut_short(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    data = ReportData()
    data.set_cluster_sizes(list(range(1, 121)))
    page = write_report(data, tmp_path).read_text()
    assert "… 70 more rows in stats.json" in page
    assert len(json.loads((tmp_path / "stats.json").read_text())["cluster_sizes"]) == 120


def test_an_empty_report_is_written(tmp_path: Path) -> None:
    page = write_report(ReportData(), tmp_path).read_text()
    assert "No stages were recorded." in page
    assert json.loads((tmp_path / "stats.json").read_text())["totals"] == {
        "records_in": None,
        "records_out": None,
        "seconds": 0,
    }


def test_a_crash_while_writing_leaves_the_previous_report(
    data: ReportData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_report(ReportData(title="previous run"), tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    real_put = report_write._put

    def put_then_fail(temp: Path, content: bytes, final: Path) -> tuple[Path, Path]:
        if final.name == "report.html":
            temp.write_bytes(content[: len(content) // 2])  # half the page is on disk ...
            raise OSError("disk full")  # ... when the write fails
        return real_put(temp, content, final)

    monkeypatch.setattr(report_write, "_put", put_then_fail)
    with pytest.raises(OSError, match="disk full"):
        write_report(data, tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    assert "previous run" in (tmp_path / "report.html").read_text()


def test_out_dir_must_not_be_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        write_report(ReportData(), tmp_path / "file")


def test_plots_can_be_turned_off(data: ReportData, tmp_path: Path) -> None:
    page = write_report(data, tmp_path, plots=False).read_text()
    assert _images(page) == []
    assert "<caption>ROUGE-L F1 to the nearest seed</caption>" in page
