"""Audio features for ImageBind / Video-LLaMA: Kaldi log-mel filterbanks of 2-second clips.

Exact settings of Video-LLaMA's ImageBind audio preprocessing (videollama-spec.md section 1.6.1 and its errata):

- the waveform is at 16 kHz (``torchaudio.functional.resample`` from any other rate, in the waveform's dtype);
- 8 clips of 2 s, clip ``i`` starting at ``i * max(D - 2, 0) / 8`` s (pytorchvideo 0.1.5's
  ConstantClipsPerVideoSampler, which Video-LLaMA installs), ``D = samples / 16000`` as a float, bounds computed
  exactly with ``Fraction`` and sliced as ``int(start * 16000):int(end * 16000)``;
- per clip, in clip order, the clip's mean is subtracted *in place* from the shared waveform (overlapping clips see
  samples an earlier clip already shifted, as the original does), then ``kaldi.fbank`` with htk_compat, no energy,
  hanning window, 128 mel bins, dither 0, 25 ms frames, 10 ms shift; transposed to [128, frames], right-padded with
  zeros or truncated to 204 frames, then normalised as ``(x + 4.268) / 9.138``.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import torch
import torchaudio

from core_model.media.errors import MediaError

SAMPLE_RATE = 16000
NUM_MEL_BINS = 128
TARGET_FRAMES = 204
FBANK_MEAN = -4.268
FBANK_STD = 9.138
CLIP_S = 2.0
NUM_CLIPS = 8


def _as_tensor(waveform: np.ndarray | torch.Tensor) -> torch.Tensor:
    """float32 tensor [channels, samples] from a [samples] or [channels, samples] array (copied)."""
    tensor = torch.as_tensor(waveform).detach().clone()
    if tensor.ndim == 1:
        tensor = tensor.unsqueeze(0)
    if tensor.ndim != 2:
        raise MediaError(f"audio must be [samples] or [channels, samples], got shape {tuple(tensor.shape)}")
    if not tensor.is_floating_point():
        raise MediaError(f"audio must hold floating-point samples, got {tensor.dtype}")
    return tensor.to(torch.float32)


def resample_to_16k(waveform: np.ndarray | torch.Tensor, sample_rate: int) -> torch.Tensor:
    """Resample float audio [samples] or [channels, samples] at ``sample_rate`` Hz to 16 kHz.

    Returns a float32 tensor [channels, samples_16k]; uses ``torchaudio.functional.resample`` (float32 kernel).
    """
    tensor = _as_tensor(waveform)
    if sample_rate <= 0:
        raise MediaError(f"sample rate must be positive, got {sample_rate}")
    if sample_rate == SAMPLE_RATE:
        return tensor
    return torchaudio.functional.resample(tensor, orig_freq=int(sample_rate), new_freq=SAMPLE_RATE)


def waveform_to_fbank(clip_16k: np.ndarray | torch.Tensor, target_frames: int = TARGET_FRAMES) -> torch.Tensor:
    """Normalised log-mel filterbank of one 16 kHz clip: float32 [samples] or [channels, samples] -> [1, 128, 204].

    Subtracts the clip's mean (over all channels; the input is not modified), computes ``kaldi.fbank`` on channel 0,
    pads/truncates to ``target_frames`` frames and applies ``(x + 4.268) / 9.138``.
    """
    clip = _as_tensor(clip_16k)
    clip -= clip.mean()
    return _fbank_of_centred_clip(clip, target_frames)


def _fbank_of_centred_clip(clip: torch.Tensor, target_frames: int) -> torch.Tensor:
    """[channels, samples] float32, already mean-subtracted -> [1, 128, target_frames]."""
    if clip.shape[-1] < 400:  # kaldi.fbank needs at least one 25 ms frame
        raise MediaError(f"audio clip too short for a filterbank: {clip.shape[-1]} samples, need at least 400")
    fbank = torchaudio.compliance.kaldi.fbank(
        clip,
        htk_compat=True,
        sample_frequency=SAMPLE_RATE,
        use_energy=False,
        window_type="hanning",
        num_mel_bins=NUM_MEL_BINS,
        dither=0.0,
        frame_length=25,
        frame_shift=10,
    )  # [frames, 128]
    fbank = fbank.transpose(0, 1)  # [128, frames]
    missing = target_frames - fbank.shape[1]
    if missing > 0:
        fbank = torch.nn.functional.pad(fbank, (0, missing), mode="constant", value=0.0)
    elif missing < 0:
        fbank = fbank[:, :target_frames]
    return ((fbank - FBANK_MEAN) / FBANK_STD).unsqueeze(0)  # [1, 128, target_frames]


def clip_bounds(
    num_samples: int,
    num_clips: int = NUM_CLIPS,
    clip_s: float = CLIP_S,
    last_clip_at_end: bool = False,
) -> list[tuple[int, int]]:
    """Sample bounds ``(begin, end)`` of each clip in a 16 kHz waveform of ``num_samples`` samples.

    Clip ``i`` starts at ``i * max(D - clip_s, 0) / num_clips`` seconds (Video-LLaMA's pytorchvideo 0.1.5), or at
    ``i * max(D - clip_s, 0) / (num_clips - 1)`` when ``last_clip_at_end`` (later pytorchvideo, ImageBind's pin), and
    lasts ``clip_s`` seconds. ``D = num_samples / 16000``. Bounds may reach past the waveform's end when it is
    shorter than a clip (slicing then stops at the end, as in the original).
    """
    if num_clips < 1:
        raise MediaError(f"need at least one audio clip, got {num_clips}")
    duration_s = num_samples / SAMPLE_RATE
    clip_len = Fraction(clip_s)
    max_start = Fraction(max(duration_s - clip_s, 0))  # float subtraction first, as pytorchvideo does
    divisor = max(num_clips - 1, 1) if last_clip_at_end else num_clips
    step = max_start / divisor
    bounds = []
    for index in range(num_clips):
        start = step * index
        end = start + clip_len
        bounds.append((int(start * SAMPLE_RATE), int(end * SAMPLE_RATE)))
    return bounds


def audio_clips(
    waveform_16k: np.ndarray | torch.Tensor,
    num_clips: int = NUM_CLIPS,
    clip_s: float = CLIP_S,
    last_clip_at_end: bool = False,
) -> list[torch.Tensor]:
    """Split a 16 kHz waveform [samples] or [channels, samples] into clips, each a tensor [channels, clip_samples].

    The clips are views into one private copy of the waveform, laid out as ``clip_bounds`` says.
    """
    tensor = _as_tensor(waveform_16k)
    return [tensor[:, begin:end] for begin, end in clip_bounds(tensor.shape[1], num_clips, clip_s, last_clip_at_end)]


def audio_clip_features(
    waveform: np.ndarray | torch.Tensor,
    num_clips: int = NUM_CLIPS,
    sample_rate: int = SAMPLE_RATE,
    clip_s: float = CLIP_S,
    last_clip_at_end: bool = False,
) -> torch.Tensor:
    """ImageBind audio input: float audio [samples] or [channels, samples] -> float32 [num_clips, 1, 128, 204].

    Resamples to 16 kHz when ``sample_rate`` differs, cuts clips as ``clip_bounds`` says and turns each into a
    normalised filterbank. Mean subtraction is done in place on the shared waveform, clip after clip, exactly as
    Video-LLaMA does (later overlapping clips see already-shifted samples). For parity with Video-LLaMA on a stereo
    file pass all channels at the file's own rate (``load_audio_native``): the mean is over all channels and the
    filterbank uses channel 0.
    """
    tensor = resample_to_16k(waveform, sample_rate)
    if tensor.shape[1] == 0:
        raise MediaError("the audio is empty")
    features = []
    for clip in audio_clips(tensor, num_clips, clip_s, last_clip_at_end):
        clip -= clip.mean()  # in place on the shared waveform, on purpose (see module docstring)
        features.append(_fbank_of_centred_clip(clip, TARGET_FRAMES))
    return torch.stack(features)  # [num_clips, 1, 128, 204]
