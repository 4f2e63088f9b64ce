"""Matching benchmark: prints wall time, peak RSS, candidate pairs and precision/recall/F1 for the engine
and three baselines, on generated lists and on the labelled dedupe-examples data.

    .venv/bin/python bench/bench_matching.py                      # 10k and 100k + real data
    .venv/bin/python bench/bench_matching.py --sizes 1000000 --no-real --no-baselines

Every timed run happens in a fresh child process, so each peak RSS (getrusage ru_maxrss) belongs to that
run alone.  The child loads already-normalized lists (the Django side stores the normalized keys at
import), so 'match' times exclude normalization; 'prepare' is timed separately.

Scoring.  Records are labelled with a group (company) id.  precision = correct pairs / predicted pairs.
recall = one-to-one pairs the correct predictions support (the size of a maximum one-to-one matching
within the correct pairs) / one-to-one pairs possible (per group: min(left records, right records)).
This treats the one-to-one engine and the many-to-many baselines alike: a one-to-one method's correct
pairs are their own matching, and a many-to-many method gets credit for as many disjoint pairs as its
correct pairs hold, not for every record they touch (a star of one left record on five right records
supports one pair, not five).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.generate import generate_pair  # noqa: E402
from mapping.engine import MatchConfig, match, match_incremental, prepare  # noqa: E402

CACHE = Path(os.environ.get("PRM_BENCH_CACHE", "/tmp/prm-bench"))
DATA = Path(os.environ.get("PRM_BENCH_DATA", "/work/shared/data/dedupe-examples"))


def peak_rss_mb() -> float:
    """Peak RSS of this process: VmHWM on Linux, else getrusage's ru_maxrss.

    getrusage's ru_maxrss survives exec on Linux, so in a child it reports at least the parent's peak;
    VmHWM belongs to the new program alone.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return rusage_peak_mb()


def rusage_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


# --- data sets ---------------------------------------------------------------------------------------


def _normalization_version() -> str:
    """A digest of the code that makes the normalized keys: a cached list made by other code is stale."""
    import hashlib

    digest = hashlib.sha1()
    for part in ("normalize.py", "data.py", "prepare.py"):
        digest.update((ROOT / "mapping" / "engine" / part).read_bytes())
    digest.update((ROOT / "bench" / "generate.py").read_bytes())
    return digest.hexdigest()[:10]


def _cached(name: str, build):
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{name}-{_normalization_version()}.pkl"
    if path.exists():
        with path.open("rb") as f:
            return pickle.load(f)
    data = build()
    with path.open("wb") as f:
        pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)
    return data


def generated(n: int, seed: int):
    def build():
        left, right, _truth = generate_pair(n, seed)
        started = time.perf_counter()
        left, right = prepare(left), prepare(right)
        return {"left": left, "right": right, "prepare_s": time.perf_counter() - started}

    return _cached(f"generated-{n}-{seed}", build)


def _split_groups(frame: pd.DataFrame, group: str, seed: int):
    """Deal each group's records alternately to two lists (in a seeded random order)."""
    rng = np.random.default_rng(seed)
    frame = frame.iloc[rng.permutation(len(frame))]
    side = frame.groupby(group).cumcount() % 2
    # a group's first record goes left or right at random, so one-record groups land on both sides
    flip = frame[group].map(
        pd.Series(rng.integers(0, 2, frame[group].nunique()), index=frame[group].unique())
    )
    side = (side + flip) % 2
    return frame[side == 0], frame[side == 1]


def patstat(seed: int = 1):
    def build():
        raw = pd.read_csv(DATA / "patstat_reference.csv")
        frame = pd.DataFrame(
            {"name": raw["person_name"].to_numpy(), "entity": raw["leuven_id"].to_numpy()},
            index=raw["person_id"].rename("id"),
        )
        left, right = _split_groups(frame, "entity", seed)
        return {"left": prepare(left), "right": prepare(right), "prepare_s": float("nan")}

    return _cached(f"patstat-{seed}", build)


def chicago(seed: int = 1):
    def build():
        raw = pd.read_csv(DATA / "chicago_early_childhood_sites.csv", dtype=str)
        name = raw["Site name"].str.replace(r"\s+", " ", regex=True).str.strip()
        frame = pd.DataFrame(
            {
                "name": name,
                "postal_code": raw["Zip"].str.extract(r"(\d{5})")[0],
                "city": "Chicago",
                "country": "US",
                "address": raw["Address"],
                "phone": raw["Phone"],
                "entity": raw["True Id"].astype(int),
            }
        ).set_index(raw["Id"].astype(int).rename("id"))
        left, right = _split_groups(frame, "entity", seed)
        return {"left": prepare(left), "right": prepare(right), "prepare_s": float("nan")}

    return _cached(f"chicago-{seed}", build)


# --- scoring -----------------------------------------------------------------------------------------


def matching_size(li: np.ndarray, ri: np.ndarray) -> int:
    """Size of a maximum one-to-one matching among the pairs (record positions; Hopcroft-Karp)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import maximum_bipartite_matching

    if len(li) == 0:
        return 0
    graph = coo_matrix(
        (np.ones(len(li), dtype=np.int8), (li, ri)), shape=(int(li.max()) + 1, int(ri.max()) + 1)
    ).tocsr()
    graph.sum_duplicates()
    return int((maximum_bipartite_matching(graph, perm_type="column") >= 0).sum())


def evaluate(pairs: pd.DataFrame, left: pd.DataFrame, right: pd.DataFrame) -> dict:
    gl, gr = left["entity"], right["entity"]
    possible = pd.concat([gl.value_counts().rename("l"), gr.value_counts().rename("r")], axis=1).fillna(0)
    n_possible = int(possible.min(axis=1).sum())
    if len(pairs) == 0:
        return {"pairs": 0, "precision": 0.0, "recall": 0.0, "f1": 0.0}
    el = gl.reindex(pairs["left_id"]).to_numpy()
    er = gr.reindex(pairs["right_id"]).to_numpy()
    correct = pairs.loc[el == er]
    tp = matching_size(
        left.index.get_indexer(correct["left_id"]), right.index.get_indexer(correct["right_id"])
    )
    precision = len(correct) / len(pairs)
    recall = tp / max(n_possible, 1)
    f1 = 2 * precision * recall / max(precision + recall, 1e-12)
    return {
        "pairs": len(pairs),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
    }


# --- methods -----------------------------------------------------------------------------------------


def engine(left, right, config):
    result = match(left, right, config)
    return result[result["status"] == "match"][["left_id", "right_id"]], {
        "review": int((result["status"] == "review").sum()),
        "candidates": result.attrs["candidate_pairs"],
        "_result": result,
    }


def true_pairs(left: pd.DataFrame, right: pd.DataFrame) -> pd.DataFrame:
    """Every (left, right) pair of records of one company."""
    a = left["entity"].rename_axis("left_id").reset_index()
    b = right["entity"].rename_axis("right_id").reset_index()
    return a.merge(b, on="entity")[["left_id", "right_id"]]


def candidate_recall(left, right, config) -> float:
    """Recall (as `evaluate` counts it: one-to-one pairs the true candidate pairs support) of every pair
    the engine's candidate passes propose, before any scoring: what the scoring can reach at best."""
    from mapping.engine.blocking import candidate_pairs

    cands = candidate_pairs(left, right, config)
    pairs = pd.DataFrame(
        {
            "left_id": left.index.to_numpy()[cands["li"].to_numpy()],
            "right_id": right.index.to_numpy()[cands["ri"].to_numpy()],
        }
    )
    return evaluate(pairs, left, right)["recall"]


RELIABILITY_BANDS = (0.2, 0.5, 0.7, 0.9, 0.99, 1.0001)


def reliability(result: pd.DataFrame, left, right) -> str:
    """Expected (mean score) vs observed (share correct) match rate of the engine's pairs by score band."""
    correct = (
        left["entity"].reindex(result["left_id"]).to_numpy()
        == right["entity"].reindex(result["right_id"]).to_numpy()
    )
    parts = []
    for lo, hi in zip(RELIABILITY_BANDS[:-1], RELIABILITY_BANDS[1:], strict=True):
        band = (result["score"].to_numpy() >= lo) & (result["score"].to_numpy() < hi)
        if band.any():
            parts.append(
                f"[{lo:.2f},{min(hi, 1):.2f}]:{result['score'].to_numpy()[band].mean():.2f}/"
                f"{correct[band].mean():.2f}/{int(band.sum())}"
            )
    return " ".join(parts)


def tfidf_char3(left, right, _config, threshold: float = 0.8):
    """Names alone: TF-IDF over character 3-grams, each left record's nearest right record by cosine
    (scikit-learn NearestNeighbors, brute force on sparse vectors), kept at cosine >= threshold, then
    one partner per record (greedy by cosine)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.neighbors import NearestNeighbors

    from mapping.engine.assign import greedy_one_to_one

    a = left["name"].fillna("").astype(str).str.lower().to_numpy()
    b = right["name"].fillna("").astype(str).str.lower().to_numpy()
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 3), min_df=1)
    vectorizer.fit(np.concatenate([a, b]))
    va, vb = vectorizer.transform(a), vectorizer.transform(b)
    nn = NearestNeighbors(n_neighbors=1, metric="cosine", algorithm="brute").fit(vb)
    sim, at = np.zeros(len(a)), np.zeros((len(a), 1), dtype=np.int64)
    for start in range(0, len(a), 1000):  # in slices: brute force holds a slice x right dense matrix
        distance, found = nn.kneighbors(va[start : start + 1000])
        sim[start : start + 1000], at[start : start + 1000] = 1 - distance[:, 0], found
    keep = sim >= threshold
    pairs = pd.DataFrame(
        {"left_id": left.index.to_numpy()[keep], "right_id": right.index.to_numpy()[at[keep, 0]]}
    )
    l_rank = pd.factorize(pairs["left_id"], sort=True)[0]
    r_rank = pd.factorize(pairs["right_id"], sort=True)[0]
    return pairs.iloc[greedy_one_to_one(l_rank, r_rank, sim[keep])], {}


def vlookup_domain(left, right, _config):
    """What a spreadsheet does: first row of the partner list with the same (cleaned) website domain."""
    lookup = right.loc[right["domain_norm"] != "", "domain_norm"].reset_index().drop_duplicates("domain_norm")
    keys = left.loc[left["domain_norm"] != "", "domain_norm"].reset_index()
    pairs = keys.merge(lookup, on="domain_norm", suffixes=("_l", "_r"))
    return pairs.rename(columns={pairs.columns[0]: "left_id", pairs.columns[2]: "right_id"})[
        ["left_id", "right_id"]
    ], {}


def exact_name(left, right, _config):
    lookup = right.loc[right["name_norm"] != "", "name_norm"].reset_index().drop_duplicates("name_norm")
    keys = left.loc[left["name_norm"] != "", "name_norm"].reset_index()
    pairs = keys.merge(lookup, on="name_norm", suffixes=("_l", "_r"))
    return pairs.rename(columns={pairs.columns[0]: "left_id", pairs.columns[2]: "right_id"})[
        ["left_id", "right_id"]
    ], {}


def naive_recordlinkage(left, right, _config):
    """The recordlinkage tutorial recipe: sorted neighbourhood on the name, Jaro-Winkler >= 0.9."""
    import recordlinkage as rl

    a = left[["name_norm"]].replace("", None)
    b = right[["name_norm"]].replace("", None)
    pairs = rl.index.SortedNeighbourhood("name_norm", window=5).index(a, b)
    comparer = rl.Compare()
    comparer.string("name_norm", "name_norm", method="jarowinkler", threshold=0.9, label="name")
    features = comparer.compute(pairs, a, b)
    hits = features.index[features["name"] == 1]
    return pd.DataFrame({"left_id": hits.get_level_values(0), "right_id": hits.get_level_values(1)}), {
        "candidates": len(pairs)
    }


def naive_recordlinkage_one_to_one(left, right, config):
    """The same, reduced to one partner per record (greedy by Jaro-Winkler), as account mapping needs."""
    from mapping.engine.assign import greedy_one_to_one
    from mapping.engine.features import similarity

    pairs, extra = naive_recordlinkage(left, right, config)
    jw = similarity(
        left["name_norm"].reindex(pairs["left_id"]).to_numpy(dtype=object),
        right["name_norm"].reindex(pairs["right_id"]).to_numpy(dtype=object),
    )
    l_rank = pd.factorize(pairs["left_id"], sort=True)[0]
    r_rank = pd.factorize(pairs["right_id"], sort=True)[0]
    return pairs.iloc[greedy_one_to_one(l_rank, r_rank, jw)], extra


METHODS = {
    "engine": engine,
    "vlookup-domain": vlookup_domain,
    "exact-name": exact_name,
    "naive-recordlinkage": naive_recordlinkage,
    "naive-rl-one-to-one": naive_recordlinkage_one_to_one,
    "tfidf-char3": tfidf_char3,
}


def incremental(left, right, config, fraction: float = 0.01, seed: int = 5) -> dict:
    """Edit `fraction` of the left list (half edited names, half new records), re-match incrementally."""
    _, state = match(left, right, config, return_state=True)
    rng = np.random.default_rng(seed)
    k = max(int(len(left) * fraction), 2)
    edited_ids = left.index.to_numpy()[rng.choice(len(left), k // 2, replace=False)]
    new_left = left.copy()
    new_left.loc[edited_ids, "name"] = new_left.loc[edited_ids, "name"].astype(str) + " Group"
    added = right.iloc[rng.choice(len(right), k - k // 2, replace=False)].copy()
    added.index = (
        [f"new-{i}" for i in range(len(added))]
        if left.index.dtype == object
        else np.arange(left.index.max() + 1, left.index.max() + 1 + len(added))
    )
    new_left = pd.concat([new_left, added[[c for c in left.columns if c in added.columns]]])
    changed = list(edited_ids) + list(added.index)
    # the importer normalizes only the rows it touched
    new_left.loc[changed] = prepare(new_left.loc[changed], force=True)[new_left.columns].to_numpy()
    started, cpu_started = time.perf_counter(), time.process_time()
    result, _ = match_incremental(new_left, right, state, config, changed_left=changed)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    full = match(new_left, right, config)
    return {
        "changed_records": len(changed),
        "incremental_s": round(seconds, 3),
        "cpu_s": round(cpu, 3),
        "equals_full_run": bool(result.equals(full)),
    }


# --- child process -----------------------------------------------------------------------------------


def run_child(spec: dict) -> dict:
    dataset = spec["dataset"]
    if spec["method"] == "build-cache":
        generated(spec["n"], spec["seed"])
        return {}
    data = (
        generated(spec["n"], spec["seed"])
        if dataset == "generated"
        else patstat()
        if dataset == "patstat"
        else chicago()
    )
    left, right = data["left"], data["right"]
    config = MatchConfig()
    if spec["method"] == "incremental":
        out = incremental(left, right, config)
        out["peak_rss_mb"] = round(peak_rss_mb())
        out["rusage_maxrss_mb"] = round(rusage_peak_mb())
        return out
    rss_before = peak_rss_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    pairs, extra = METHODS[spec["method"]](left, right, config)
    seconds = time.perf_counter() - started
    extra["cpu_s"] = round(time.process_time() - cpu_started, 3)  # all threads: load-independent
    peak = peak_rss_mb()  # the run's own peak, before the reports below build candidates again
    result = extra.pop("_result", None)
    if result is not None:  # after the timing: what the candidate passes find, how scores hold up
        extra["candidate_recall"] = candidate_recall(left, right, config)
        extra["reliability"] = reliability(result, left, right)
    out = {
        "wall_s": round(seconds, 3),
        "peak_rss_mb": round(peak),
        "inputs_rss_mb": round(rss_before),
        "rusage_maxrss_mb": round(rusage_peak_mb()),
        "n_left": len(left),
        "n_right": len(right),
        "prepare_s": round(data["prepare_s"], 2),
        **extra,
        **evaluate(pairs, left, right),
    }
    return out


def child(spec: dict) -> dict:
    load = os.getloadavg()[0]  # the machine is shared: what else ran at the time
    proc = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "load": round(load, 1)}


def _print_row(label: str, method: str, out: dict) -> None:
    keys = [
        "n_left",
        "n_right",
        "wall_s",
        "cpu_s",
        "load",
        "peak_rss_mb",
        "inputs_rss_mb",
        "rusage_maxrss_mb",
        "candidates",
        "candidate_recall",
        "pairs",
        "review",
        "precision",
        "recall",
        "f1",
        "prepare_s",
        "changed_records",
        "incremental_s",
        "equals_full_run",
        "error",
    ]
    fields = "  ".join(f"{k}={out[k]}" for k in keys if k in out)
    print(f"{label:<18} {method:<20} {fields}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-real", action="store_true", help="skip the dedupe-examples data")
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--no-incremental", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(json.loads(args.child))))
        return
    print(f"cpus={os.cpu_count()} python={sys.version.split()[0]}", flush=True)
    methods = ["engine"] if args.no_baselines else list(METHODS)
    jobs = [(f"generated {n:,}", {"dataset": "generated", "n": n, "seed": args.seed}) for n in args.sizes]
    if not args.no_real:
        jobs += [("patstat", {"dataset": "patstat"}), ("chicago", {"dataset": "chicago"})]
    table = {}
    for label, spec in jobs:
        if spec["dataset"] == "generated":
            child({**spec, "method": "build-cache"})  # outside the timed children, and not in this process
        for method in methods:
            out = child({**spec, "method": method})
            _print_row(label, method, out)
            table.setdefault(label, {})[method] = out
        if spec["dataset"] == "generated" and not args.no_incremental:
            _print_row(label, "incremental 1%", child({**spec, "method": "incremental"}))
    print_table(table, methods)


def print_table(table: dict, methods: list[str]) -> None:
    """Every benchmark in one table: F1 of each method, the engine's precision, recall, candidate
    recall and time, and the engine's reliability (band: expected / observed match rate / pairs)."""
    print()
    head = f"{'benchmark':<18} " + " ".join(f"{m[:19]:>19}" for m in methods)
    print(head + f" {'engine P':>8} {'engine R':>8} {'cand R':>7} {'engine s':>8} {'cpu s':>6} {'load':>5}")
    for label, row in table.items():
        cells = " ".join(f"{row.get(m, {}).get('f1', 'err'):>19}" for m in methods)
        e = row.get("engine", {})
        print(
            f"{label:<18} {cells} {e.get('precision', ''):>8} {e.get('recall', ''):>8} "
            f"{e.get('candidate_recall', ''):>7} {e.get('wall_s', ''):>8} {e.get('cpu_s', ''):>6} "
            f"{e.get('load', ''):>5}"
        )
    print()
    for label, row in table.items():
        print(f"reliability {label:<18} {row.get('engine', {}).get('reliability', '')}")


if __name__ == "__main__":
    main()
