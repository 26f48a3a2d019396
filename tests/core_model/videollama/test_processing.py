"""Processor (frame-index rule, resize, audio clips) and prompt templates, against the original's exact strings."""

from __future__ import annotations

import pytest
import torch

from core_model.videollama.processing_videollama import CLIP_MEAN, CLIP_STD, NoAudioError, VideoLlamaProcessor
from core_model.videollama.prompts import AUDIO_VIDEO_MESSAGE, Conversation, clean_answer
from tests.fixtures.media import read_frame_number


def _frame_numbers(pixel_values: torch.Tensor) -> list[int]:
    """Undo CLIP normalisation and the square resize (back to 320x240), then read each frame's number."""
    mean, std = torch.tensor(CLIP_MEAN).view(1, 3, 1, 1), torch.tensor(CLIP_STD).view(1, 3, 1, 1)
    pixels = ((pixel_values * std + mean) * 255).clamp(0, 255)
    pixels = torch.nn.functional.interpolate(pixels, size=(240, 320), mode="bilinear", align_corners=False)
    frames = pixels.round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    return [read_frame_number(frame) for frame in frames]


def test_whole_video_takes_frames_i_n_over_8(video_with_audio):
    processor = VideoLlamaProcessor(image_size=320)
    pixel_values, times_s = processor.video(video_with_audio)
    assert pixel_values.shape == (8, 3, 320, 320) and pixel_values.dtype == torch.float32
    expected = [i * 150 // 8 for i in range(8)]  # 0, 18, 37, 56, 75, 93, 112, 131 (never the last frame)
    assert _frame_numbers(pixel_values) == expected
    assert times_s == pytest.approx([index / 30 for index in expected])


def test_segment_frames_follow_the_same_rule(video_with_audio):
    pixel_values, times_s = VideoLlamaProcessor(image_size=320).video(video_with_audio, start=1.0, end=3.0)
    expected = [30 + i * 60 // 8 for i in range(8)]  # the segment's 60 frames are 30..89
    assert _frame_numbers(pixel_values) == expected
    assert times_s[0] == pytest.approx(1.0)


def test_short_segment_gives_fewer_frames(video_with_audio):
    pixel_values, _ = VideoLlamaProcessor(image_size=320).video(video_with_audio, start=2.0, end=2.1)
    assert _frame_numbers(pixel_values) == [60, 61, 62]


def test_video_decord_cannot_open_falls_back(video_av1):
    pixel_values, times_s = VideoLlamaProcessor(image_size=28).video(video_av1, n_frames=4)
    assert pixel_values.shape == (4, 3, 28, 28) and len(times_s) == 4


def test_image_bicubic_to_square(image_png):
    image = VideoLlamaProcessor(image_size=28).image(image_png)  # 64x48, left half red, right half blue
    assert image.shape == (1, 3, 28, 28)
    red = (torch.tensor([1.0, 0.0, 0.0]) - torch.tensor(CLIP_MEAN)) / torch.tensor(CLIP_STD)
    blue = (torch.tensor([0.0, 0.0, 1.0]) - torch.tensor(CLIP_MEAN)) / torch.tensor(CLIP_STD)
    torch.testing.assert_close(image[0, :, 14, 3], red, atol=0.02, rtol=0)
    torch.testing.assert_close(image[0, :, 14, 24], blue, atol=0.02, rtol=0)


def test_audio_clips(video_with_audio, video_no_audio):
    from core_model.media import load_audio_native
    from core_model.media.fbank import audio_clip_features

    features = VideoLlamaProcessor().audio(video_with_audio, start=1.0, end=4.0)
    assert features.shape == (8, 1, 128, 204)
    waveform, rate = load_audio_native(video_with_audio, 1.0, 4.0)
    torch.testing.assert_close(features, audio_clip_features(waveform, num_clips=8, sample_rate=rate))
    # 3 s of audio: clip i starts at i * (3 - 2) / 8 s; 2-s clips give 198 frames, padded to 204 with the pad value
    pad_value = (0.0 + 4.268) / 9.138
    padding = features[:, :, :, 198:]
    torch.testing.assert_close(padding, torch.full_like(padding, pad_value))
    assert not torch.allclose(features[:, :, :, 197], torch.full_like(features[:, :, :, 197], pad_value))
    with pytest.raises(NoAudioError, match="has no audio track"):
        VideoLlamaProcessor().audio(video_no_audio)


# ---------------------------------------------------------------------------------------------- prompts


def test_audio_video_message_has_the_original_space_runs():
    assert "that: <ImageHere>." + " " * 17 + "Close your ears" in AUDIO_VIDEO_MESSAGE
    assert "</Video>." + " " * 18 + "Now answer" in AUDIO_VIDEO_MESSAGE


def test_llama2_video_prompt():
    prompt = VideoLlamaProcessor().prompt("What is the dog doing?", media="video",
                                          frame_times_s=[i * 1.0 for i in range(8)])
    assert prompt == (
        "[INST] <<SYS>>\n\n<</SYS>>\n\n<Video><ImageHere></Video> The video contains 8 frames sampled at "
        "0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0 seconds.  What is the dog doing? [/INST]"
    )


def test_llama2_audio_video_prompt():
    prompt = VideoLlamaProcessor().prompt("What do you hear?", media="video_audio")
    assert prompt == "[INST] <<SYS>>\n\n<</SYS>>\n\n" + AUDIO_VIDEO_MESSAGE + " What do you hear? [/INST]"
    # The audio+video message has no </Video> at its end but contains one: Chat.ask merges with one space.
    assert prompt.endswith("seen and heard. What do you hear? [/INST]")
    assert prompt.index("<ImageHere>") < prompt.index("<Video><ImageHere>")  # audio placeholder first


def test_llama2_image_prompt_and_multi_turn():
    prompt = VideoLlamaProcessor().prompt("And the colour?", media="image", history=[("What is it?", "A ball.")])
    assert prompt == (
        "[INST] <<SYS>>\nYou are able to understand the visual content that the user provides. Follow the "
        "instructions carefully and explain your answers in detail.\n<</SYS>>\n\n<Image><ImageHere></Image>  "
        "What is it? [/INST] A ball. </s><s>[INST] And the colour? [/INST]"
    )


def test_vicuna_prompt():
    prompt = VideoLlamaProcessor(template="vicuna").prompt("What is the dog doing?", media="video",
                                                           frame_times_s=[0.0, 0.5])
    assert prompt == ("###Human: <Video><ImageHere></Video> The video contains 2 frames sampled at 0.0, 0.5 seconds. "
                      " What is the dog doing?###Assistant:")
    conv = Conversation(template="vicuna")
    conv.add_media("image")
    conv.ask("Hi")
    conv.add_answer("Hello")
    conv.ask("Bye")
    assert conv.prompt() == "###Human: <Image><ImageHere></Image>  Hi###Assistant: Hello###Human: Bye###Assistant:"


def test_clean_answer():
    assert clean_answer(" A dog runs. </s> junk", "llama_2") == "A dog runs."
    assert clean_answer("Assistant: A cat.###Human: more", "vicuna") == "A cat."
