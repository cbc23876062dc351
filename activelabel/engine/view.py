"""The pool view a strategy gets: exactly the fields its ``needs`` declare, computed once."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from activelabel.compute import ScoredPool, pool_predictor, score_pool
from activelabel.config import ComputeConfig
from activelabel.engine.data import Candidates
from activelabel.errors import ActiveLabelError
from activelabel.evaluation import Evaluation, evaluate
from activelabel.model import Prediction, TextClassifier, pretrained_encoder
from activelabel.model.prior import topic_vectors
from activelabel.strategies import Need, PoolView, zero_shot_probabilities


def scoring_needed(needs: frozenset[Need]) -> bool:
    """Whether the candidates must be run through the model for these needs."""
    return bool(needs & {Need.PROBABILITIES, Need.EMBEDDINGS, Need.CLASS_RECALL})


def score(
    classifier: TextClassifier,
    candidates: Candidates,
    needs: frozenset[Need],
    rng: np.random.Generator,
    *,
    informed: bool,
    compute: ComputeConfig | None = None,
    progress=None,
) -> ScoredPool:
    """The model's probabilities for every candidate and, where needed, embeddings for all of
    them or a candidate subsample (see :mod:`activelabel.compute.stream`): the one place the
    pool is scored, in this process or on Ray (``compute``), chunk by chunk."""
    return score_pool(
        pool_predictor(compute or ComputeConfig(), classifier, progress),
        candidates.chunks(),
        candidates.size,
        classifier.n_classes,
        embeddings=Need.EMBEDDINGS in needs,
        uncertain=informed,
        rng=rng,
    )


def build_view(
    classifier: TextClassifier,
    needs: frozenset[Need],
    *,
    n_candidates: int,
    scored: Prediction | None,
    labelled_texts: Sequence[str],
    labelled_classes: np.ndarray,
    class_names: Sequence[str],
    class_recall: np.ndarray | None = None,
) -> PoolView:
    """A :class:`PoolView` holding the fields in ``needs`` and nothing else.

    ``scored`` is the model's prediction for the candidates (required when ``needs`` asks for
    probabilities or embeddings); labelled embeddings and topic embeddings are computed here,
    only when declared.
    """
    fields: dict = {"n_candidates": n_candidates}
    if needs & {Need.PROBABILITIES, Need.EMBEDDINGS} and scored is None:
        raise ActiveLabelError("the candidates must be scored for this strategy")
    if Need.PROBABILITIES in needs:
        fields["probabilities"] = scored.probabilities
    if Need.EMBEDDINGS in needs:
        fields["embeddings"] = scored.embeddings
    if Need.LABELED_EMBEDDINGS in needs:
        fields["labeled_embeddings"] = (
            classifier.predict(list(labelled_texts)).embeddings
            if len(labelled_texts)
            else np.zeros((0, scored.embeddings.shape[1] if scored is not None else 0))
        )
    if Need.LABELED_CLASSES in needs:
        fields["labeled_classes"] = np.asarray(labelled_classes, dtype=np.int64)
    if Need.CLASS_NAMES in needs:
        fields["class_names"] = tuple(class_names)
    if Need.CLASS_RECALL in needs:
        fields["class_recall"] = class_recall
    if Need.TOPIC_EMBEDDINGS in needs:
        fields["topic_embeddings"] = topic_embeddings(classifier)
    return PoolView(**fields)


def zero_shot_evaluation(
    classifier: TextClassifier, texts: Sequence[str], gold: np.ndarray, phase=None
) -> Evaluation | None:
    """Test-set scores of the zero-shot model (similarity to the topic descriptions): the bar
    a round-0 model is compared with. None without a test set or descriptions."""
    topics = topic_embeddings(classifier)
    if topics is None or not len(texts):
        return None
    progress = phase("zero-shot", len(texts)) if phase else None
    embeddings = pretrained_encoder(classifier).encode(list(texts), progress)
    return evaluate(zero_shot_probabilities(embeddings, topics), gold, classifier.n_classes)


def topic_embeddings(classifier: TextClassifier) -> np.ndarray | None:
    """Each class description's vector under the pre-trained encoder (None without them)."""
    if not classifier.topics:
        return None
    return topic_vectors(pretrained_encoder(classifier).encode, classifier.topics)
