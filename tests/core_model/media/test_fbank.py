"""ImageBind / Video-LLaMA audio features (videollama-spec.md 1.6.1 and errata 1-3)."""

from fractions import Fraction

import numpy as np
import pytest
import torch
import torchaudio

from core_model.media import MediaError
from core_model.media.fbank import audio_clip_features, audio_clips, clip_bounds, resample_to_16k, waveform_to_fbank


def _noise(seconds: float, rate: int = 16000, seed: int = 0, dc: float = 0.0) -> np.ndarray:
    generator = np.random.default_rng(seed)
    return (0.1 * generator.standard_normal(round(seconds * rate)) + dc).astype(np.float32)


def _torchaudio_reference(clip: torch.Tensor, centre: bool = True) -> torch.Tensor:
    """torchaudio's own kaldi.fbank call with ImageBind's settings, padded to 204 and normalised. [1, 128, 204]."""
    centred = clip - clip.mean() if centre else clip
    bank = torchaudio.compliance.kaldi.fbank(
        centred, htk_compat=True, sample_frequency=16000, use_energy=False, window_type="hanning",
        num_mel_bins=128, dither=0.0, frame_length=25, frame_shift=10,
    ).T
    bank = torch.nn.functional.pad(bank, (0, 204 - bank.shape[1])) if bank.shape[1] < 204 else bank[:, :204]
    return ((bank + 4.268) / 9.138).unsqueeze(0)


def test_fbank_equals_torchaudio_call_on_same_waveform():
    clip = _noise(2.0, dc=0.3)
    features = waveform_to_fbank(clip)
    assert features.shape == (1, 128, 204) and features.dtype == torch.float32
    torch.testing.assert_close(features, _torchaudio_reference(torch.from_numpy(clip)[None]), rtol=0, atol=0)


def test_fbank_pads_198_frames_of_a_2s_clip_with_normalised_zeros():
    features = waveform_to_fbank(_noise(2.0))
    padding = torch.full((128, 6), (0 + 4.268) / 9.138)
    torch.testing.assert_close(features[0, :, 198:], padding)
    assert not torch.allclose(features[0, :, 197], padding[:, 0])


def test_fbank_matches_transformers_ast_feature_extractor():
    """An independent implementation with the same settings (spec 1.6.1): AST divides by 2 x 4.569 = 9.138."""
    from transformers import ASTFeatureExtractor

    clip = _noise(2.0, dc=0.2, seed=3)
    extractor = ASTFeatureExtractor(sampling_rate=16000, num_mel_bins=128, max_length=204, mean=-4.268, std=4.569)
    ast = extractor(clip - clip.mean(), sampling_rate=16000, return_tensors="pt")["input_values"][0]  # [204, 128]
    torch.testing.assert_close(waveform_to_fbank(clip)[0], ast.T, rtol=1e-4, atol=1e-4)


def test_fbank_truncates_long_clip_to_204_frames():
    long_clip = _noise(3.0)
    torch.testing.assert_close(waveform_to_fbank(long_clip), _torchaudio_reference(torch.from_numpy(long_clip)[None]))


def test_fbank_does_not_change_its_input():
    clip = _noise(2.0, dc=0.5)
    before = clip.copy()
    waveform_to_fbank(clip)
    np.testing.assert_array_equal(clip, before)


def test_clip_layout_follows_videollama_pytorchvideo_015():
    """Clip i starts at i * (D - 2) / 8 s (errata 1), bounds computed on Fractions."""
    num_samples = 10 * 16000 + 7  # D = 10.0004375 s
    duration = Fraction(num_samples / 16000 - 2.0)
    expected = [(int(i * duration / 8 * 16000), int((i * duration / 8 + 2) * 16000)) for i in range(8)]
    assert clip_bounds(num_samples) == expected
    assert clip_bounds(10 * 16000)[1] == (16000, 48000)  # (10 - 2) / 8 = 1 s apart
    assert clip_bounds(10 * 16000)[7][1] == 144000  # ends 1 s before the end: not the last 2 s


def test_clip_layout_imagebind_variant_reaches_the_end():
    bounds = clip_bounds(10 * 16000, last_clip_at_end=True)
    assert bounds[0] == (0, 32000) and bounds[-1] == (128000, 160000)


def test_short_audio_gives_eight_identical_clips_cut_at_the_end():
    clips = audio_clips(_noise(1.5))
    assert len(clips) == 8
    assert all(clip.shape == (1, 24000) for clip in clips)


def test_clip_features_subtract_means_in_place_like_the_original():
    """Overlapping clips see samples an earlier clip already shifted (errata 2): reproduce it step by step."""
    waveform = _noise(5.0, dc=0.4, seed=1)
    ramp = np.linspace(-0.3, 0.3, waveform.size, dtype=np.float32)
    waveform = waveform + ramp  # different means in different clips
    features = audio_clip_features(waveform)
    assert features.shape == (8, 1, 128, 204)

    shared = torch.from_numpy(waveform.copy())[None]  # what the original does, written out
    expected = []
    for begin, end in clip_bounds(shared.shape[1]):
        view = shared[:, begin:end]
        view -= view.mean()
        expected.append(_torchaudio_reference(view, centre=False))
    torch.testing.assert_close(features, torch.stack(expected))
    copies = torch.stack([waveform_to_fbank(clip) for clip in audio_clips(waveform)])
    assert not torch.allclose(features[1:], copies[1:], atol=1e-3)  # copying each clip instead differs
    torch.testing.assert_close(features[0], copies[0])


def test_clip_features_of_stereo_use_channel_zero_after_removing_mean_of_all_channels():
    left, right = _noise(3.0, seed=4, dc=0.1), _noise(3.0, seed=5, dc=-0.3)
    stereo = np.stack([left, right])
    features = audio_clip_features(stereo, num_clips=2)
    begin, end = clip_bounds(left.size, num_clips=2)[0]
    clip = torch.from_numpy(stereo[:, begin:end].copy())
    expected = _torchaudio_reference(clip[:1] - clip.mean(), centre=False)
    torch.testing.assert_close(features[0], expected, rtol=1e-5, atol=1e-5)


def test_other_sample_rates_are_resampled_with_torchaudio():
    waveform_48k = _noise(4.0, rate=48000, seed=2)
    resampled = torchaudio.functional.resample(torch.from_numpy(waveform_48k)[None], 48000, 16000)
    torch.testing.assert_close(resample_to_16k(waveform_48k, 48000), resampled)
    torch.testing.assert_close(audio_clip_features(waveform_48k, sample_rate=48000), audio_clip_features(resampled))


@pytest.mark.parametrize(
    ("waveform", "message"),
    [
        (np.zeros((2, 2, 2), np.float32), "audio must be"),
        (np.zeros(100, np.float32), "too short"),
        (np.zeros(32000, np.int16), "floating-point"),
        (np.zeros(0, np.float32), "empty"),
    ],
)
def test_bad_audio_gives_media_error(waveform, message):
    with pytest.raises(MediaError, match=message):
        audio_clip_features(waveform)
