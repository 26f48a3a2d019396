"""The converted tiny model against independent reference computations on the ORIGINAL files, to 1e-5."""

from __future__ import annotations

import pytest
import torch

from tests.core_model.videollama import reference as ref
from tests.core_model.videollama import tiny_checkpoints as tiny

TOL = dict(rtol=1e-5, atol=1e-5)


@pytest.fixture(scope="module")
def originals(official_files):
    load = lambda key: torch.load(official_files[key], map_location="cpu", weights_only=True)  # noqa: E731
    return {
        "eva": load("eva"),
        "blip2": load("blip2")["model"],
        "vl": load("vl")["model"],
        "al": load("al")["model"],
        "imagebind": load("imagebind"),
    }


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_sizes_inferred_from_shapes(tiny_model):
    config = tiny_model.config
    assert config.vision_config.num_hidden_layers == tiny.EVA_BLOCKS - 1  # the last EVA block is dropped
    assert config.vision_config.num_attention_heads == tiny.EVA_WIDTH // 88
    assert config.vision_config.image_size == tiny.IMAGE_SIZE
    assert config.qformer_config.cross_attention_frequency == tiny.QF_FREQ
    assert config.qformer_config.encoder_hidden_size == tiny.EVA_WIDTH
    assert config.video_qformer_config.cross_attention_frequency == 1
    assert config.video_qformer_config.num_query_tokens == tiny.VQF_QUERIES
    assert config.audio_qformer_config.num_query_tokens == tiny.AQF_QUERIES
    assert config.audio_qformer_config.encoder_hidden_size == tiny.IB_OUT
    assert config.audio_config.stride == 10 and config.audio_config.num_patches == tiny.IB_PATCHES
    assert config.max_frame_positions == tiny.MAX_FRAMES
    assert config.llm_hidden_size == tiny.LLM_HIDDEN
    assert tiny_model.vision_model.post_layernorm.eps == 1e-5  # ln_vision's eps, not the blocks' 1e-6
    assert len(tiny_model.vision_model.encoder.layers) == tiny.EVA_BLOCKS - 1


def test_config_round_trip(converted_dir):
    from core_model.videollama.configuration_videollama import VideoLlamaConfig

    config = VideoLlamaConfig.from_json_file(converted_dir)
    assert VideoLlamaConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown keys"):
        VideoLlamaConfig.from_dict({**config.to_dict(), "vision_config": {"hiden_size": 3}})


def test_eva_attention_separate_q_v_bias(tiny_model, originals):
    x = torch.randn(2, 5, tiny.EVA_WIDTH, generator=_gen(1))
    ours = tiny_model.vision_model.encoder.layers[1].self_attn(x)[0]
    theirs = ref.eva_attention(x, originals["eva"], "blocks.1.attn.", num_heads=2)
    torch.testing.assert_close(ours, theirs, **TOL)
    # the k slot of the fused bias is exactly zero, q and v slots are the original biases
    bias = tiny_model.vision_model.encoder.layers[1].self_attn.qkv.bias
    w = tiny.EVA_WIDTH
    assert torch.equal(bias[w : 2 * w], torch.zeros(w))
    assert torch.equal(bias[:w], originals["eva"]["blocks.1.attn.q_bias"])
    assert torch.equal(bias[2 * w :], originals["eva"]["blocks.1.attn.v_bias"])


def test_eva_vit_and_ln_vision(tiny_model, originals):
    pixels = torch.randn(3, 3, tiny.IMAGE_SIZE, tiny.IMAGE_SIZE, generator=_gen(2))
    ours = tiny_model.vision_model(pixel_values=pixels).last_hidden_state
    theirs = ref.layer_norm(ref.eva_vit(pixels, originals["eva"], tiny.EVA_BLOCKS - 1, 2), originals["blip2"],
                            "ln_vision.", 1e-5)
    assert ours.shape == (3, (tiny.IMAGE_SIZE // tiny.PATCH) ** 2 + 1, tiny.EVA_WIDTH)
    torch.testing.assert_close(ours, theirs, **TOL)


@pytest.mark.parametrize("layer_index", [0, 1])  # layer 0 cross-attends, layer 1 does not (frequency 2)
def test_qformer_layer_bert_style(tiny_model, originals, layer_index):
    hidden = torch.randn(2, tiny.QF_QUERIES, tiny.QF_WIDTH, generator=_gen(3))
    encoder = torch.randn(2, 5, tiny.EVA_WIDTH, generator=_gen(4))
    layer = tiny_model.qformer.encoder.layer[layer_index]
    ours = layer(hidden, None, encoder, query_length=tiny.QF_QUERIES)
    theirs = ref.qformer_layer(hidden, encoder, originals["blip2"], f"Qformer.bert.encoder.layer.{layer_index}.",
                               num_heads=2, has_cross=layer_index % tiny.QF_FREQ == 0)
    torch.testing.assert_close(ours, theirs, **TOL)


def test_imagebind_block_with_bias_kv(tiny_model, originals):
    x = torch.randn(2, 7, tiny.IB_WIDTH, generator=_gen(5))
    ours = tiny_model.audio_encoder.blocks[1](x)
    theirs = ref.imagebind_block(x.transpose(0, 1), originals["imagebind"], "modality_trunks.audio.blocks.1.",
                                 num_heads=2).transpose(0, 1)
    torch.testing.assert_close(ours, theirs, **TOL)


def test_imagebind_audio_encoder(tiny_model, originals):
    spectrograms = torch.randn(3, 1, 128, 204, generator=_gen(6))
    ours = tiny_model.audio_encoder(spectrograms)
    theirs = ref.imagebind_audio(spectrograms, originals["imagebind"], tiny.IB_BLOCKS, num_heads=2)
    assert ours.shape == (3, tiny.IB_OUT)
    torch.testing.assert_close(ours.norm(dim=-1), torch.full((3,), 20.0), **TOL)  # unit vector x 20
    torch.testing.assert_close(ours, theirs, **TOL)


@pytest.mark.parametrize("num_frames", [1, 3])  # an image is T = 1
def test_encode_video_matches_reference(tiny_model, originals, num_frames):
    pixels = torch.randn(2, num_frames, 3, tiny.IMAGE_SIZE, tiny.IMAGE_SIZE, generator=_gen(7))
    with torch.inference_mode():
        ours = tiny_model.encode_video(pixels)
    theirs = ref.encode_video(pixels, originals["eva"], originals["blip2"], originals["vl"],
                              eva_blocks=tiny.EVA_BLOCKS - 1, eva_heads=2, qf_layers=tiny.QF_LAYERS,
                              qf_freq=tiny.QF_FREQ, qf_heads=2, vqf_layers=tiny.VQF_LAYERS, vqf_heads=2)
    assert ours.shape == (2, tiny.VQF_QUERIES, tiny.LLM_HIDDEN)
    torch.testing.assert_close(ours, theirs, **TOL)


def test_encode_audio_matches_reference(tiny_model, originals):
    features = torch.randn(1, 8, 1, 128, 204, generator=_gen(8))
    with torch.inference_mode():
        ours = tiny_model.encode_audio(features)
    theirs = ref.encode_audio(features, originals["imagebind"], originals["al"], ib_blocks=tiny.IB_BLOCKS,
                              ib_heads=2, aqf_layers=tiny.AQF_LAYERS, aqf_heads=2)
    assert ours.shape == (1, tiny.AQF_QUERIES, tiny.LLM_HIDDEN)
    torch.testing.assert_close(ours, theirs, **TOL)


def test_too_many_frames_is_refused(tiny_model):
    with pytest.raises(ValueError, match="at most 8"):
        tiny_model.encode_video(torch.zeros(1, tiny.MAX_FRAMES + 1, 3, tiny.IMAGE_SIZE, tiny.IMAGE_SIZE))


def test_embed_prompt_splices_like_the_original(tiny_model):
    """Pieces split on <ImageHere>, tokenised apart with BOS on the first only, interleaved with the media."""
    prompt = "[INST] <<SYS>>\n\n<</SYS>>\n\nsound: <ImageHere>. see <Video><ImageHere></Video> now [/INST]"
    audio = torch.randn(1, 3, tiny.LLM_HIDDEN, generator=_gen(9))
    video = torch.randn(1, 6, tiny.LLM_HIDDEN, generator=_gen(10))
    embeds = tiny_model.embed_prompt(prompt, [audio, video])
    tok = tiny_model.tokenizer
    pieces = prompt.split("<ImageHere>")
    ids = [tok(pieces[0]).input_ids, tok(pieces[1], add_special_tokens=False).input_ids,
           tok(pieces[2], add_special_tokens=False).input_ids]
    assert ids[0][0] == tok.bos_token_id and tok.bos_token_id not in ids[1] + ids[2]
    assert tiny_model.prompt_piece_ids(prompt) == ids
    table = tiny_model.llm.get_input_embeddings().weight
    expected = torch.cat([table[ids[0]][None], audio, table[ids[1]][None], video, table[ids[2]][None]], dim=1)
    assert embeds.shape == (1, sum(map(len, ids)) + 3 + 6, tiny.LLM_HIDDEN)
    torch.testing.assert_close(embeds, expected, rtol=0, atol=0)
    with pytest.raises(ValueError, match="2 <ImageHere> placeholders but 1"):
        tiny_model.embed_prompt(prompt, [audio])
