"""One command from a Hugging Face LLaVA checkpoint to a Glimpse model pack (docs/real-models.md):

  npm run pack:from-hf -- --checkpoint DIR --llava-data JSON --images DIR --captions SHARDS --out PACKDIR \\
      [--steps N] [--gpus N] [--quantize int8]

Stage 2 (Fwd2Bot, hf_train.py; through torchrun with --gpus N > 1), then the version-2
export (hf_export.py) with its evaluation on --eval-* data (default: the training data).
The run folder (default PACKDIR's hidden sibling .NAME.run) resumes when the command is
run again; a finished run goes straight to export.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True, help="Hugging Face checkpoint folder (llava-hf/llava-1.5-7b-hf, "
                    "llava-hf/llava-onevision-qwen2-0.5b-ov-hf, or npm run tiny-hf's)")
    ap.add_argument("--llava-data", required=True, help="LLaVA-665k style conversations JSON")
    ap.add_argument("--images", required=True, help="the image folder of --llava-data")
    ap.add_argument("--captions", required=True, nargs="+", help="webdataset caption shards (folder, glob or {a..b})")
    ap.add_argument("--out", required=True, help="the pack folder to write")
    ap.add_argument("--id", help="pack id (default: the --out folder's name)")
    ap.add_argument("--run", help="run folder (default: .NAME.run beside --out)")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--gpus", type=int, default=1, help="processes (one per GPU) for torchrun; 1 runs in this process")
    ap.add_argument("--batch", type=int, default=8, help="per process")
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--model", help="JSON: summary_tokens, lora_rank, lora_alpha")
    ap.add_argument("--fwd2bot", help="JSON overrides of Fwd2BotConfig")
    ap.add_argument("--grad-checkpoint", action="store_true")
    ap.add_argument("--bf16-base", action="store_true")
    ap.add_argument("--max-minutes", type=float, help="stop training after this long (run again to resume)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quantize", choices=("int8",))
    ap.add_argument("--external-data", choices=("auto", "always", "never"), default="auto")
    ap.add_argument("--eval-llava-data", help="held-out conversations JSON (default: --llava-data)")
    ap.add_argument("--eval-images", help="its image folder (default: --images)")
    ap.add_argument("--eval-captions", nargs="+", help="held-out caption shards (default: --captions)")
    ap.add_argument("--eval-records", type=int, default=32)
    ap.add_argument("--eval-retrieval", type=int, default=64, help="images in the retrieval evaluation")
    args = ap.parse_args(argv)

    out = Path(args.out).resolve()
    pack_id = args.id or out.name.lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", pack_id):
        raise SystemExit(f"pack_from_hf: pack id {pack_id!r} must be lower-case letters, digits, '.', '_' or '-' (pass --id)")
    run = Path(args.run) if args.run else out.with_name(f".{out.name}.run")
    train_args = ["--checkpoint", args.checkpoint, "--llava-data", args.llava_data, "--images", args.images,
                  "--captions", *args.captions, "--run", str(run), "--steps", str(args.steps), "--batch", str(args.batch),
                  "--lr", str(args.lr), "--warmup", str(args.warmup), "--threads", str(args.threads)]
    for flag, value in (("--model", args.model), ("--fwd2bot", args.fwd2bot), ("--max-minutes", args.max_minutes)):
        if value is not None:
            train_args += [flag, str(value)]
    train_args += ["--grad-checkpoint"] * args.grad_checkpoint + ["--bf16-base"] * args.bf16_base
    if args.gpus > 1:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={args.gpus}",
               str(HERE / "hf_train.py"), *train_args]
        print("pack_from_hf: " + " ".join(cmd), flush=True)
        if subprocess.run(cmd).returncode != 0:
            raise SystemExit("pack_from_hf: training failed (see above); run the same command again to resume")
    else:
        import hf_train
        hf_train.main(train_args)
    if not (run / "final.pt").exists():
        raise SystemExit(f"pack_from_hf: training stopped before the end ({run}); run the same command again to resume")
    import hf_export
    import torch
    torch.set_num_threads(args.threads)
    pack = hf_export.export_pack(run, out, args.eval_llava_data or args.llava_data, args.eval_images or args.images,
                                 args.eval_captions or args.captions, pack_id, args.quantize, args.external_data,
                                 args.eval_records, args.eval_retrieval)
    size = sum(f["bytes"] for f in pack["files"].values())
    print(f"pack_from_hf: wrote {out} ({pack_id}, {size / 1e6:.1f} MB); install it by copying the folder into "
          "Glimpse's packs folder, or use it with --packs", flush=True)
    print(json.dumps({"evaluation": {k: v for k, v in pack["evaluation"]["scores"].items() if k != "examples"}}), flush=True)


if __name__ == "__main__":
    main()
