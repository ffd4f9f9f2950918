"""NeMo Curator 0.9's ``nemo_curator.utils``, as far as its filters need it: :mod:`.decorators` (``batched``) and
:mod:`.import_utils` (``safe_import``, ``is_unavailable``)."""

__all__: list[str] = []
