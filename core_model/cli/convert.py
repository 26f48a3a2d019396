"""``vidi convert``: turn a model's official release files into a Vidi model folder.

    vidi convert videollama --llm llama-2-7b-chat-hf --vl VL_LLaMA_2_7B_Finetuned.pth \\
        --al AL_LLaMA_2_7B_Finetuned.pth --eva eva_vit_g.pth --blip2 blip2_pretrained_flant5xxl.pth \\
        --imagebind imagebind_huge.pth --out ~/models/video-llama-2-7b

Files are read with ``torch.load(weights_only=True)``: a checkpoint holding anything but weights is refused. A wrong
file, a missing or unexpected key, or a wrong shape stops with one line naming the file and key (exit code 2).
"""

from __future__ import annotations

import sys

from core_model.cli import CliError


def register(subparsers) -> None:
    parser = subparsers.add_parser("convert", help="convert official model files into a Vidi model folder",
                                   description="Convert official model files into a Vidi model folder.")
    families = parser.add_subparsers(dest="family", metavar="FAMILY", parser_class=type(parser))
    vl = families.add_parser(
        "videollama", help="Video-LLaMA / Video-LLaMA-2 (DAMO-NLP-SG)",
        description="Video-LLaMA: the VL (and AL) checkpoint, EVA ViT-g, BLIP-2 Q-Former, ImageBind-Huge and the "
                    "LLaMA-2-Chat (or Vicuna) folder -> one Vidi folder (audio branch only with --al and --imagebind).",
    )
    vl.add_argument("--llm", required=True, metavar="DIR", help="the llama-2-*-chat-hf folder (config + tokenizer)")
    vl.add_argument("--vl", required=True, metavar="FILE", help="VL_*.pth (or a Vicuna-era VL file)")
    vl.add_argument("--al", metavar="FILE", help="AL_*.pth: the audio branch (needs --imagebind)")
    vl.add_argument("--eva", required=True, metavar="FILE", help="eva_vit_g.pth")
    vl.add_argument("--blip2", required=True, metavar="FILE", help="blip2_pretrained_flant5xxl.pth")
    vl.add_argument("--imagebind", metavar="FILE", help="imagebind_huge.pth (only its audio branch is kept)")
    vl.add_argument("--out", required=True, metavar="DIR", help="the Vidi folder to write (must not exist or be empty)")
    vl.add_argument("--template", choices=("llama_2", "vicuna"), default=None,
                    help="chat template (default: vicuna for a 32001-token vocabulary or a Vicuna VL file name)")
    vl.set_defaults(func=run_videollama)
    parser.set_defaults(func=lambda args: (parser.print_help(), 0)[1])


def run_videollama(args) -> int:
    from core_model.videollama.conversion import ConversionError, convert_videollama

    try:
        out = convert_videollama(
            llm=args.llm, vl=args.vl, al=args.al, eva=args.eva, blip2=args.blip2, imagebind=args.imagebind,
            out=args.out, conv_template=args.template, progress=lambda message: print(message, file=sys.stderr),
        )
    except ConversionError as exc:
        raise CliError(str(exc)) from None
    weights = out / "model.safetensors"
    llm_bytes = sum(p.stat().st_size for p in (out / "llm").rglob("*") if p.is_file())
    print(f"wrote {out}: model.safetensors {weights.stat().st_size / 2**20:.1f} MiB, llm/ {llm_bytes / 2**20:.1f} MiB")
    return 0
