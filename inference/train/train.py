#!/usr/bin/python3
"""Train the inference service's models and export test vectors.

Run with Debian's Python and packages (python3-sklearn, python3-xgboost):

    /usr/bin/python3 inference/train/train.py      # or: make model

Writes, relative to the inference/ folder:
  models/default.json       digits classifier, 100 rounds x 10 classes, depth <= 6
  models/large.json.gz      digits classifier with many more and deeper trees (CPU studies)
  testdata/*.json           small models of other objectives (binary, regression, dart)
  testdata/vectors-*.json   inputs and XGBoost's own predictions for the parity tests
  testdata/predict*.json    example request bodies

Every model is XGBoost's JSON model format (Booster.save_model("x.json")); large.json.gz
is the same format, gzip-compressed to keep the repository small. Training is
deterministic (fixed seeds, fixed thread count), so rerunning gives the same files.
"""

import gzip
import json
import os
import sys

import numpy as np
import sklearn
import xgboost as xgb
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris
from sklearn.model_selection import train_test_split

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)  # inference/
MODELS = os.path.join(ROOT, "models")
TESTDATA = os.path.join(ROOT, "testdata")
SEED = 0
THREADS = 2


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def rows_json(X):
    """Rows as lists; NaN (missing) becomes null, as the HTTP API accepts it."""
    return [[None if np.isnan(v) else float(v) for v in row] for row in X]


def with_missing(X, rows, frac, seed):
    """Copies of the first `rows` rows with a fraction of their values set to NaN."""
    rng = np.random.default_rng(seed)
    Xm = X[:rows].astype(np.float64).copy()
    Xm[rng.random(Xm.shape) < frac] = np.nan
    return Xm


def train(name, params, rounds, X, y, feature_names, attrs, X_test, y_test, dump_vectors, out_path):
    params = dict(params, seed=SEED, nthread=THREADS, tree_method="hist")
    dtrain = xgb.DMatrix(X, y, feature_names=feature_names)
    bst = xgb.train(params, dtrain, rounds)
    dtest = xgb.DMatrix(X_test, feature_names=feature_names)
    pred = bst.predict(dtest)
    obj = params["objective"]
    if obj.startswith("multi:softprob"):
        score = float((pred.argmax(axis=1) == y_test).mean())
        metric = "test_accuracy"
    elif obj.startswith("multi:softmax"):
        score = float((pred == y_test).mean())
        metric = "test_accuracy"
    elif obj.startswith("binary:"):
        score = float(((pred > 0.5) == y_test).mean())
        metric = "test_accuracy"
    else:
        score = float(np.sqrt(np.mean((pred - y_test) ** 2)))
        metric = "test_rmse"
    attrs = dict(attrs)
    attrs[metric] = "%.4f" % score
    attrs["trained_with"] = "xgboost %s, scikit-learn %s" % (xgb.__version__, sklearn.__version__)
    attrs["train_rows"] = str(len(y))
    attrs["test_rows"] = str(len(y_test))
    attrs["params"] = json.dumps({k: params[k] for k in sorted(params)}, sort_keys=True)
    attrs["rounds"] = str(rounds)
    bst.set_attr(**attrs)
    tmp = out_path + ".tmp.json"
    bst.save_model(tmp)
    if out_path.endswith(".gz"):
        with open(tmp, "rb") as f, gzip.GzipFile(out_path, "wb", compresslevel=9, mtime=0) as g:
            g.write(f.read())
        os.remove(tmp)
    else:
        os.replace(tmp, out_path)
    log("%-10s %s=%.4f size=%d bytes" % (name, metric, score, os.path.getsize(out_path)))
    if dump_vectors is not None:
        vectors(name, bst, dump_vectors, feature_names)
    return score


def vectors(name, bst, X, feature_names):
    d = xgb.DMatrix(X, feature_names=feature_names, missing=np.nan)
    doc = {
        "model": name,
        "xgboost_version": xgb.__version__,
        "objective": json.loads(bst.save_config())["learner"]["objective"]["name"],
        "inputs": rows_json(X),
        "predictions": bst.predict(d).tolist(),
        "margins": bst.predict(d, output_margin=True).tolist(),
    }
    with open(os.path.join(TESTDATA, "vectors-%s.json" % name), "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")


def main():
    os.makedirs(MODELS, exist_ok=True)
    os.makedirs(TESTDATA, exist_ok=True)

    # The served models: scikit-learn's digits (8x8 images of handwritten digits, 64
    # features with values 0..16, 10 classes, 1797 rows), a realistic small tabular task.
    digits = load_digits()
    names = list(digits.feature_names)
    Xtr, Xte, ytr, yte = train_test_split(
        digits.data, digits.target, test_size=0.25, random_state=SEED, stratify=digits.target)
    sample = np.vstack([Xte[:40], with_missing(Xte[40:], 10, 0.3, SEED)])
    attrs = {"dataset": "sklearn.datasets.load_digits"}
    train("default", dict(objective="multi:softprob", num_class=10, max_depth=6, eta=0.3),
          100, Xtr, ytr, names, attrs, Xte, yte, sample, os.path.join(MODELS, "default.json"))
    # The large variant: more, deeper trees that keep splitting (min_child_weight=0,
    # sampling), to make each prediction CPU-bound.
    train("large", dict(objective="multi:softprob", num_class=10, max_depth=8, eta=0.05,
                        min_child_weight=0, subsample=0.7, colsample_bynode=0.7, reg_lambda=0),
          300, Xtr, ytr, names, attrs, Xte, yte, sample, os.path.join(MODELS, "large.json.gz"))

    # Small models of other objectives and boosters, for the evaluator's parity tests.
    bc = load_breast_cancer()
    X = bc.data.copy()
    rng = np.random.default_rng(SEED)
    X[rng.random(X.shape) < 0.1] = np.nan  # learn default directions for missing values
    Xtr, Xte, ytr, yte = train_test_split(X, bc.target, test_size=0.25, random_state=SEED)
    train("binary", dict(objective="binary:logistic", max_depth=4, eta=0.3), 20, Xtr, ytr,
          None, {"dataset": "sklearn.datasets.load_breast_cancer with 10% missing"}, Xte, yte,
          Xte[:30], os.path.join(TESTDATA, "binary.json"))

    db = load_diabetes()
    Xtr, Xte, ytr, yte = train_test_split(db.data, db.target, test_size=0.25, random_state=SEED)
    train("regression", dict(objective="reg:squarederror", max_depth=3, eta=0.1), 50, Xtr, ytr,
          list(db.feature_names), {"dataset": "sklearn.datasets.load_diabetes"}, Xte, yte,
          np.vstack([Xte[:25], with_missing(Xte[25:], 5, 0.3, SEED)]),
          os.path.join(TESTDATA, "regression.json"))

    ir = load_iris()
    Xtr, Xte, ytr, yte = train_test_split(ir.data, ir.target, test_size=0.3, random_state=SEED)
    train("dart", dict(objective="multi:softmax", num_class=3, booster="dart", max_depth=3,
                       eta=0.3, rate_drop=0.2, skip_drop=0.2), 15, Xtr, ytr, None,
          {"dataset": "sklearn.datasets.load_iris"}, Xte, yte,
          np.vstack([Xte[:20], with_missing(Xte[20:], 5, 0.4, SEED)]),
          os.path.join(TESTDATA, "dart.json"))

    # Example request bodies (real digits from the test split).
    one = {"features": [float(v) for v in sample[0]]}
    named = {"features": {n: float(v) for n, v in zip(names, sample[1])}}
    batch = {"instances": [[float(v) for v in row] for row in sample[:10]]}
    for fname, doc in (("predict.json", one), ("predict-named.json", named),
                       ("predict-batch.json", batch)):
        with open(os.path.join(TESTDATA, fname), "w") as f:
            json.dump(doc, f, separators=(",", ":"))
            f.write("\n")


if __name__ == "__main__":
    main()
