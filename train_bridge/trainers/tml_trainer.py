#!/usr/bin/python3
"""tml's bundled PyTorch trainer (the default `train.trainer: pytorch`).

    /usr/bin/python3 tml_trainer.py JOB.json
    torchrun --standalone --nproc_per_node=2 tml_trainer.py JOB.json    # data-parallel, gloo

Reads job.json (docs/train-bridge.md), prints JSON lines on stdout (start, epoch, message, done,
error, interrupted) and writes model.onnx (opset 13, eval mode, Softmax included), metrics.json and,
for `model.anomaly_detector: autoencoder`, anomaly.onnx to the paths job.json names. Human-readable
diagnostics go to stderr. Same job + same seed + same threads = same metrics.

Exit codes: 0 done, 4 a missing package or an unusable job (an error event names the fix),
1 an unexpected failure (error event + traceback on stderr), 130 interrupted (SIGINT).
"""
import json
import os
import signal
import sys
import time

PROTOCOL = 1
RANK = int(os.environ.get("RANK", "0"))
WORLD = int(os.environ.get("WORLD_SIZE", "1"))
_interrupted = False
_parent = os.getppid()


def emit(event, **fields):
    """One JSON line on stdout (rank 0 only)."""
    if RANK != 0:
        return
    doc = {"event": event}
    doc.update(fields)
    sys.stdout.write(json.dumps(doc, allow_nan=False, default=_plain) + "\n")
    sys.stdout.flush()


def _plain(value):
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


class JobError(Exception):
    """A problem the user can fix: reported as one error event and exit code 4."""

    def __init__(self, message, fix=""):
        super().__init__(message)
        self.fix = fix


class Interrupted(Exception):
    pass


def _on_sigint(signum, frame):
    global _interrupted
    _interrupted = True


def check_interrupt():
    if _interrupted:
        raise Interrupted()
    if os.getppid() != _parent:  # tml is gone: stop instead of training for nobody
        os._exit(1)


def finite(v):
    v = float(v)
    return v if v == v and abs(v) != float("inf") else None


# ---------------------------------------------------------------------------------------------
def load_job(path):
    try:
        with open(path, encoding="utf-8") as f:
            job = json.load(f)
    except OSError as e:
        raise JobError(f"{path}: cannot read the job ({e.strerror})", "run the trainer through `tml train`")
    except ValueError as e:
        raise JobError(f"{path}: not valid JSON ({e})", "run the trainer through `tml train`")
    if job.get("format") != "tml-train-job" or job.get("version") != 1:
        raise JobError(f"{path}: not a tml train job of version 1", "update tml or this trainer")
    return job


def import_packages():
    try:
        import numpy  # noqa: F401
    except ImportError:
        raise JobError(f"NumPy is not installed for {sys.executable}", "apt-get install python3-numpy")
    try:
        import torch  # noqa: F401
    except ImportError:
        raise JobError(f"PyTorch is not installed for {sys.executable}",
                       "apt-get install python3-torch (Debian's torch is seen only by /usr/bin/python3)")


def load_split(np, job, split, feature_shape, classes):
    d = job["data"][split]
    try:
        x = np.load(d["x"], allow_pickle=False)
        y = np.load(d["y"], allow_pickle=False)
    except (OSError, ValueError) as e:
        raise JobError(f"{d['x']}: cannot read the features ({e})", "run `tml preprocess` again")
    if tuple(x.shape[1:]) != tuple(feature_shape) or x.shape[0] != y.shape[0] or y.ndim != 1:
        raise JobError(f"{d['x']}: shape {list(x.shape)} with {list(y.shape)} labels does not match the job's "
                       f"feature shape {list(feature_shape)}", "run `tml preprocess` again")
    if len(y) and (y.min() < 0 or y.max() >= classes):
        raise JobError(f"{d['y']}: label index outside 0..{classes - 1}", "run `tml preprocess` again")
    return x, y.astype(np.int64)


def to_model_input(np, x, mapping):
    """Feature layout -> model input layout (docs/train-bridge.md, job.json "input.mapping")."""
    if mapping == "add_channel":      # {N,T,F} -> {N,1,T,F}
        return x.reshape((x.shape[0], 1) + x.shape[1:]).astype(np.float32)
    if mapping == "hwc_to_chw":       # {N,H,W,C} -> {N,C,H,W}
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2)).astype(np.float32)
    if mapping == "identity":         # {N,F} -> {N,F}
        return x.astype(np.float32)
    raise JobError(f"input.mapping '{mapping}' is unknown to this trainer", "update the trainer")


# ---------------------------------------------------------------------------------------------
def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: tml_trainer.py JOB.json\n")
        return 2
    signal.signal(signal.SIGINT, _on_sigint)
    try:
        job = load_job(argv[1])
        threads = int(job["train"].get("threads") or os.cpu_count() or 1)
        per_process = max(1, threads // WORLD)
        # Before torch loads libgomp: a spinning OpenMP pool on a shared core slows training 5-10x.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        os.environ["OMP_NUM_THREADS"] = str(per_process)
        import_packages()
        return train(job, per_process)
    except JobError as e:
        emit("error", message=str(e), fix=e.fix)
        return 4
    except Interrupted:
        emit("interrupted")
        return 130
    except Exception as e:  # noqa: BLE001 - reported as one line, details on stderr
        import traceback
        traceback.print_exc()
        emit("error", message=f"unexpected {type(e).__name__}: {e}",
             fix="the traceback is in the log; report it as a tml bug if the job and data are valid")
        return 1


def train(job, threads):
    import numpy as np
    import torch
    from torch import nn

    import tml_augment
    import tml_export
    import tml_models

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.use_deterministic_algorithms(True)
    started = time.monotonic()

    distributed = WORLD > 1
    if distributed:
        import torch.distributed as dist
        dist.init_process_group("gloo")

    labels = job["labels"]
    classes = len(labels)
    sensor = job["sensor"]
    feat = job["input"]["feature_shape"]
    model_shape = tuple(job["input"]["shape"])
    mapping = job["input"]["mapping"]
    hp = job["train"]
    seed = int(hp["seed"])

    x_tr, y_tr = load_split(np, job, "train", feat, classes)
    x_va, y_va = load_split(np, job, "validation", feat, classes)
    x_te, y_te = load_split(np, job, "test", feat, classes)
    if len(y_tr) < 2:
        raise JobError(f"only {len(y_tr)} training sample(s)", "add data with `tml import` or `tml collect`")
    rng_split = np.random.default_rng(seed)
    validation_source = "validation split"
    if len(y_va) == 0:
        # No validation split: hold out 10 % of the training set (seeded) for early stopping.
        perm = rng_split.permutation(len(y_tr))
        k = max(1, len(y_tr) // 10)
        x_va, y_va, x_tr, y_tr = x_tr[perm[:k]], y_tr[perm[:k]], x_tr[perm[k:]], y_tr[perm[k:]]
        validation_source = "10% of the training split"

    augment = None
    if hp.get("augment", True):
        augment = tml_augment.make_augment(sensor, job.get("preprocess", {}), x_tr, y_tr, labels, model_shape)
    X_tr, X_va, X_te = (to_model_input(np, a, mapping) for a in (x_tr, x_va, x_te))
    if tuple(X_tr.shape[1:]) != model_shape:
        raise JobError(f"input.shape {list(model_shape)} does not follow from the features {feat}",
                       "run the trainer through `tml train`")

    torch.manual_seed(seed)
    try:
        model = tml_models.build_model(job["model"], sensor, model_shape, classes)
    except ValueError as e:
        raise JobError(str(e), "choose an architecture listed in docs/project-file.md")
    if getattr(model, "standardize", None) is not None:
        model.standardize.fit(X_tr.astype(np.float64))
    parameters = sum(p.numel() for p in model.parameters())

    counts = np.bincount(y_tr, minlength=classes)
    weights = np.where(counts > 0, len(y_tr) / (classes * np.maximum(counts, 1)), 0.0)
    loss_fn = nn.CrossEntropyLoss(weight=torch.tensor(weights, dtype=torch.float32))
    eval_loss_fn = nn.CrossEntropyLoss(reduction="sum")

    net = model
    if distributed:
        net = nn.parallel.DistributedDataParallel(model)
    optimizer = torch.optim.Adam(net.parameters(), lr=float(hp["lr"]))
    epochs = int(hp["epochs"])
    patience = int(hp.get("early_stopping", 0))
    batch = max(1, int(hp["batch"]) // WORLD)
    anomaly = job["model"].get("anomaly_detector", "none") == "autoencoder" and job["outputs"].get("anomaly_model")

    emit("start", protocol=PROTOCOL, trainer="tml-pytorch", torch=torch.__version__,
         architecture=job["model"].get("architecture"), parameters=parameters, epochs=epochs,
         phases=[{"name": "classifier", "epochs": epochs}] + ([{"name": "anomaly", "epochs": epochs}] if anomaly else []),
         train=int(len(y_tr)), validation=int(len(y_va)), test=int(len(y_te)), validation_source=validation_source,
         batch=int(hp["batch"]), threads=threads, world_size=WORLD,
         augment=augment.describe() if augment else None, class_weights=[round(float(w), 4) for w in weights])

    bn_layers = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]

    def recalibrate_batchnorm():
        """BatchNorm statistics of the current weights over the whole (unaugmented) training set.

        The running averages lag far behind the weights when an epoch is only a few batches (small
        datasets), which makes the eval-mode network — the one exported — much worse than the
        training one; recomputing them before every evaluation removes that gap."""
        if not bn_layers:
            return
        model.eval()
        momenta = [m.momentum for m in bn_layers]
        for m in bn_layers:
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the batches below
            m.train()
        with torch.no_grad():
            for s in range(0, len(X_tr), 256):
                model(torch.from_numpy(X_tr[s:s + 256]))
        for m, momentum in zip(bn_layers, momenta):
            m.momentum = momentum
        model.eval()

    def evaluate(x, y):
        """(mean loss, accuracy, predictions) with the model in eval mode; (None, None, []) if empty."""
        if len(y) == 0:
            return None, None, np.zeros(0, dtype=np.int64)
        model.eval()
        total, preds = 0.0, []
        with torch.no_grad():
            for s in range(0, len(y), 256):
                logits = model(torch.from_numpy(x[s:s + 256]))
                total += float(eval_loss_fn(logits, torch.from_numpy(y[s:s + 256])))
                preds.append(logits.argmax(dim=1).numpy())
        preds = np.concatenate(preds)
        return total / len(y), float((preds == y).mean()), preds

    rng_order = np.random.default_rng([seed, 1])          # the same on every rank
    rng_aug = np.random.default_rng([seed, 2, RANK])      # per rank
    best_loss, best_epoch, best_state, since_best = float("inf"), 0, None, 0
    history = []
    stopped_early = False
    epoch = 0
    for epoch in range(1, epochs + 1):
        t0 = time.monotonic()
        net.train()
        perm = rng_order.permutation(len(y_tr))
        if distributed:
            per_rank = len(perm) // WORLD
            perm = perm[RANK * per_rank:(RANK + 1) * per_rank]
        sum_loss, seen, correct = 0.0, 0, 0
        for s in range(0, len(perm), batch):
            idx = perm[s:s + batch]
            if len(idx) < 2 and len(perm) > 2:
                continue  # BatchNorm needs two samples
            xb = X_tr[idx]
            if augment is not None:
                xb = augment(xb, rng_aug)
            yb = torch.from_numpy(y_tr[idx])
            optimizer.zero_grad()
            logits = net(torch.from_numpy(xb))
            loss = loss_fn(logits, yb)
            loss.backward()
            optimizer.step()
            sum_loss += float(loss) * len(idx)
            seen += len(idx)
            correct += int((logits.argmax(dim=1) == yb).sum())
            check_interrupt()
        if not np.isfinite(sum_loss):
            raise JobError(f"training diverged in epoch {epoch} (the loss is not a number)",
                           "lower train.lr in tml.yaml")
        stop = torch.zeros(1)
        if distributed:
            totals = torch.tensor([sum_loss, seen, correct], dtype=torch.float64)
            dist.all_reduce(totals)
            sum_loss, seen, correct = float(totals[0]), int(totals[1]), int(totals[2])
        if RANK == 0:
            recalibrate_batchnorm()
            val_loss, val_acc, _ = evaluate(X_va, y_va)
            improved = val_loss < best_loss - 1e-6
            if improved:
                best_loss, best_epoch, since_best = val_loss, epoch, 0
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                since_best += 1
            record = {"epoch": epoch, "loss": finite(sum_loss / max(seen, 1)), "accuracy": correct / max(seen, 1),
                      "val_loss": finite(val_loss), "val_accuracy": val_acc}
            history.append(record)
            emit("epoch", phase="classifier", epochs=epochs, seconds=round(time.monotonic() - t0, 3),
                 best=improved, **record)
            if patience and since_best >= patience and epoch < epochs:
                stop[0] = 1
        if distributed:
            dist.broadcast(stop, 0)
        if stop[0]:
            stopped_early = True
            break
        check_interrupt()

    if RANK != 0:
        dist.barrier()
        dist.destroy_process_group()
        return 0

    if best_state is not None:
        model.load_state_dict(best_state)
    results = {}
    test_preds = None
    for name, (x, y) in {"train": (X_tr, y_tr), "validation": (X_va, y_va), "test": (X_te, y_te)}.items():
        loss, acc, preds = evaluate(x, y)
        results[name] = {"count": int(len(y)), "loss": finite(loss) if loss is not None else None, "accuracy": acc}
        if name == "test":
            test_preds = preds
    confusion = np.zeros((classes, classes), dtype=np.int64)
    for t, p in zip(y_te, test_preds):
        confusion[t, p] += 1
    per_class = {}
    for i, name in enumerate(labels):
        support = int(confusion[i].sum())
        predicted = int(confusion[:, i].sum())
        per_class[name] = {"count": support,
                           "recall": confusion[i, i] / support if support else None,
                           "precision": confusion[i, i] / predicted if predicted else None}
    results["test"]["confusion"] = confusion.tolist()
    results["test"]["per_class"] = per_class

    export_net = model.folded() if hasattr(model, "folded") else model
    ops = tml_export.export(tml_export.WithSoftmax(export_net), model_shape, job["outputs"]["model"])

    anomaly_metrics = None
    if anomaly:
        anomaly_metrics = train_anomaly(np, torch, tml_models, tml_export, job, X_tr, X_va, epochs, patience, seed)

    metrics = {
        "format": "tml-train-metrics", "version": 1,
        "trainer": "tml-pytorch", "torch": torch.__version__,
        "labels": labels,
        "model": job["model"], "parameters": parameters,
        "input": {"name": "input", "shape": [None] + list(model_shape), "mapping": mapping},
        "output": {"name": "output", "shape": [None, classes], "softmax": True},
        "onnx": {"opset": tml_export.OPSET, "ops": ops},
        "epochs_run": epoch, "best_epoch": best_epoch, "stopped_early": stopped_early,
        "seed": seed, "threads": threads, "world_size": WORLD,
        "batch": int(hp["batch"]), "lr": float(hp["lr"]),
        "augment": augment.describe() if augment else None,
        "class_weights": [float(w) for w in weights],
        "validation_source": validation_source,
        "train": results["train"], "validation": results["validation"], "test": results["test"],
        "history": history,
        "anomaly": anomaly_metrics,
        "seconds": round(time.monotonic() - started, 3),
    }
    with open(job["outputs"]["metrics"], "w", encoding="utf-8") as f:
        json.dump(metrics, f, indent=2, allow_nan=False, default=_plain)
        f.write("\n")
    emit("done", epochs_run=epoch, best_epoch=best_epoch, stopped_early=stopped_early,
         test_accuracy=results["test"]["accuracy"], test_loss=results["test"]["loss"],
         validation_accuracy=results["validation"]["accuracy"], seconds=metrics["seconds"])
    if distributed:
        dist.barrier()
        dist.destroy_process_group()
    return 0


def train_anomaly(np, torch, tml_models, tml_export, job, X_tr, X_va, epochs, patience, seed):
    """Autoencoder anomaly scorer on IMU features; anomaly.onnx outputs the mean squared
    reconstruction error of the standardised features, {N,1} "score"."""
    torch.manual_seed(seed + 7)
    ae = tml_models.Autoencoder(X_tr.shape[1])
    ae.standardize.fit(X_tr.astype(np.float64))
    optimizer = torch.optim.Adam(ae.parameters(), lr=float(job["train"]["lr"]))
    rng = np.random.default_rng([seed, 3])
    batch = max(2, int(job["train"]["batch"]))
    xt, xv = torch.from_numpy(X_tr), torch.from_numpy(X_va)
    best, best_state, since = float("inf"), None, 0
    for epoch in range(1, epochs + 1):
        t0 = time.monotonic()
        ae.train()
        perm = rng.permutation(len(X_tr))
        total = 0.0
        for s in range(0, len(perm), batch):
            idx = torch.from_numpy(perm[s:s + batch])
            optimizer.zero_grad()
            loss = ae.score(xt[idx]).mean()
            loss.backward()
            optimizer.step()
            total += float(loss) * len(idx)
            check_interrupt()
        ae.eval()
        with torch.no_grad():
            val = float(ae.score(xv).mean())
        improved = val < best - 1e-9
        if improved:
            best, since = val, 0
            best_state = {k: v.detach().clone() for k, v in ae.state_dict().items()}
        else:
            since += 1
        emit("epoch", phase="anomaly", epoch=epoch, epochs=epochs, loss=finite(total / len(perm)),
             accuracy=None, val_loss=finite(val), val_accuracy=None, seconds=round(time.monotonic() - t0, 3),
             best=improved)
        if patience and since >= patience:
            break
    if best_state is not None:
        ae.load_state_dict(best_state)
    ae.eval()
    with torch.no_grad():
        val_scores = ae.score(xv).numpy().ravel()
        train_scores = ae.score(xt).numpy().ravel()
    tml_export.export(ae.scorer(), (X_tr.shape[1],), job["outputs"]["anomaly_model"], output_name="score")
    ref = val_scores if len(val_scores) >= 20 else np.concatenate([train_scores, val_scores])
    return {"model": os.path.basename(job["outputs"]["anomaly_model"]), "output": "score",
            "score": "mean squared reconstruction error of the standardised features",
            "threshold": float(np.percentile(ref, 99)), "threshold_rule": "99th percentile of known data",
            "train_mean": float(train_scores.mean()), "validation_mean": float(val_scores.mean())}


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main(sys.argv))
