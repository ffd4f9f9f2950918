"""What a client with no overhead of its own could do with a run's latencies: the yardsticks that
``recipe_throughput.py`` and ``tail_bound.py`` hold a measured wall time against.

A run is a list of chains, one per record: the latencies of its requests in order (responses, then judge). A
record's next request can only be sent once its previous one is answered, and at most ``concurrency`` requests are
in flight. :func:`greedy_makespan` is the time from the first request to the last answer for a client that spends
no time of its own and never lets a slot idle while a request is ready:

- ``"earlier stage first"``: it cannot know a latency before the answer comes (no client can); a free slot goes to
  the ready request of the earliest stage, then to the record that has waited longest. This is the order
  curator_synth's streamed chain uses (``request_priority``).
- ``"longest remaining first"``: it knows every latency in advance (no client does) and sends the record with the
  most time left on its chain first: how far foresight, not speed, could take a run.

:func:`stagewise_makespan` is the same client run stage by stage (``streaming: false``): every record's first
request, then, once all are answered, every second one.

:func:`littles_law_bound` is the sum of the latencies divided by ``concurrency``: the bound issue 17 states its
targets against, which leaves out the chains and the tail."""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Literal

__all__ = ["Policy", "greedy_makespan", "littles_law_bound", "stagewise_makespan"]

Policy = Literal["earlier stage first", "longest remaining first"]


def littles_law_bound(chains: Sequence[Sequence[float]], concurrency: int) -> float:
    """Seconds no client with ``concurrency`` requests in flight can beat: the summed latencies over ``concurrency``."""
    return sum(sum(chain) for chain in chains) / concurrency


def greedy_makespan(
    chains: Sequence[Sequence[float]], concurrency: int, policy: Policy = "earlier stage first"
) -> float:
    """Seconds from the first request to the last answer when every free slot at once takes the ready request that
    ``policy`` ranks first (see the module docstring), and the client itself costs nothing."""
    if concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, got {concurrency}")
    remaining = [sum(chain) for chain in chains]
    ready: list[tuple[float, int, int, int]] = []  # (rank, stage, arrival, record)
    arrivals = 0

    def make_ready(record: int, stage: int) -> None:
        nonlocal arrivals
        rank = -remaining[record] if policy == "longest remaining first" else stage
        heapq.heappush(ready, (rank, stage, arrivals, record))
        arrivals += 1

    for record, chain in enumerate(chains):
        if chain:
            make_ready(record, 0)
    in_flight: list[tuple[float, int, int]] = []  # (answered at, record, stage)
    now = 0.0
    while ready or in_flight:
        while ready and len(in_flight) < concurrency:
            _, stage, _, record = heapq.heappop(ready)
            heapq.heappush(in_flight, (now + chains[record][stage], record, stage))
        now, record, stage = heapq.heappop(in_flight)
        remaining[record] -= chains[record][stage]
        if stage + 1 < len(chains[record]):
            make_ready(record, stage + 1)
    return now


def stagewise_makespan(chains: Sequence[Sequence[float]], concurrency: int) -> float:
    """Seconds for the zero-overhead client to run the chains stage by stage: each stage's requests as one batch
    (:func:`greedy_makespan` of one-request chains), the next stage starting when the last answer of this one came."""
    stages = max((len(chain) for chain in chains), default=0)
    return sum(
        greedy_makespan([[chain[stage]] for chain in chains if len(chain) > stage], concurrency)
        for stage in range(stages)
    )
