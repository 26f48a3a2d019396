"""A LLaMA-2 folder as many people have it: ``tokenizer.model`` (SentencePiece) and no ``tokenizer.json``.

transformers turns tokenizer.model into its fast tokenizer at load time, which needs ``sentencepiece`` and
``protobuf`` (runtime dependencies in pyproject.toml since issue 9; without protobuf transformers 5.25 falls back to a
TikToken reader and fails "`tiktoken` is required"). Loaded here through the real Video-LLaMA path: the converter
copies the folder, ``VideoLlama.from_pretrained`` loads it with ``AutoTokenizer``.
"""

from __future__ import annotations

import io
import json
import shutil

import pytest

from tests.core_model.videollama.tiny_checkpoints import _CORPUS

TEXT = "[INST] what is the dog doing in the park [/INST]"


def _train_sentencepiece() -> bytes:
    """The same SentencePiece BPE model tiny_checkpoints.build_tokenizer trains (same corpus, same settings)."""
    import sentencepiece as spm

    lines = [" ".join(_CORPUS[i:] + _CORPUS[:i]) for i in range(len(_CORPUS))] * 10
    lines += ["[INST] <<SYS>>", "<</SYS>>", "[/INST]", "<Video></Video>", "<Image></Image>", "0.0, 1.5 seconds.",
              "###Human: ###Assistant:"]
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_writer=model, vocab_size=420, model_type="bpe", byte_fallback=True,
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1, character_coverage=1.0, minloglevel=2,
    )
    return model.getvalue()


@pytest.fixture(scope="module")
def sentencepiece_llm(official_files, tmp_path_factory):
    """The tiny llama-2-chat-hf folder with its tokenizer as the official repo ships it before tokenizer.json."""
    folder = tmp_path_factory.mktemp("llama_spm") / "llama-2-tiny-chat-hf"
    shutil.copytree(official_files["llm"], folder)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        (folder / name).unlink(missing_ok=True)
    (folder / "tokenizer.model").write_bytes(_train_sentencepiece())
    (folder / "tokenizer_config.json").write_text(json.dumps({  # the fields of meta-llama/Llama-2-7b-chat-hf's
        "tokenizer_class": "LlamaTokenizer", "add_bos_token": True, "add_eos_token": False, "legacy": True,
        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": None,
        "clean_up_tokenization_spaces": False, "model_max_length": 4096, "sp_model_kwargs": {},
    }))
    return folder


def test_runtime_has_what_tokenizer_model_needs():
    import google.protobuf  # noqa: F401
    import sentencepiece  # noqa: F401


def test_a_folder_with_only_tokenizer_model_loads_through_the_videollama_loader(sentencepiece_llm):
    import sentencepiece as spm

    from core_model.videollama.modeling_videollama import load_llm

    assert not (sentencepiece_llm / "tokenizer.json").exists()
    llm, tokenizer = load_llm(sentencepiece_llm)
    reference = spm.SentencePieceProcessor(model_proto=(sentencepiece_llm / "tokenizer.model").read_bytes())
    assert tokenizer(TEXT)["input_ids"] == [1] + reference.encode(TEXT)  # <s> + SentencePiece's own pieces
    assert tokenizer.eos_token_id == 2 and len(tokenizer) == llm.config.vocab_size


def test_convert_and_load_a_videollama_whose_llm_has_only_tokenizer_model(official_files, sentencepiece_llm,
                                                                          tmp_path):
    from core_model.videollama import VideoLlama
    from core_model.videollama.conversion import convert_videollama

    out = convert_videollama(out=tmp_path / "vidi", **{**official_files, "llm": sentencepiece_llm})
    assert (out / "llm" / "tokenizer.model").is_file()
    model = VideoLlama.from_pretrained(out)
    ids = model.tokenizer(TEXT)["input_ids"]
    assert ids[0] == 1 and model.tokenizer.decode(ids, skip_special_tokens=True) == TEXT
