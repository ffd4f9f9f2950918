"""Reward models and LLM judges: scores per response, pairwise verdicts, and DPO preference pairs.

* :class:`RewardModel` / :class:`AsyncRewardModel`: ``mode="nemotron"`` (a Nemotron reward endpoint),
  ``"llm_judge"`` (any chat model with the rubric of ``prompt_templates/evaluation_criteria.yaml``) or
  ``"heuristic"`` (the offline :func:`~curator_synth.filters.quality_score`); one API for all three.
* :class:`PairwiseJudge`: compares two responses in both orders, keeps position-consistent verdicts.
* :func:`build_preference_pairs`: chosen/rejected pairs from scored responses; :func:`write_dpo_jsonl`.
"""

from curator_synth._lazy import lazy_getattr as _lazy_getattr
from curator_synth.reward.scores import ATTRIBUTES, JUDGE_WEIGHTS, NEMOTRON_WEIGHTS, RewardScores, weighted_overall

_LAZY = {
    "AsyncRewardModel": "curator_synth.reward.model",
    "RewardModel": "curator_synth.reward.model",
    "REWARD_MODES": "curator_synth.reward.modes",
    "AsyncPairwiseJudge": "curator_synth.reward.pairwise",
    "PairwiseJudge": "curator_synth.reward.pairwise",
    "PairwiseVerdict": "curator_synth.reward.pairwise",
    "PreferencePair": "curator_synth.reward.preference",
    "build_preference_pairs": "curator_synth.reward.preference",
    "write_dpo_jsonl": "curator_synth.reward.preference",
    "PairwiseReport": "curator_synth.reward.pairwise",
    "parse_verdict": "curator_synth.reward.pairwise",
    "pairs_from_verdicts": "curator_synth.reward.preference",
    "PAIR_STRATEGIES": "curator_synth.reward.preference",
    "DPO_FORMATS": "curator_synth.reward.preference",
    "RewardScorer": "curator_synth.reward.modes",
    "score_histograms": "curator_synth.reward.calibration",
    "mode_agreement": "curator_synth.reward.calibration",
}

__getattr__ = _lazy_getattr(__name__, _LAZY)

__all__ = [
    "ATTRIBUTES",
    "DPO_FORMATS",
    "JUDGE_WEIGHTS",
    "NEMOTRON_WEIGHTS",
    "PAIR_STRATEGIES",
    "REWARD_MODES",
    "AsyncPairwiseJudge",
    "AsyncRewardModel",
    "PairwiseJudge",
    "PairwiseReport",
    "PairwiseVerdict",
    "PreferencePair",
    "RewardModel",
    "RewardScorer",
    "RewardScores",
    "build_preference_pairs",
    "mode_agreement",
    "pairs_from_verdicts",
    "parse_verdict",
    "score_histograms",
    "weighted_overall",
    "write_dpo_jsonl",
]
