"""Collects the ablation runs (training/ablations.py) into bench/results/ablations.json,
the Ablations section of bench/results/REPORT.md (bench/results/ablations.md, which
bench/report.ts keeps on a rerun) and one plot, bench/results/ablations.png.

  python3 training/ablations_report.py

Rows not finished yet are listed as pending, with the command that resumes them.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ablations import MASKS, OUT, ROOT, ROWS, SETTINGS  # noqa: E402

RESULTS = ROOT / "bench/results"
RESUME = "nohup sh -c 'for i in 1 2 3 4 5 6; do npm run ablations; done' >> training/runs/ablations/ablations.log 2>&1 &"
GROUPS = [("Table 5 — losses", ["loss-ar", "loss-disc", "loss-both", "loss-both-w0.03"]),
          ("Table 6 — adaptation", ["adapters-stage", "adapters-single", "full-finetune"]),
          ("Table 7 — double vs single forward", ["double-forward", "single-forward"]),
          ("Supplementary — pass-1 attention", ["pass1-causal", "pass1-bidirectional"])]
COLUMNS = [("qa", "QA"), ("qa_held_out", "QA held-out"), ("caption_f1", "caption F1"), ("hallucination", "halluc."),
           ("t2i_r1", "T2I R@1"), ("t2i_r1_held_out", "T2I R@1 held-out"), ("i2t_r1", "I2T R@1"), ("compositional", "compositional")]


def read(path: Path):
    return json.loads(path.read_text()) if path.exists() else None


def metrics(s: dict) -> dict:
    """The world's scores of one reader -> the ablation columns, in percent."""
    pct = lambda x: round(100 * x, 1)  # noqa: E731
    seen, held = s["retrieval"].get("seen", {}), s["retrieval"].get("heldOut", {})
    return {"qa": pct(s["qa"]["overall"]["accuracy"]), "qa_held_out": pct(s["qaHeldOut"]["overall"]["accuracy"]),
            "caption_f1": pct(s["captions"]["f1"]), "hallucination": pct(s["captions"]["hallucination"]),
            "t2i_r1": pct(seen["textToImage"]["r1"]), "t2i_r1_held_out": pct(held["textToImage"]["r1"]) if held else None,
            "i2t_r1": pct(seen["imageToText"]["r1"]), "compositional": pct(s["compositional"]["overall"]["accuracy"]),
            "compositional_by_category": {c: pct(r["accuracy"]) for c, r in sorted(s["compositional"]["byCategory"].items())},
            "qa_by_type": {t: pct(r["accuracy"]) for t, r in sorted(s["qa"]["byType"].items())}}


def training_summary(folder: Path) -> dict:
    lines = [json.loads(l) for l in (folder / "log.jsonl").read_text().splitlines()] if (folder / "log.jsonl").exists() else []
    last = lines[-4:]  # the last 100 steps (a line per 25)
    losses = {k: round(sum(l[k] for l in last if k in l) / max(1, sum(k in l for l in last)), 4)
              for k in ("ar_qa", "ar_caption", "disc") if any(k in l for l in last)}
    seconds, previous = 0.0, 0.0  # elapsed_s restarts at every resume: add up each sitting's last value
    for line in lines:
        if line["elapsed_s"] < previous:
            seconds += previous
        previous = line["elapsed_s"]
    return {"steps": lines[-1]["step"] if lines else 0, "seconds_logged": round(seconds + previous),
            "images_per_s_last": lines[-1]["images_per_s"] if lines else None, "losses_last_100_steps": losses}


def trained_rows() -> dict:
    rows = {}
    for key, (run, switches) in ROWS.items():
        folder = OUT / run
        shared = [k for k, (r, _) in ROWS.items() if r == run and k != key]
        row = {"run": f"training/runs/ablations/{run}", "fwd2bot": switches, "same_run_as": shared}
        ev = read(folder / "eval.json")
        if ev is None:
            row["status"] = "pending"
        else:
            row.update(status="done", training=training_summary(folder),
                       budgets={name.split("-")[-1]: metrics(s) for name, s in ev["scores"].items()})
        rows[key] = row
    return rows


def mask_row() -> dict:
    ev = read(OUT / "mask" / "eval.json")
    if ev is None:
        return {"status": "pending"}
    groups = {name.removeprefix("mask-"): metrics(s) for name, s in ev["scores"].items()}
    ref = groups["none"]
    drop = {g: {k: round(m[k] - ref[k], 1) for k in ("qa", "caption_f1", "t2i_r1", "compositional")} for g, m in groups.items() if g != "none"}
    return {"status": "done", "model": SETTINGS["pack"], "budget": 16,
            "masked_tokens": {g: list(r) for g, r in MASKS.items()}, "scores": groups, "change_vs_unmasked": drop}


def lora_row() -> dict:
    data = read(OUT / "lora-norms.json")
    if data is None:
        return {"status": "pending"}
    out = {"status": "done" if len(data) == 2 else "partial", "runs": {}}
    for run, d in data.items():
        for slot, name in enumerate(d["slots"]):
            out["runs"][name] = {key: {"delta": v["delta"][slot], "relative": v["relative"][slot]} for key, v in d["norms"].items()}
    return out


def baselines_row() -> dict:
    ev = read(OUT / "baselines" / "eval.json")
    if ev is None:
        return {"status": "pending"}
    scores = {name: metrics(s) for name, s in ev["scores"].items()}
    return {"status": "done", "model": SETTINGS["base"], "reader": "the base model (adapter 0); E5-V prompt for retrieval",
            "all_tokens": scores.pop("base-all-64"),
            "budgets": {k: {m: scores[f"{m}-{k}"] for m in ("prumerge", "cls", "pool")} for k in map(str, SETTINGS["budgets_evaluated"])}}


def copy_logs(rows: dict) -> None:
    for row in rows.values():
        run = row["run"].split("/")[-1]
        if row["status"] == "done":
            shutil.copy(OUT / run / "log.jsonl", ROOT / f"training/logs/ablation-stage2-{run}-{SETTINGS['steps']}steps.jsonl")


def fmt(v) -> str:
    return "—" if v is None else f"{v:.1f}"


def markdown(doc: dict) -> str:
    rows, s = doc["rows"], doc["settings"]
    md = ["## Ablations (the paper's, in the shapes world)", "",
          f"`npm run ablations` (training/ablations.py): every row is stage 2 from the same stage-1 base "
          f"(`{s['base']}`), seed {s['seed']}, {s['steps']} steps × {s['batch']} images of `{s['data']}` "
          f"({s['train_images']:,} images), lr {s['lr']} cosine, rank-{s['model']['lora_rank']} adapters, budgets sampled per batch; "
          f"scored on the first {s['test_images']} images of the test split by the world's scorers. **One seed** (no GPU lent), "
          f"so differences of a point or two are noise (about ±1 point for QA, ±2–3 for caption F1). Percent.", ""]
    head = ["row", "K", *[c for _, c in COLUMNS]]
    for title, keys in GROUPS:
        md += [f"### {title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for key in keys:
            row = rows[key]
            if row["status"] != "done":
                md.append(f"| {key} | pending | " + " | ".join([""] * len(COLUMNS)) + " |")
                continue
            for k in map(str, s["budgets_evaluated"]):
                m = row["budgets"][k]
                md.append(f"| {key} | {k} | " + " | ".join(fmt(m[c]) for c, _ in COLUMNS) + " |")
        md.append("")
    done = [k for k, r in rows.items() if r["status"] == "done"]
    if done:
        cats = list(rows[done[0]]["budgets"]["16"]["compositional_by_category"])
        md += ["### Compositional accuracy per probe category (K = 16)", "", "| row | " + " | ".join(cats) + " |", "|" + "---|" * (len(cats) + 1)]
        md += [f"| {k} | " + " | ".join(fmt(rows[k]["budgets"]["16"]["compositional_by_category"][c]) for c in cats) + " |" for k in done]
        md.append("")
    base = doc["prumerge"]
    md += ["### Table 1 — training-free reduction at equal K (`prumerge`)", ""]
    if base["status"] == "done":
        md += ["| reduction | K | " + " | ".join(c for _, c in COLUMNS) + " |", "|" + "---|" * (len(COLUMNS) + 2),
               "| none (all 64 tokens) | 64 | " + " | ".join(fmt(base["all_tokens"][c]) for c, _ in COLUMNS) + " |"]
        for k, methods in base["budgets"].items():
            md += [f"| {m} | {k} | " + " | ".join(fmt(v[c]) for c, _ in COLUMNS) + " |" for m, v in methods.items()]
        md += ["", f"The base model (`{s['base']}`) reads the K tokens; retrieval by its E5-V prompt. Fwd2Bot at the same K: "
               "the `double-forward` rows above.", ""]
    else:
        md += ["pending", ""]
    mask = doc["mask"]
    md += ["### Fig. 6 — which compressed tokens matter (`mask`)", ""]
    if mask["status"] == "done":
        md += [f"The bundled pack's stage 2 (`{mask['model']}`) at K = 16, masked tokens left out of the sequence (image and caption side).", "",
               "| masked | QA | caption F1 | T2I R@1 | compositional | ΔQA | ΔF1 | ΔT2I |", "|---|---|---|---|---|---|---|---|"]
        for g, m in mask["scores"].items():
            d = mask["change_vs_unmasked"].get(g, {})
            md.append(f"| {g} | {fmt(m['qa'])} | {fmt(m['caption_f1'])} | {fmt(m['t2i_r1'])} | {fmt(m['compositional'])} | "
                      f"{fmt(d.get('qa'))} | {fmt(d.get('caption_f1'))} | {fmt(d.get('t2i_r1'))} |")
        md.append("")
    else:
        md += ["pending", ""]
    lora = doc["lora-norms"]
    md += ["### Fig. 3 — where the adapters differ (`lora-norms`)", ""]
    if lora["status"] in ("done", "partial"):
        names = list(lora["runs"])
        keys = list(lora["runs"][names[0]])
        md += ["‖ΔW‖_F = ‖(α/r)·BA‖_F per layer and matrix (relative to ‖W‖_F in brackets).", "",
               "| layer.matrix | " + " | ".join(names) + " |", "|" + "---|" * (len(names) + 1)]
        md += [f"| {key} | " + " | ".join(f"{lora['runs'][n][key]['delta']:.3f} ({lora['runs'][n][key]['relative']:.2f})" for n in names) + " |"
               for key in keys]
        md.append("")
    else:
        md += ["pending", ""]
    md += ["![Ablations: QA and caption F1 per row at K = 4, mask drops, LoRA norms](ablations.png)", "",
           "The analysis against the paper's tables is in docs/training.md (*Ablations*)."]
    if doc["pending"]:
        md += ["", f"Pending rows: {', '.join(doc['pending'])} — resume with `{RESUME}`."]
    return "\n".join(md) + "\n"


def plot(doc: dict, path: Path) -> bool:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("no matplotlib (apt-get install python3-matplotlib): skipping the plot", flush=True)
        return False
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.8))
    done = [k for k, r in doc["rows"].items() if r["status"] == "done"]
    runs = list(dict.fromkeys(doc["rows"][k]["run"] for k in done))
    labels = [" / ".join(k for k in done if doc["rows"][k]["run"] == r) for r in runs]
    first = [next(k for k in done if doc["rows"][k]["run"] == r) for r in runs]
    x = range(len(runs))
    for off, (col, name) in ((-0.2, ("qa", "QA")), (0.2, ("caption_f1", "caption F1"))):
        axes[0].bar([i + off for i in x], [doc["rows"][k]["budgets"]["4"][col] for k in first], 0.4, label=name)
    axes[0].set_xticks(list(x), [l.replace(" / ", "\n") for l in labels], rotation=60, ha="right", fontsize=7)
    axes[0].set_title("trained rows at K = 4 (%)")
    axes[0].legend()
    if doc["mask"]["status"] == "done":
        change = doc["mask"]["change_vs_unmasked"]
        for off, col in ((-0.25, "qa"), (0, "caption_f1"), (0.25, "t2i_r1")):
            axes[1].bar([i + off for i in range(len(change))], [c[col] for c in change.values()], 0.25, label=col)
        axes[1].set_xticks(range(len(change)), list(change))
        axes[1].axhline(0, color="black", linewidth=0.5)
        axes[1].set_title("mask: change vs unmasked, K = 16 (points)")
        axes[1].legend()
    if doc["lora-norms"]["status"] in ("done", "partial"):
        for name, norms in doc["lora-norms"]["runs"].items():
            axes[2].plot(range(len(norms)), [v["delta"] for v in norms.values()], marker="o", label=name)
        keys = list(next(iter(doc["lora-norms"]["runs"].values())))
        axes[2].set_xticks(range(len(keys)), keys, rotation=90, fontsize=6)
        axes[2].set_title("‖ΔW‖ per layer and matrix")
        axes[2].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def main() -> None:
    rows = trained_rows()
    doc = {"settings": SETTINGS, "seeds": 1, "note": "one seed per row: no GPU was lent; CPU, 2 threads",
           "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip(),
           "rows": rows, "mask": mask_row(), "lora-norms": lora_row(), "prumerge": baselines_row()}
    doc["pending"] = [k for k in [*rows, "mask", "lora-norms", "prumerge"]
                      if (rows[k] if k in rows else doc[k])["status"] != "done"]
    doc["resume"] = RESUME
    copy_logs(rows)
    (RESULTS / "ablations.json").write_text(json.dumps(doc, indent=1) + "\n")
    plot(doc, RESULTS / "ablations.png")
    section = markdown(doc)
    (RESULTS / "ablations.md").write_text(section)
    report = RESULTS / "REPORT.md"
    text = report.read_text()
    text = re.sub(r"\n## Ablations.*?(?=\n## (?!#)|\Z)", "", text, flags=re.S).rstrip() + "\n\n" + section
    report.write_text(text)
    print(f"wrote bench/results/ablations.json, ablations.md, ablations.png, the REPORT.md section; pending: {doc['pending'] or 'none'}")


if __name__ == "__main__":
    main()
