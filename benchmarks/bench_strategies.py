"""Label efficiency of the learner and the query strategies, against random + the plain model.

Corpora: the BBC headlines; BBC with one topic thinned to ~3 % of the pool; the Reuters titles
in ``../shared/corpora/reuters-titles.csv`` (24 topics in natural proportions) with short
keyword descriptions, and the same with topic names only; for checks on data the defaults were
not chosen on, ``bbc-thin:WORD`` (another topic thinned; ``bbc-thin:*`` each in turn), ``sib``
(SIB-200-en, ``../shared/corpora/sib200-en.csv``, 7 topics, a 20 % stratified test split) and
``sib-thin:WORD`` / ``sib-thin:*``, ``bbc-skew`` (imbalanced pool and test) and
``--split-seeds``. A thinned corpus also gets a table of its thinned topic's recall at 20 → 500
labels; an unthinned one, each topic's recall at 100. For languages, ``sib200-en``/``-fr``/``-de``/
``-es`` (``../shared/corpora``: the same 1,004 sentences, not headlines, in four languages; the
source's train+dev as pool, its test split as test), with ``--model`` naming the encoder (default:
the one ``init`` chooses by language) and ``--keywords`` the language of the topic keywords. Each
arm is one workspace and one ``run_simulation`` (the product code path) over the same seeds and
schedule:

- ``random+plain``: random labels, frozen logistic head without descriptions or pseudo-labels;
- ``random+learner``: random labels, the default learner (the model's gain);
- ``default``: the default cold start, strategy and learner (the selection's gain on top);
- further arms (``--arms``) vary one lever of the default.

Target = 95 % of random+plain's accuracy at the full budget. Per corpus and arm it prints the
labels to reach the target and the ratio to random+plain's, the AUC of the accuracy curve,
accuracy and macro-F1 at fixed budgets, the rare topic's recall (thinned BBC) and the topics
never hit.

    .venv/bin/python benchmarks/bench_strategies.py --seeds 5 --corpora bbc,bbc-thin,reuters
    .venv/bin/python benchmarks/bench_strategies.py --corpora sib200-fr --budget 300 \
        --budgets 20,50,100,300 --model multilingual
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from activelabel.config import (
    Config,
    CorpusConfig,
    LoopConfig,
    ModelConfig,
    TaxonomyConfig,
    parse_strategy,
)
from activelabel.corpus import load_corpus
from activelabel.corpus.records import Record
from activelabel.corpus.split import stratified_split
from activelabel.evaluation import CurvePoint, evaluate
from activelabel.init import create_workspace
from activelabel.model import (
    ModelSettings,
    frozen,
    make_classifier,
    resolve_model,
    topic_descriptions,
)
from activelabel.model.names import TOPIC_VECTORS
from activelabel.model.presets import language_line
from activelabel.report.summary import (
    Curve,
    by_seed,
    curve,
    labels_to_reach,
    normalised_auc,
    point_at_budget,
)
from activelabel.simulate import Plan, run_simulation
from activelabel.strategies import STRATEGIES, WRAPPERS, Hunted, ZeroShotSeed
from activelabel.workspace import Workspace

RARE_TOPIC = "science and technology"
SKEW = (0.40, 0.25, 0.17, 0.11, 0.07)  # bbc-skew: topic shares of pool and test, names sorted
CORPORA = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpora"
REUTERS = CORPORA / "reuters-titles.csv"
SIB = CORPORA / "sib200-en.csv"
SIB_TOPICS = {  # short keyword descriptions, written for this benchmark only
    "entertainment": "film, music, concert, festival, celebrity, television show",
    "geography": "mountains, rivers, islands, continent, climate, region, sea",
    "health": "disease, virus, doctors, hospital, medicine, patients",
    "politics": "government, president, election, parliament, minister, law",
    "science/technology": "scientists, research, space, computers, technology, discovery",
    "sports": "match, team, championship, players, race, olympics",
    "travel": "tourists, trip, hotel, visitors, travellers, flights, visa",
}
THIN_SHARE = 0.03  # a thinned topic's share of the pool
RECALL_BUDGETS = (20, 40, 60, 80, 100, 150, 200, 300, 500)
NEVER_HIT_BUDGETS = (50, 100, 200, 500)
REUTERS_TOPICS = {  # short keyword descriptions, written for this benchmark only
    "earn": "earnings, net profit, quarterly results, dividend, revenue, shr, qtr",
    "acq": "acquisition, merger, takeover, buys stake, to acquire, sells unit",
    "crude": "crude oil, OPEC, petroleum, barrel, oil prices, refinery",
    "money-fx": "foreign exchange, currency, dollar, yen, central bank intervention",
    "interest": "interest rates, prime rate, discount rate, rate cut, lending rate",
    "trade": "trade deficit, trade surplus, exports, imports, tariffs, trade talks",
    "ship": "shipping, vessels, tanker, port, freight, seamen strike",
    "money-supply": "money supply, M1, M2, M3, bank lending growth",
    "sugar": "sugar, sugar beet, cane, sugar crop, sugar tender",
    "coffee": "coffee, ICO, coffee quotas, coffee exports",
    "gold": "gold, gold mine, ounces, bullion",
    "alum": "aluminium, aluminum, alumina, smelter",
    "cpi": "consumer prices, inflation, cost of living",
    "gnp": "GNP, GDP, economic growth, gross national product",
    "cocoa": "cocoa, cocoa buffer stock, cocoa beans",
    "copper": "copper, copper price, copper mine",
    "nat-gas": "natural gas, gas pipeline, gas reserves",
    "jobs": "unemployment, jobless rate, employment, jobs",
    "iron-steel": "steel, iron ore, steelmaker, steel output",
    "veg-oil": "vegetable oil, palm oil, soybean oil, oilseeds",
    "reserves": "foreign exchange reserves, currency reserves, gold reserves",
    "ipi": "industrial production, industrial output, factory output",
    "tin": "tin, tin council, tin price",
    "grain": "grain, wheat, corn, maize, barley",
}
SIB200 = REUTERS.parent / "sib200-{}.csv"
# the seven SIB-200 topics with keywords in each language, written for this benchmark only
SIB200_TOPICS = {
    "en": {
        "science/technology": "science, research, scientists, technology, computer, internet, "
        "space, discovery",
        "travel": "travel, tourists, hotel, flight, visit, trip, visa, luggage",
        "politics": "government, election, president, minister, parliament, party, vote, law",
        "sports": "match, team, player, championship, win, football, race, coach",
        "health": "health, disease, doctors, hospital, virus, patients, treatment, vaccine",
        "entertainment": "music, film, festival, concert, show, actor, singer, television",
        "geography": "river, mountain, island, region, country, population, climate, ocean",
    },
    "fr": {
        "science/technology": "science, recherche, scientifiques, technologie, ordinateur, "
        "internet, espace, découverte",
        "travel": "voyage, touristes, hôtel, vol, visite, séjour, visa, bagages",
        "politics": "gouvernement, élection, président, ministre, parlement, parti, vote, loi",
        "sports": "match, équipe, joueur, championnat, victoire, football, course, entraîneur",
        "health": "santé, maladie, médecins, hôpital, virus, patients, traitement, vaccin",
        "entertainment": "musique, film, festival, concert, spectacle, acteur, chanteur, "
        "télévision",
        "geography": "fleuve, montagne, île, région, pays, population, climat, océan",
    },
    "de": {
        "science/technology": "Wissenschaft, Forschung, Wissenschaftler, Technologie, Computer, "
        "Internet, Weltraum, Entdeckung",
        "travel": "Reise, Touristen, Hotel, Flug, Besuch, Urlaub, Visum, Gepäck",
        "politics": "Regierung, Wahl, Präsident, Minister, Parlament, Partei, Abstimmung, Gesetz",
        "sports": "Spiel, Mannschaft, Spieler, Meisterschaft, Sieg, Fußball, Rennen, Trainer",
        "health": "Gesundheit, Krankheit, Ärzte, Krankenhaus, Virus, Patienten, Behandlung, "
        "Impfstoff",
        "entertainment": "Musik, Film, Festival, Konzert, Show, Schauspieler, Sänger, Fernsehen",
        "geography": "Fluss, Berg, Insel, Region, Land, Bevölkerung, Klima, Ozean",
    },
    "es": {
        "science/technology": "ciencia, investigación, científicos, tecnología, ordenador, "
        "internet, espacio, descubrimiento",
        "travel": "viaje, turistas, hotel, vuelo, visita, estancia, visado, equipaje",
        "politics": "gobierno, elecciones, presidente, ministro, parlamento, partido, voto, ley",
        "sports": "partido, equipo, jugador, campeonato, victoria, fútbol, carrera, entrenador",
        "health": "salud, enfermedad, médicos, hospital, virus, pacientes, tratamiento, vacuna",
        "entertainment": "música, película, festival, concierto, espectáculo, actor, cantante, "
        "televisión",
        "geography": "río, montaña, isla, región, país, población, clima, océano",
    },
}
PLAIN = {"topic_weight": 0.0, "pseudo_labels": "none", "prior": "none"}
MODEL = "default"  # --model: the encoder every arm uses (default: init chooses by language)
KEYWORDS = "native"  # --keywords: sib200 topic keywords in the corpus's language, or english


@dataclass(frozen=True)
class Arm:
    strategy: str
    cold_start: str
    model: dict = field(default_factory=dict)
    random_share: float = 0.0  # part of each batch drawn at random (loop.random_share)


DEFAULT_LOOP = LoopConfig()
# hunt(X) with another share than the default (0: two labels per topic, the earlier hunt);
# spec names for this benchmark only (the spec grammar takes letters, no arguments)
HUNT_SHARES = {"huntzero": 0.0, "huntquarter": 0.25, "huntfull": 1.0}
for _name, _share in HUNT_SHARES.items():
    WRAPPERS[_name] = lambda base, share=_share: Hunted(base, share=share)
# the hunt on evidence: low recall on picked rows hunts too, and a topic with labels gets base's
# choice among its likeliest rows
WRAPPERS["huntevidence"] = lambda base: Hunted(base, recall_floor=0.5, within_base=True)
WRAPPERS["huntwithin"] = lambda base: Hunted(base, within_base=True)
# the zero-shot cold start before its picks were spread: each cluster's surest row, clusters
# over the confident half of a topic's rows
STRATEGIES["zero-shot-typical"] = lambda: ZeroShotSeed(confident=0.5, central=False)
ARMS = {
    "random+plain": Arm("random", "random", PLAIN),
    "random+learner": Arm("random", "random"),
    "default": Arm(DEFAULT_LOOP.strategy, DEFAULT_LOOP.cold_start),
    "margin+learner": Arm("margin", DEFAULT_LOOP.cold_start),
    **{
        f"default/{shares}-shares": Arm(
            DEFAULT_LOOP.strategy, DEFAULT_LOOP.cold_start, {"pseudo_shares": shares}
        )
        for shares in ("balanced", "predicted", "mixed", "cv")
    },
    "default/spreading": Arm(
        DEFAULT_LOOP.strategy, DEFAULT_LOOP.cold_start, {"pseudo_labels": "spreading"}
    ),
    **{
        f"default/per-class-{n}": Arm(
            DEFAULT_LOOP.strategy, DEFAULT_LOOP.cold_start, {"pseudo_per_class": n}
        )
        for n in (50, 75)
    },
    **{
        f"default/keep-{n}": Arm(
            DEFAULT_LOOP.strategy, DEFAULT_LOOP.cold_start, {"topic_keep_labels": n}
        )
        for n in (5, 10, 20)
    },
    **{
        f"default/keep-{n}/balanced-shares": Arm(
            DEFAULT_LOOP.strategy,
            DEFAULT_LOOP.cold_start,
            {"topic_keep_labels": n, "pseudo_shares": "balanced"},
        )
        for n in (10,)
    },
    **{
        f"default/{hunt}/keep-10": Arm(
            f"{hunt}(margin)", DEFAULT_LOOP.cold_start, {"topic_keep_labels": 10}
        )
        for hunt in ("huntevidence", "huntwithin")
    },
    **{
        f"default/prior-{prior}": Arm(
            DEFAULT_LOOP.strategy, DEFAULT_LOOP.cold_start, {"prior": prior}
        )
        for prior in ("balanced", "test", "lift")
    },
    **{
        f"default/keep-{n}/prior-test": Arm(
            DEFAULT_LOOP.strategy,
            DEFAULT_LOOP.cold_start,
            {"topic_keep_labels": n, "prior": "test"},
        )
        for n in (10, 50)
    },
    **{
        f"default/prior-{estimate}": Arm(
            DEFAULT_LOOP.strategy, DEFAULT_LOOP.cold_start, {"prior_estimate": estimate}
        )
        for estimate in ("decisions", "geometric")
    },
    "margin+learner/keep-10": Arm("margin", DEFAULT_LOOP.cold_start, {"topic_keep_labels": 10}),
    "default/no-shrink": Arm(
        DEFAULT_LOOP.strategy, DEFAULT_LOOP.cold_start, {"pseudo_min_scale": 1.0}
    ),
    "default/prompt-vectors": Arm(
        DEFAULT_LOOP.strategy, DEFAULT_LOOP.cold_start, {"topic_vectors": "prompt"}
    ),
    "default/no-pseudo": Arm(
        DEFAULT_LOOP.strategy, DEFAULT_LOOP.cold_start, {"pseudo_labels": "none"}
    ),
    **{
        f"default/hunt-share-{share:g}": Arm(f"{name}(margin)", DEFAULT_LOOP.cold_start)
        for name, share in HUNT_SHARES.items()
    },
    **{
        f"default/{base}": Arm(f"hunt({base})", DEFAULT_LOOP.cold_start)
        for base in ("entropy", "least-confidence", "margin+kmeans")
    },
    **{
        f"default/random-{round(100 * share)}": Arm(
            DEFAULT_LOOP.strategy, DEFAULT_LOOP.cold_start, random_share=share
        )
        for share in (0.1, 0.25, 0.5)
    },
    **{
        f"default/{cold}-cold": Arm(DEFAULT_LOOP.strategy, cold)
        for cold in (
            "random",
            "kmeans",
            "topics",
            "zero-shot-typical",
        )
    },
    **{
        f"default/kmeans-cold/{base}": Arm(f"hunt({base})", "kmeans")
        for base in ("margin+kmeans", "entropy")
    },
    "old-default": Arm("balanced(margin+kmeans)", "random", PLAIN),
}


def _write_csv(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "label"])
        writer.writerows(rows)
    return path


def write_corpus(folder: Path, name: str, seed: int = 0) -> tuple[Path, Path, Path | None]:
    """pool.csv, test.csv (20 % stratified) and a taxonomy file (None: the built-in one)."""
    taxonomy = None
    if name.startswith("sib200-"):
        return write_sib200(folder, name.split("-", 1)[1])
    if name.startswith("reuters"):
        with REUTERS.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        records = [Record(f"r{i}", r["headline"], r["category"]) for i, r in enumerate(rows)]
        keep_keywords = name == "reuters"
        taxonomy = _write_taxonomy(
            folder, {t: w if keep_keywords else "" for t, w in REUTERS_TOPICS.items()}
        )
    elif name.startswith("sib"):
        with SIB.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        records = [Record(f"s{i}", r["text"], r["category"]) for i, r in enumerate(rows)]
        taxonomy = _write_taxonomy(folder, SIB_TOPICS)
    else:
        records = list(load_corpus("bbc").records)
    if name == "bbc-skew":
        records = skewed(records, seed)
    labels = [r.label for r in records]
    test_rows = set(stratified_split(labels, round(0.2 * len(records)), seed).tolist())
    pool = [r for i, r in enumerate(records) if i not in test_rows]
    test = [r for i, r in enumerate(records) if i in test_rows]
    topic = rare_topic(name, {r.label for r in records})
    if topic is not None:
        others = [r for r in pool if r.label != topic]
        rare = [r for r in pool if r.label == topic]
        keep = round(THIN_SHARE * len(others) / (1 - THIN_SHARE))
        chosen = np.random.default_rng(seed).permutation(len(rare))[:keep]
        pool = others + [rare[i] for i in sorted(chosen)]
    return (
        _write_csv(folder / "pool.csv", [(r.ext_id, r.text, r.label) for r in pool]),
        _write_csv(folder / "test.csv", [(r.ext_id, r.text, r.label) for r in test]),
        taxonomy,
    )


def write_sib200(folder: Path, language: str) -> tuple[Path, Path, Path]:
    """The source's own split: pool = train + dev (800), test = test (204); a taxonomy of its
    seven topics with keywords in ``language`` (or English, ``--keywords english``)."""
    with SIB200.with_name(SIB200.name.format(language)).open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    pool = [(f"s{i}", r["text"], r["category"]) for i, r in enumerate(rows) if r["split"] != "test"]
    test = [(f"s{i}", r["text"], r["category"]) for i, r in enumerate(rows) if r["split"] == "test"]
    taxonomy = _write_taxonomy(folder, SIB200_TOPICS["en" if KEYWORDS == "english" else language])
    return _write_csv(folder / "pool.csv", pool), _write_csv(folder / "test.csv", test), taxonomy


def _write_taxonomy(folder: Path, topics: dict[str, str]) -> Path:
    taxonomy = folder / "taxonomy.csv"
    with taxonomy.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "keywords"])
        writer.writerows(topics.items())
    return taxonomy


def rare_topic(name: str, topics: set[str]) -> str | None:
    """The thinned topic of ``bbc-thin`` (science and technology) or ``CORPUS-thin:WORD`` (the
    topic whose name starts with WORD, thinned to 3 % of the pool; ``sib-thin:health``); None
    for other corpora."""
    if "-thin" not in name:
        return None
    if ":" not in name:
        return RARE_TOPIC
    word = name.split(":", 1)[1]
    found = sorted(t for t in topics if t.startswith(word))
    if len(found) != 1:
        raise SystemExit(f"{name}: no single topic starts with {word!r}: {sorted(topics)}")
    return found[0]


def skewed(records: list[Record], seed: int) -> list[Record]:
    """The corpus with topic shares ``SKEW`` (sorted topic names), a seeded subsample."""
    topics = sorted({r.label for r in records})
    by_topic = {t: [r for r in records if r.label == t] for t in topics}
    total = min(len(by_topic[t]) / share for t, share in zip(topics, SKEW, strict=True))
    rng = np.random.default_rng(seed)
    kept = []
    for topic, share in zip(topics, SKEW, strict=True):
        members = by_topic[topic]
        chosen = rng.permutation(len(members))[: int(total * share)]
        kept += [members[i] for i in sorted(chosen)]
    return kept


def share_embeddings() -> None:
    """Every workspace of this process reuses the frozen encoder's embeddings of a text (the
    encoder never changes, so every number is the same; each arm just skips re-encoding)."""
    caches: dict[tuple, dict] = {}
    original = frozen.FrozenEncoder.__init__

    def init(self, settings, tokens, device):
        original(self, settings, tokens, device)
        self.cache = caches.setdefault((settings.model_path, tokens.max_length), {})

    frozen.FrozenEncoder.__init__ = init


def run_arm(folder: Path, files, arm: Arm, seeds: list[int], budget: int):
    pool_csv, test_csv, taxonomy = files
    config = Config(
        corpus=CorpusConfig(str(pool_csv), id_column="id", test=str(test_csv)),
        taxonomy=TaxonomyConfig(name=str(taxonomy)) if taxonomy else TaxonomyConfig(),
        model=replace(ModelConfig(name=MODEL, mode="frozen"), **arm.model),
        loop=LoopConfig(seed=0),
    )
    create_workspace(folder, config)
    ws = Workspace.open(folder)
    sizes = sizes_for(len(ws.store.items("pool")), budget)  # the pool without duplicates
    plan = Plan(
        [parse_strategy(arm.strategy)],
        seeds,
        sizes,
        "frozen",
        parse_strategy(arm.cold_start),
        random_share=arm.random_share,
    )
    return ws, run_simulation(ws, plan)


STEPS = [20, 30, 40, 50, 60, 80, 100, 120, 150, 200, 300, 400, 500, 700, 1000, 1500, 2000]


def sizes_for(pool: int, budget: int) -> list[int]:
    """20 → budget (or the pool): fine steps early, coarser later (``--steps``)."""
    steps = STEPS
    top = min(budget, pool)
    return [s for s in steps if s < top] + [top]


def zero_shot_accuracy(ws: Workspace, vectors: str) -> float:
    """Test accuracy of the default learner before any label (whichever arm made ``ws``), with
    topic vectors ``vectors``."""
    names = ws.class_names
    settings = ws.config.model_settings(resolve_model(ws.config.model.name))
    default = ModelSettings(settings.model_path)
    settings = replace(settings, topic_weight=default.topic_weight, topic_vectors=vectors)
    topics = topic_descriptions(ws.taxonomy.topics, settings.topic_vectors)
    classifier = make_classifier("frozen", len(names), settings, topics=topics)
    test = ws.store.items("test")
    classifier.prepare([i.text for i in ws.store.items()])  # as a round does: pool and test
    classifier.fit([], np.empty(0, dtype=np.int64))
    probabilities = classifier.predict([i.text for i in test]).probabilities
    return evaluate(
        probabilities, np.array([names.index(i.gold) for i in test]), len(names)
    ).accuracy


def at_budget(points: list[CurvePoint], budget: int, value) -> tuple[float, float]:
    values = [value(point_at_budget(p, budget)) for p in by_seed(points).values()]
    return float(np.mean(values)), float(np.std(values, ddof=1) if len(values) > 1 else 0.0)


def report(
    name: str,
    ws: Workspace,
    results: dict,
    budgets: list[int],
    elapsed: float,
    splits: list[int],
    zero_shot: dict[str, float],
    split_ratios: dict[str, list[str]] | None = None,
) -> None:
    """One table: a split's runs, or (``split_ratios`` given) every split's runs pooled."""
    names = ws.class_names
    pool = ws.store.items("pool")
    counts = {n: sum(1 for i in pool if i.gold == n) for n in names}
    base_curve, target, base_labels = baseline(results)
    topic = rare_topic(name, set(names))
    rare = names.index(topic) if topic else None
    where = (
        f"split seed {splits[0]}"
        if len(splits) == 1
        else f"split seeds {', '.join(map(str, splits))} pooled"
    )
    print(
        f"\n## {name}: pool {len(pool)}, test {len(ws.store.items('test'))}, "
        f"{len(names)} topics (smallest {min(counts.values())} in the pool), "
        f"{len(by_seed(results['random+plain']))} runs per arm, {where}, "
        f"{base_curve.n_labels[0]:.0f}→{base_curve.n_labels[-1]:.0f} labels, {elapsed:.0f} s; "
        f"{language_line(ws.config.corpus.language, ws.config.model.name)}"
    )
    print(
        f"random+plain at the full budget: {100 * base_curve.final:.1f} %; "
        f"target (95 %): {100 * target:.1f} %; the learner with 0 labels (zero-shot): "
        f"{100 * zero_shot['keywords']:.1f} % (topic vectors from keywords; from the prompt: "
        f"{100 * zero_shot['prompt']:.1f} %)"
    )
    header = ["arm", "labels→target", "ratio", "AUC"]
    if split_ratios is not None:
        header.append("ratio per split")
    header += [f"acc @{b}" for b in budgets] + [f"macro-F1 @{b}" for b in budgets]
    if rare is not None:
        header.append(f"rare recall @100 ({topic})")
    header += [f"never hit @{b}" for b in NEVER_HIT_BUDGETS]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for arm, points in results.items():
        c, reach = reach_of(points, target)
        auc = normalised_auc(c.n_labels, c.mean, c.n_labels[0], c.n_labels[-1])
        cells = [
            arm,
            str(reach) if reach else f">{c.n_labels[-1]:.0f}",
            ratio_text(reach, base_labels),
            f"{100 * auc:.1f}",
        ]
        if split_ratios is not None:
            cells.append(" ".join(split_ratios[arm]))
        cells += [_cell(at_budget(points, b, _accuracy)) for b in budgets]
        cells += [_cell(at_budget(points, b, _macro_f1)) for b in budgets]
        if rare is not None:
            cells.append(_cell(at_budget(points, 100, lambda p: _recall(p, rare)), digits=0))
        cells += [f"{at_budget(points, b, _never_hit)[0]:.1f}" for b in NEVER_HIT_BUDGETS]
        print("| " + " | ".join(cells) + " |", flush=True)
    if rare is not None:
        thinned_table(topic, rare, results)
    else:
        topic_table(names, results)


def thinned_table(topic: str, rare: int, results: dict) -> None:
    """The thinned topic's recall as labels arrive (seed means), its worst fall below its
    20-label recall, and accuracy at 20 and 100 labels."""
    print(f"\nthinned topic {topic}: recall % at each budget (mean over runs)")
    header = ["arm", *(f"@{b}" for b in RECALL_BUDGETS), "worst fall", "acc @20", "acc @100"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for arm, points in results.items():
        recall = [at_budget(points, b, lambda p: _recall(p, rare))[0] for b in RECALL_BUDGETS]
        fall = max(recall[0] - r for r in recall[1:])
        accuracy = [at_budget(points, b, _accuracy)[0] for b in (20, 100)]
        cells = [arm, *(f"{100 * r:.1f}" for r in recall), f"{100 * fall:.1f}"]
        cells += [f"{100 * a:.1f}" for a in accuracy]
        print("| " + " | ".join(cells) + " |", flush=True)


def topic_table(names: list[str], results: dict) -> None:
    """Each topic's recall at 100 labels (seed means): what thinning a topic is compared with."""
    print("\nrecall % of each topic at 100 labels (mean over runs)")
    print("| arm | " + " | ".join(names) + " |")
    print("|" + "---|" * (len(names) + 1))
    for arm, points in results.items():
        cells = [
            f"{100 * at_budget(points, 100, lambda p, c=c: _recall(p, c))[0]:.1f}"
            for c in range(len(names))
        ]
        print(f"| {arm} | " + " | ".join(cells) + " |", flush=True)


def ratio_text(reach: int | None, base_labels: int | None) -> str:
    return f"{reach / base_labels:.2f}" if reach and base_labels else "–"


def baseline(results: dict) -> tuple[Curve, float, int | None]:
    """random+plain's seed-mean curve, the target (95 % of its full-budget accuracy) and the
    labels it needs to reach it."""
    base = curve(results["random+plain"], results["random+plain"][0].run, "frozen")
    target = 0.95 * base.final
    return base, target, labels_to_reach(base.n_labels, base.mean, target)


def reach_of(points: list[CurvePoint], target: float) -> tuple[Curve, int | None]:
    """An arm's seed-mean curve and the labels it needs to reach ``target``."""
    c = curve(points, points[0].run, "frozen")
    return c, labels_to_reach(c.n_labels, c.mean, target)


def split_ratio(results: dict, arm: str) -> str:
    """An arm's labels to target over random+plain's, on one split's seed-mean curves."""
    _, target, base_labels = baseline(results)
    return ratio_text(reach_of(results[arm], target)[1], base_labels)


def pooled(per_split: list[dict]) -> dict:
    """Every split's points per arm as one set of runs (seed = split index × 1000 + seed).

    Pools can differ by a few headlines between splits (duplicates fall on either side); each
    split's last point, the whole pool, is placed at the smallest pool so the curves end together.
    """
    tops = [max(p.n_labels for p in results["random+plain"]) for results in per_split]
    merged: dict[str, list[CurvePoint]] = {}
    for index, results in enumerate(per_split):
        for arm, points in results.items():
            merged.setdefault(arm, []).extend(
                replace(
                    p,
                    seed=index * 1000 + p.seed,
                    n_labels=min(tops) if p.n_labels == tops[index] else p.n_labels,
                )
                for p in points
            )
    return merged


def _cell(value: tuple[float, float], digits: int = 1) -> str:
    mean, sd = value
    return f"{100 * mean:.{digits}f} ± {100 * sd:.{digits}f}"


def _accuracy(p: CurvePoint) -> float:
    return p.evaluation.accuracy


def _macro_f1(p: CurvePoint) -> float:
    return p.evaluation.macro_f1


def _recall(p: CurvePoint, cls: int) -> float:
    return p.evaluation.per_class_correct[cls] / max(1, p.evaluation.per_class_total[cls])


def _never_hit(p: CurvePoint) -> float:
    return float(sum(1 for count in p.selected_counts if count == 0))


def expand(names: list[str]) -> list[str]:
    """``bbc-thin:*`` and ``sib-thin:*``: every topic of the corpus thinned in turn."""
    out = []
    for name in names:
        if name == "bbc-thin:*":
            out += [f"bbc-thin:{t}" for t in sorted({r.label for r in load_corpus("bbc").records})]
        elif name == "sib-thin:*":
            out += [f"sib-thin:{t}" for t in SIB_TOPICS]
        else:
            out.append(name)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--corpora",
        default="bbc,bbc-thin,reuters,reuters-names",
        help="comma-separated: bbc, bbc-thin (science and technology at 3 %% of the pool), "
        "bbc-thin:WORD, bbc-thin:* (each topic in turn), bbc-skew, reuters, reuters-names, sib "
        "(SIB-200-en), sib-thin:WORD, sib-thin:*",
    )
    parser.add_argument("--arms", default="random+plain,random+learner,default")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=int, default=2000)
    parser.add_argument("--budgets", default="20,50,100,200,500")
    parser.add_argument(
        "--split-seeds",
        default="0",
        help="seeds of the test split (and of thinning), comma-separated; with several, each "
        "split gets its table and a last table pools them all",
    )
    parser.add_argument(
        "--model",
        default="default",
        help="the encoder of every arm: default (init chooses by the corpus's language), "
        "english, multilingual, a folder or hub id",
    )
    parser.add_argument(
        "--keywords",
        choices=("native", "english"),
        default="native",
        help="sib200 corpora: topic keywords in the corpus's language or in English",
    )
    parser.add_argument(
        "--steps",
        default="",
        help="label counts of the rounds, comma-separated (default: 20, 30, 40, 50, 60, 80, "
        "100, ... up to the budget); fewer steps make a cheaper run",
    )
    args = parser.parse_args()
    global MODEL, KEYWORDS, STEPS
    MODEL, KEYWORDS = args.model, args.keywords
    if args.steps:
        STEPS = [int(s) for s in args.steps.split(",")]
    arms = [a.strip() for a in args.arms.split(",")]
    arms = ["random+plain", *[a for a in arms if a != "random+plain"]]
    unknown = [a for a in arms if a not in ARMS]
    if unknown:
        parser.error(f"unknown arm {unknown[0]!r}; known: {', '.join(ARMS)}")
    budgets = [int(b) for b in args.budgets.split(",")]
    seeds = list(range(args.seeds))
    splits = [int(s) for s in args.split_seeds.split(",")]
    share_embeddings()
    with tempfile.TemporaryDirectory() as tmp:
        for name in expand(args.corpora.split(",")):
            if name.startswith("sib200-"):
                source = SIB200.with_name(SIB200.name.format(name.split("-", 1)[1]))
            elif name.startswith("reuters"):
                source = REUTERS
            elif name.startswith("sib"):
                source = SIB
            else:
                source = None
            if source is not None and not source.is_file():
                print(f"\n## {name}: skipped, {source.resolve()} is absent")
                continue
            per_split, zero_shots, started = [], [], time.perf_counter()
            for split in splits:
                folder = Path(tmp) / f"{name.replace(':', '-').replace('/', '-')}-split{split}"
                folder.mkdir()
                files = write_corpus(folder, name, split)
                clock = time.perf_counter()
                results = {}
                for arm in arms:
                    ws, results[arm] = run_arm(folder / arm, files, ARMS[arm], seeds, args.budget)
                zero_shots.append({v: zero_shot_accuracy(ws, v) for v in TOPIC_VECTORS})
                elapsed = time.perf_counter() - clock
                report(name, ws, results, budgets, elapsed, [split], zero_shots[-1])
                per_split.append(results)
            if len(splits) > 1:
                ratios = {arm: [split_ratio(r, arm) for r in per_split] for arm in arms}
                elapsed = time.perf_counter() - started
                zero_shot = {v: float(np.mean([z[v] for z in zero_shots])) for v in TOPIC_VECTORS}
                report(name, ws, pooled(per_split), budgets, elapsed, splits, zero_shot, ratios)


if __name__ == "__main__":
    main()
