"""The converter: official tiny files -> Vidi folder; strict key/shape checks; wrong files refused clearly."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from safetensors import safe_open

from core_model.videollama.conversion import ConversionError, convert_videollama


class _Payload:
    """An arbitrary object in a pickle: loading it with weights_only=False would run print()."""

    def __reduce__(self):
        return (print, ("PAYLOAD RAN",))


def _convert(files, out, **changes):
    args = {**files, **changes}
    return convert_videollama(out=out, **{k: v for k, v in args.items() if v is not None})


def _modified(official_files, tmp_path, key, edit):
    """A copy of official file ``key`` with ``edit(checkpoint)`` applied; returns the converter args."""
    ckpt = torch.load(official_files[key], map_location="cpu", weights_only=True)
    edit(ckpt)
    path = tmp_path / official_files[key].name
    torch.save(ckpt, path)
    return {**official_files, key: path}


def test_converted_folder_layout(converted_dir):
    config = json.loads((converted_dir / "config.json").read_text())
    assert config["model_type"] == "vidi_videollama"
    assert config["conv_template"] == "llama_2"
    assert config["source"]["vl"] == "VL_LLaMA_2_tiny_Finetuned.pth"
    assert (converted_dir / "llm" / "config.json").is_file()
    assert (converted_dir / "llm" / "tokenizer.json").is_file()
    with safe_open(str(converted_dir / "model.safetensors"), "pt") as weights:
        keys = set(weights.keys())
    prefixes = {"vision_model", "query_tokens", "qformer", "video_frame_position_embedding", "video_query_tokens",
                "video_qformer", "llama_proj", "audio_encoder", "audio_position_embedding", "audio_query_tokens",
                "audio_qformer", "audio_llama_proj"}
    assert {k.split(".")[0] for k in keys} == prefixes
    assert not any("blocks.2." in k or "layers.2." in k for k in keys)  # the unused last EVA block is dropped
    assert not any("vision." in k or "text" in k or "t5_proj" in k for k in keys)  # other ImageBind modalities


def test_vision_only_conversion(official_files, tmp_path):
    from core_model.videollama import VideoLlama

    out = _convert(official_files, tmp_path / "vl_only", al=None, imagebind=None)
    model = VideoLlama.from_pretrained(out)
    assert not model.config.has_audio and not hasattr(model, "audio_encoder")
    with pytest.raises(ValueError, match="no audio branch"):
        model.encode_audio(torch.zeros(1, 8, 1, 128, 204))


def test_vl_file_given_as_al(official_files, tmp_path):
    with pytest.raises(ConversionError, match=r"given as the AL file is a VL checkpoint.*audio_Qformer") as info:
        _convert(official_files, tmp_path / "out", al=official_files["vl"])
    assert official_files["vl"].name in str(info.value)


def test_blip2_file_given_as_vl(official_files, tmp_path):
    with pytest.raises(ConversionError, match=r"given as the VL file is a BLIP-2 checkpoint"):
        _convert(official_files, tmp_path / "out", vl=official_files["blip2"])


def test_truncated_pth(official_files, tmp_path):
    data = official_files["al"].read_bytes()
    truncated = tmp_path / "AL_truncated.pth"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ConversionError, match=r"AL file '.*AL_truncated\.pth' is not a readable PyTorch checkpoint"):
        _convert(official_files, tmp_path / "out", al=truncated)


def test_pickled_object_is_refused(official_files, tmp_path, capsys):
    ckpt = torch.load(official_files["vl"], map_location="cpu", weights_only=True)
    ckpt["config"] = _Payload()
    evil = tmp_path / "VL_evil.pth"
    torch.save(ckpt, evil)
    with pytest.raises(ConversionError, match=r"VL file '.*VL_evil\.pth' holds Python objects other than tensors"):
        _convert(official_files, tmp_path / "out", vl=evil)
    assert "PAYLOAD RAN" not in capsys.readouterr().out
    assert not (tmp_path / "out").exists()


def test_missing_key_names_key_and_file(official_files, tmp_path):
    args = _modified(official_files, tmp_path, "vl",
                     lambda c: c["model"].pop("video_Qformer.bert.encoder.layer.1.output_query.dense.bias"))
    with pytest.raises(ConversionError, match=r"VL file '.*VL_LLaMA_2_tiny.*missing key "
                                              r"'video_Qformer\.bert\.encoder\.layer\.1\.output_query\.dense\.bias'"):
        _convert(args, tmp_path / "out")


def test_unexpected_key_names_key_and_file(official_files, tmp_path):
    def edit(state):
        state["modality_trunks.audio.blocks.0.layer_scale"] = torch.ones(3)

    args = _modified(official_files, tmp_path, "imagebind", edit)
    with pytest.raises(ConversionError, match=r"ImageBind file '.*imagebind_huge\.pth': unexpected key "
                                              r"'modality_trunks\.audio\.blocks\.0\.layer_scale'"):
        _convert(args, tmp_path / "out")


def test_wrong_shape_names_key_and_file(official_files, tmp_path):
    def edit(ckpt):
        key = "Qformer.bert.encoder.layer.0.crossattention.self.key.weight"
        ckpt["model"][key] = torch.zeros(128, 100)  # cross-attends to a 100-wide encoder, EVA is 176 wide

    args = _modified(official_files, tmp_path, "blip2", edit)
    with pytest.raises(ConversionError, match=r"blip2_pretrained_flant5xxl\.pth': key "
                                              r"'Qformer\.bert\.encoder\.layer\.0\.crossattention\.self\.key\.weight' "
                                              r"has shape \(128, 100\), expected \(128, 176\)"):
        _convert(args, tmp_path / "out")


def test_llm_width_mismatch(official_files, tmp_path):
    llm = tmp_path / "llm13b"
    shutil.copytree(official_files["llm"], llm)
    config = json.loads((llm / "config.json").read_text())
    config["hidden_size"] = 5120
    (llm / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConversionError, match=r"LLM width of 64.*hidden_size 5120"):
        _convert(official_files, tmp_path / "out", llm=llm)


def test_audio_needs_both_files(official_files, tmp_path):
    with pytest.raises(ConversionError, match="needs both --al"):
        _convert(official_files, tmp_path / "out", imagebind=None)


def test_output_folder_must_be_empty(official_files, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "something").write_text("x")
    with pytest.raises(ConversionError, match="exists and is not empty"):
        _convert(official_files, out)


def test_cli_convert(official_files, tmp_path, capsys):
    from core_model.cli import main

    out = tmp_path / "cli_out"
    args = ["convert", "videollama", "--llm", str(official_files["llm"]), "--vl", str(official_files["vl"]),
            "--eva", str(official_files["eva"]), "--blip2", str(official_files["blip2"]), "--out", str(out)]
    assert main(args + ["--al", str(official_files["vl"]), "--imagebind", str(official_files["imagebind"])]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("vidi: error: ") and "given as the AL file is a VL checkpoint" in err[-1]
    assert main(args) == 0
    assert "wrote" in capsys.readouterr().out and (out / "model.safetensors").is_file()


def test_vicuna_era_file_gets_the_vicuna_template(official_files, tmp_path):
    from core_model.videollama.configuration_videollama import VideoLlamaConfig

    vicuna_vl = tmp_path / "finetune-vicuna7b-v2.pth"
    shutil.copy(official_files["vl"], vicuna_vl)
    out = _convert(official_files, tmp_path / "vicuna", vl=vicuna_vl, al=None, imagebind=None)
    assert VideoLlamaConfig.from_json_file(out).conv_template == "vicuna"


def test_training_checkpoint_given_as_raw_files(official_files, tmp_path):
    with pytest.raises(ConversionError, match=r"given as the EVA file is not a raw EVA ViT state dict"):
        _convert(official_files, tmp_path / "a", eva=official_files["vl"])
    with pytest.raises(ConversionError, match=r"given as the ImageBind file is not imagebind_huge\.pth"):
        _convert(official_files, tmp_path / "b", imagebind=official_files["eva"])
