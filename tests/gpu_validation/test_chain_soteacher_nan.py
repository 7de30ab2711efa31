"""Self-distillation chains (ℓ2), SoTeacher training, and NaN runs marking the Verdict."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from gpu_validation import models, train  # noqa: E402
from gpu_validation.experiments import _common  # noqa: E402

CPU = torch.device("cpu")


def _linear(d, C, seed):
    lin = nn.Linear(d, C, bias=False)
    with torch.no_grad():
        lin.weight.normal_(generator=torch.Generator().manual_seed(seed))
    return lin


def test_l2_chain_with_linear_model_is_the_ridge_path():
    """Paper 002, eq. (1) with a linear model and R = (wd/2)‖W‖²: round t+1 = X(XᵀX + N·wd/2·I)⁻¹Xᵀ·round t.

    Closed form (normal equations of each round's strongly convex objective) vs the trained chain (GD).
    """
    g = np.random.default_rng(0)
    N, d, C, wd, rounds = 10, 4, 3, 0.5, 3
    Xn = g.standard_normal((N, d))
    Y0n = np.eye(C)[g.integers(0, C, N)]
    X, Y0 = torch.as_tensor(Xn, dtype=torch.float32), torch.as_tensor(Y0n, dtype=torch.float32)
    H = 2.0 / N * Xn.T @ Xn + wd * np.eye(d)  # Hessian of (1/N)‖XWᵀ − T‖² + (wd/2)‖W‖²
    lr = 1.0 / np.linalg.eigvalsh(H).max()
    chain = train.l2_self_distillation_chain(
        lambda t: train.make_ensemble([_linear(d, C, 10 * t + s) for s in range(2)], CPU), X, Y0, rounds,
        lambda t: train.batch_schedule(N, N, 600, np.random.default_rng(t), CPU), lr=float(lr), weight_decay=wd,
        output=lambda z: z)
    A = Xn @ np.linalg.solve(Xn.T @ Xn + N * wd / 2 * np.eye(d), Xn.T)
    P = Y0n
    assert len(chain) == rounds
    for rd in chain:
        P = A @ P
        for s in range(2):  # each member fits its own predecessor; strongly convex, so both reach P
            np.testing.assert_allclose(rd.train_outputs[s].numpy(), P, atol=2e-4)
        assert rd.loss_history.shape == (600, 2)
    # the path contracts (every eigenvalue of A lies in [0, 1)): amplified regularisation
    assert np.linalg.norm(P) < np.linalg.norm(A @ Y0n) < np.linalg.norm(Y0n)


def test_l2_chain_bad_input():
    X, Y0 = torch.zeros(4, 2), torch.zeros(4, 3)
    mk = lambda t: train.make_ensemble([_linear(2, 3, 0)], CPU)  # noqa: E731
    sch = lambda t: train.batch_schedule(4, 2, 1, np.random.default_rng(0), CPU)  # noqa: E731
    with pytest.raises(ValueError, match="rounds"):
        train.l2_self_distillation_chain(mk, X, Y0, 0, sch, lr=0.1)
    with pytest.raises(ValueError, match="Y0 must have shape"):
        train.l2_self_distillation_chain(mk, X, Y0[:3], 1, sch, lr=0.1)


def _tiny_teacher_run(**kw):
    g = torch.Generator().manual_seed(0)
    X, y = torch.rand(16, 1, 8, 8, generator=g), torch.randint(0, 10, (16,), generator=g)
    ens = train.make_ensemble([models.SmallCNN((1, 8, 8), 10, width=2, seed=s) for s in range(2)], CPU)
    sch = train.batch_schedule(16, 8, 6, np.random.default_rng(0), CPU)
    return ens, train.train_soteacher(ens, X, y, sch, **kw), X


@pytest.mark.parametrize("kind", ["linear", "piecewise"])
def test_soteacher_lambda_cr_schedule_and_running_mean(kind):
    E, lam = 6, 0.8
    ens, run, X = _tiny_teacher_run(lr=0.0, lambda_cr_max=lam, cr_schedule=kind)
    # App. D: linear (t/T)·λmax; piecewise 0 for t ≤ T/3, λmax/2 for t ≤ 2T/3, λmax above; 0 at epoch 0
    expect = [t / E * lam for t in range(E)] if kind == "linear" else [0, 0, 0, lam / 2, lam / 2, lam]
    np.testing.assert_allclose(run.lambda_cr.numpy(), expect, rtol=1e-6)
    # lr = 0: the predictions never change, so f̄ (the mean over epochs) equals them
    torch.testing.assert_close(run.running_mean, F.softmax(ens.forward(X), -1))


def test_soteacher_running_mean_is_kdtheorys_temporal_ensemble():
    """f̄ against kdtheory.label_distribution.running_average_update over epochs whose predictions differ.

    lr = 0 keeps the model fixed; an epoch-dependent augmentation (inputs scaled by 1 + e) makes each
    epoch's recorded predictions different, so f̄ = last epoch, or any wrong weighting, fails (with equal
    per-epoch predictions, as above, every convex combination would pass).
    """
    from kdtheory.label_distribution import running_average_update

    calls = []

    def scale_by_epoch(xb):  # T = 2 steps per epoch (16 examples, batch 8)
        calls.append(None)
        return xb * (1.0 + (len(calls) - 1) // 2)

    ens, run, X = _tiny_teacher_run(lr=0.0, augment=scale_by_epoch)
    assert len(calls) == 12
    ref = None
    with torch.no_grad():
        per_epoch = [F.softmax(ens.forward(X * (1.0 + e)), -1).double().numpy() for e in range(6)]
    for e, pred in enumerate(per_epoch):
        ref = running_average_update(ref, e, pred)
    assert np.abs(per_epoch[-1] - ref).max() > 1e-3  # the test can tell f̄ from the last epoch's predictions
    np.testing.assert_allclose(run.running_mean.double().numpy(), ref, rtol=1e-5, atol=1e-6)


def test_soteacher_schedule_switches_the_consistency_term_on_per_epoch():
    """piecewise, T = 6: λ_CR = 0 for epochs 0–2, so the runs with and without CR coincide there and only there."""
    _, std, _ = _tiny_teacher_run(lr=0.05)
    _, cr, _ = _tiny_teacher_run(lr=0.05, lambda_cr_max=5.0, cr_schedule="piecewise")
    torch.testing.assert_close(std.loss_history[:3], cr.loss_history[:3])
    assert torch.all(cr.loss_history[3] > std.loss_history[3])  # ℓ_CR > 0 once predictions have moved
    _, lr_run, _ = _tiny_teacher_run(lr=0.05, lambda_lr=0.1)
    assert torch.all(lr_run.loss_history[0] > std.loss_history[0])  # ℓ_LR > 0 from the first step
    with pytest.raises(ValueError, match="lambda_lr"):
        _tiny_teacher_run(lr=0.05, lambda_lr=-1.0)


def test_nan_stopped_runs_are_found_and_mark_the_verdict():
    det = {"table": {"a": {"nan_stopped": []}, "b": {"nan_stopped": [1], "student_nan_stopped": []}},
           "rounds": {"nan_stopped": [[], [0, 2]]}, "deep": [{"nan_runs": 0}, {"nan_runs": 3}]}
    found = _common.nan_stopped_runs(det)
    assert found == ["table.b.nan_stopped: [1]", "rounds.nan_stopped: [[], [0, 2]]", "deep.1.nan_runs: 3"]
    v = _common.compare("x", 1.0, 0.5, "<=", details=det)
    assert v.status == "violated" and v.details["nan_stopped_runs"] == found and "non-finite" in v.details["reason"]
    clean = _common.compare("x", 1.0, 0.5, "<=", details={"nan_stopped": [], "nan_runs": 0})
    assert clean.status == "holds" and "nan_stopped_runs" not in clean.details


def test_a_nan_loss_in_one_lambda_run_stops_it_marks_the_verdict_and_the_others_go_on(monkeypatch):
    from gpu_validation.experiments import safaryan

    orig = train.kd_loss

    def poisoned(logits, labels, probs, lam):  # the λ = 0.9 student's loss turns NaN
        return orig(logits, labels, probs, lam) * torch.where(torch.as_tensor(lam) > 0.8, float("nan"), 1.0)

    monkeypatch.setattr(train, "kd_loss", poisoned)
    cfg = {"hidden": 8, "sweep_lams": (0.0, 0.3, 0.9), "sweep_epochs": 2, "sweep_batch": 64, "xstar_steps": 2}
    v = safaryan.check_lambda_sweep(np.random.default_rng(0), cfg, device="cpu")
    assert v.status == "violated" and v.details["nan_stopped"] == [2]
    assert any("nan_stopped: [2]" in s for s in v.details["nan_stopped_runs"])
    curves = np.array(v.details["train_loss_curves"])
    assert np.isfinite(curves[:2]).all()  # λ = 0 and λ = 0.3 trained on
    assert np.isfinite(v.measured)


def test_no_host_round_trip_inside_training_loops():
    """DEVELOPERS.md: nothing leaves the device inside a training loop (no .item(), .cpu(), .numpy(), float(t)).

    Parsed from the sources: every loop over epochs/steps/rounds of the trainers and experiments, and the
    whole body of the functions called once per step, are searched for host round-trips.
    """
    import ast
    import inspect
    import re

    from gpu_validation.experiments import mobahi, phuong, rahbar, safaryan, soteacher

    loops = {train: ["train_ensemble", "sgd_with_grad", "l2_self_distillation_chain", "train_soteacher"],
             safaryan: ["_fig1", "_sweep"], mobahi: ["_early_stopping", "check_ntk_chain"],
             rahbar: ["_gd"], phuong: ["_gd_linear", "_gd_deep"], soteacher: ["_train_students"]}
    per_step = {train: ["sgd_update", "finite_members", "kd_loss", "l2_loss", "lipschitz_penalty",
                        "consistency_penalty", "hinton_kd_loss"], mobahi: ["_fit", "_loss_y0"]}
    training = re.compile(r"\b(E|T|steps|epochs|rounds)\b|sch")
    bad = re.compile(r"\.item\(|\.cpu\(|\.numpy\(|\.tolist\(|\b(float|bool|int)\((?![\"'])")  # float("nan") is a constant
    checked = 0
    for mod in set(loops) | set(per_step):
        src = inspect.getsource(mod)
        fns = [n for n in ast.walk(ast.parse(src)) if isinstance(n, ast.FunctionDef)]
        for fn in (f for f in fns if f.name in loops.get(mod, [])):
            for loop in (n for n in ast.walk(fn) if isinstance(n, (ast.For, ast.While))):
                head = ast.unparse(loop.iter if isinstance(loop, ast.For) else loop.test)
                if not training.search(head):
                    continue  # e.g. a loop over widths or over host-side results after training
                body = "\n".join(ast.get_source_segment(src, s) for s in loop.body)
                hits = [h.group(0) for h in bad.finditer(body)]
                assert not hits, f"{mod.__name__}.{fn.name}: {hits} inside the loop over {head}"
                checked += 1
        for fn in (f for f in fns if f.name in per_step.get(mod, [])):
            body = "\n".join(ast.get_source_segment(src, s) for s in fn.body[1:] if not isinstance(s, ast.Return)
                             ) if ast.get_docstring(fn) else ast.get_source_segment(src, fn)
            hits = [h.group(0) for h in bad.finditer(body)]
            assert not hits, f"{mod.__name__}.{fn.name}: {hits} in a function run once per step"
            checked += 1
    assert checked >= 20, checked


@pytest.mark.parametrize("fbar", ["train_pass", "post_step"])
def test_soteacher_fbar_from_the_training_pass_or_after_the_step(fbar):
    """One epoch, one batch of all 16 inputs, lr > 0: the paper's f̄ (Sec. 4, "no extra model evaluation")
    is the softmax of the training forward pass (weights before the step); the post-step option re-evaluates
    after the update. The two differ, so each variant is pinned."""
    g = torch.Generator().manual_seed(1)
    X, y = torch.rand(16, 1, 8, 8, generator=g), torch.randint(0, 10, (16,), generator=g)
    ens = train.make_ensemble([models.SmallCNN((1, 8, 8), 10, width=2, seed=s) for s in range(2)], CPU)
    before = ens.clone()
    sch = train.batch_schedule(16, 16, 1, np.random.default_rng(0), CPU)
    run = train.train_soteacher(ens, X, y, sch, lr=0.5, lambda_cr_max=1.0, fbar=fbar)
    with torch.no_grad():
        pre, post = F.softmax(before.forward(X), -1), F.softmax(ens.forward(X), -1)
    assert float((pre - post).abs().max()) > 1e-3
    torch.testing.assert_close(run.running_mean, pre if fbar == "train_pass" else post)
    with pytest.raises(ValueError, match="fbar"):
        train.train_soteacher(ens, X, y, sch, lr=0.5, fbar="extra")


def test_soteacher_lambda_cr_reading_app_c():
    """λ_CR(t) = (t/T)·λmax on epochs t = 0..T−1 (App. C indexing): 0 at epoch 0, (T−1)/T·λmax at the last."""
    ens, run, _ = _tiny_teacher_run(lr=0.0, lambda_cr_max=1.0)
    lam = run.lambda_cr.numpy()
    assert lam[0] == 0.0 and lam[-1] == pytest.approx(5 / 6) and np.all(np.diff(lam) > 0)


def test_soteacher_per_member_settings_equal_separate_runs():
    """A sweep in one ensemble (λ_LR, λ_CR^max and the schedule per member) trains each member exactly as a
    separate run with its scalar settings would (same seed, same batches)."""
    g = torch.Generator().manual_seed(2)
    X, y = torch.rand(16, 1, 8, 8, generator=g), torch.randint(0, 10, (16,), generator=g)
    mk = lambda seeds: train.make_ensemble([models.SmallCNN((1, 8, 8), 10, width=2, seed=s) for s in seeds], CPU)  # noqa: E731
    sch = train.batch_schedule(16, 8, 6, np.random.default_rng(0), CPU)
    lrs, crs, kinds = [0.0, 0.1, 0.3], [0.0, 0.5, 2.0], ["linear", "linear", "piecewise"]  # no palindrome
    ens = mk([0, 0, 0])
    run = train.train_soteacher(ens, X, y, sch, lr=0.05, lambda_lr=lrs, lambda_cr_max=crs, cr_schedule=kinds)
    assert run.lambda_cr.shape == (6, 3)
    np.testing.assert_allclose(run.lambda_cr[:, 2].numpy(), [0, 0, 0, 1.0, 1.0, 2.0], rtol=1e-6)
    for j in range(3):
        one = mk([0])
        r1 = train.train_soteacher(one, X, y, sch, lr=0.05, lambda_lr=lrs[j], lambda_cr_max=crs[j], cr_schedule=kinds[j])
        torch.testing.assert_close(run.loss_history[:, j], r1.loss_history[:, 0], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(ens.flat()[j], one.flat()[0], rtol=1e-5, atol=1e-6)
    assert not torch.allclose(run.loss_history[:, 0], run.loss_history[:, 1])  # the settings did differ
    with pytest.raises(ValueError, match="lambda_lr"):
        train.train_soteacher(mk([0, 1]), X, y, sch, lr=0.05, lambda_lr=[0.1, 0.1, 0.1])
    with pytest.raises(ValueError, match="lambda_cr_max"):
        train.train_soteacher(mk([0, 1]), X, y, sch, lr=0.05, lambda_cr_max=[0.1, float("nan")])
    with pytest.raises(ValueError, match="cr_schedule"):
        train.train_soteacher(mk([0, 1]), X, y, sch, lr=0.05, lambda_cr_max=1.0, cr_schedule=["linear"])
