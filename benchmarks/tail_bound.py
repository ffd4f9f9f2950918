"""How close to the Little's-law bound any client can get, whatever its speed: the recipe of
``recipe_throughput.py`` (N records, each a responses request then a judge request, C in flight) with latencies
drawn independently from its lognormal (median 0.4 s, sigma 1), many times over, each draw run through the
zero-overhead clients of ``_schedule.py``:

- ``ideal / bound``: the client that learns a latency only when its answer comes (every real client), sending the
  earlier stage first, as curator_synth does; ``share <= target`` is how many draws reach issue 17's target even so.
- ``foresight / bound``: the same client told every latency in advance (no real client), longest chain first.
- ``stage by stage / streamed``: that client run stage by stage against it streamed, on the same draw: the most any
  client's streaming can gain over ``streaming: false``; ``share >= 1.5`` is how many draws allow issue 17's 1.5x.

No server runs: this is arithmetic on the latencies, the yardstick the measured runs are held against.

    python benchmarks/tail_bound.py                                   # 1,000 records x 1,000 draws, 10,000 x 200
    python benchmarks/tail_bound.py --records 1000 --draws 200
"""

from __future__ import annotations

import argparse
import math
import random
import statistics

from _schedule import greedy_makespan, littles_law_bound, stagewise_makespan

TARGETS = {1000: 1.2, 10000: 1.1}  # issue 17's wall / bound at 1,000 and at 10,000 records


def draw(records: int, seed: int, median: float, sigma: float) -> list[list[float]]:
    """One run's latencies: two per record, lognormal, independent."""
    rng = random.Random(seed)
    return [[median * math.exp(sigma * rng.gauss(0.0, 1.0)) for _ in range(2)] for _ in range(records)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--draws", type=int, default=None, help="draws per record count (1,000, or 200 at >5,000)")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--median", type=float, default=0.4)
    parser.add_argument("--sigma", type=float, default=1.0)
    args = parser.parse_args()
    if args.draws is not None and args.draws < 2:
        parser.error("--draws must be at least 2 (the table gives deciles)")
    print(f"responses -> judge, C={args.concurrency}, lognormal median {args.median} s, sigma {args.sigma}")
    print(f"{'records':>8}{'draws':>7}{'ideal / bound: mean':>21}{'p10':>7}{'p50':>7}{'p90':>7}{'target':>8}"
          f"{'share <= target':>17}{'foresight / bound':>19}{'stage by stage / streamed':>27}{'p90':>7}"
          f"{'share >= 1.5':>14}")  # fmt: skip
    for records in args.records:
        draws = args.draws or (200 if records > 5000 else 1000)
        ideal, foresight, gain = [], [], []
        for seed in range(draws):
            chains = draw(records, seed, args.median, args.sigma)
            bound = littles_law_bound(chains, args.concurrency)
            streamed = greedy_makespan(chains, args.concurrency)
            ideal.append(streamed / bound)
            foresight.append(greedy_makespan(chains, args.concurrency, "longest remaining first") / bound)
            gain.append(stagewise_makespan(chains, args.concurrency) / streamed)
        deciles, gain_deciles = statistics.quantiles(ideal, n=10), statistics.quantiles(gain, n=10)
        target = TARGETS.get(records, 1.2)
        reached = sum(value <= target for value in ideal) / draws
        allowed = sum(value >= 1.5 for value in gain) / draws
        print(f"{records:>8,}{draws:>7}{statistics.mean(ideal):>21.2f}{deciles[0]:>7.2f}{deciles[4]:>7.2f}"
              f"{deciles[8]:>7.2f}{target:>8.1f}{reached:>17.0%}{statistics.mean(foresight):>19.2f}"
              f"{statistics.mean(gain):>27.2f}{gain_deciles[8]:>7.2f}{allowed:>14.0%}")  # fmt: skip


if __name__ == "__main__":
    main()
