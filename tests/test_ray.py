"""Pool scoring on a real two-node Ray cluster (Ray's own ``Cluster`` test utility, on
loopback): same probabilities, same sample and same batch as the local engine. Skipped when
Ray is not installed; ``ACTIVELABEL_REQUIRE_RAY=1`` (set by ``scripts/test``) makes that an
error instead."""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

# Every node on loopback: without this Ray's Cluster utility advertises the machine's network
# address, which machines without a network (like CI sandboxes) cannot connect to.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

if importlib.util.find_spec("ray") is None:  # found without importing: collection stays fast
    reason = "Ray is not installed (pip install 'activelabel[ray]'); the Ray tests need it"
    if os.environ.get("ACTIVELABEL_REQUIRE_RAY", "") not in ("", "0", "false"):
        raise ImportError(f"{reason} (ACTIVELABEL_REQUIRE_RAY is set)") from None
    pytest.skip(reason, allow_module_level=True)

from activelabel.compute import local_predict, score_pool  # noqa: E402
from activelabel.compute.ray_engine import ray_predict  # noqa: E402
from activelabel.config import load_config  # noqa: E402
from activelabel.model import FrozenClassifier, ModelSettings  # noqa: E402
from activelabel.workspace import Workspace  # noqa: E402
from tests.cli import configure, init_workspace, run  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.slow]


@pytest.fixture(scope="module")
def cluster():
    import ray
    from ray.cluster_utils import Cluster

    nodes = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "include_dashboard": False, "node_ip_address": "127.0.0.1"},
    )
    nodes.add_node(num_cpus=1, node_ip_address="127.0.0.1")
    nodes.wait_for_nodes()
    ray.init(address=nodes.address)
    assert len([n for n in ray.nodes() if n["Alive"]]) == 2
    yield nodes
    ray.shutdown()
    nodes.shutdown()


def chunks(texts: list[str], size: int):
    for start in range(0, len(texts), size):
        yield (
            np.arange(start, start + len(texts[start : start + size])) + 100,
            texts[start : start + size],
        )


def test_ray_scoring_equals_local_scoring(cluster, tiny_model, tmp_path):
    texts = [f"headline {i} about {w}" for i in range(300) for w in ("cup", "vote")]
    settings = ModelSettings(tiny_model, mode="frozen", cache_dir=str(tmp_path / "cache"))
    classifier = FrozenClassifier(3, settings, seed=1)
    classifier.prepare(texts[:50])
    classifier.fit(texts[:30], np.arange(30) % 3)

    def scored(predict):
        return score_pool(
            predict,
            chunks(texts, 128),
            len(texts),
            3,
            embeddings=True,
            uncertain=True,
            rng=np.random.default_rng(5),
            sample_size=100,
        )

    local = scored(local_predict(classifier))
    counted = []
    remote = scored(ray_predict(classifier, workers=2, progress=counted.append))
    assert sum(counted) == len(texts)
    np.testing.assert_array_equal(remote.ids, local.ids)
    np.testing.assert_allclose(remote.probabilities, local.probabilities, atol=1e-6)
    np.testing.assert_array_equal(remote.sample_rows, local.sample_rows)
    np.testing.assert_allclose(remote.sample_embeddings, local.sample_embeddings, atol=1e-6)


def test_round_on_ray_selects_what_the_local_round_selects(
    cluster, tiny_model, small_corpus, tmp_path
):
    picks = {}
    for engine in ("local", "ray"):
        path = tmp_path / engine
        init_workspace(path, small_corpus, tiny_model, "--batch-size", 6, "--mode", "frozen")
        configure(path, loop={"strategy": "margin+kmeans"})
        assert run("round", path).exit_code == 0  # round 0 (random cold start) runs locally
        configure(path, compute={"engine": engine})
        assert load_config(path).compute.engine == engine
        result = run("round", path)
        assert result.exit_code == 0, result.output
        ws = Workspace.open(path)
        picks[engine] = [(s.round, s.item_id, s.arm) for s in ws.store.selections()]
        ws.store.close()
    assert picks["ray"] == picks["local"]


def test_export_on_ray_predicts_what_the_local_export_predicts(
    cluster, tiny_model, small_corpus, tmp_path
):
    path = tmp_path / "ws"
    init_workspace(path, small_corpus, tiny_model, "--batch-size", 6, "--mode", "frozen")
    assert run("round", path, "--rounds", "2").exit_code == 0
    written = {}
    for engine in ("local", "ray"):
        configure(path, compute={"engine": engine})
        out = tmp_path / f"{engine}.csv"
        result = run("export", "predictions", path, out)
        assert result.exit_code == 0, result.output
        written[engine] = out.read_text(encoding="utf-8")
    assert written["ray"] == written["local"]
    assert len(written["local"].splitlines()) == 1 + 75 - 6  # header, the unlabelled pool
