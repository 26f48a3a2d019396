"""Keyframes decoded in one pass: FrameStream gives what sample_frames gives per scene (same times, same pixels)
from one open file read forward, and embed_keyframes uses it: one open for all scenes, each keyframe the colour of
its own scene, batches of whole scenes, a stop between scenes."""

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

import core_model.media.pyav_frames as pyav_frames_module
from core_model.index import keyframes
from core_model.index.scenes import keyframe_times
from core_model.media import FrameStream, sample_frames
from core_model.store.index_records import Scene

FPS = 25
SHOT_FRAMES = (37, 80, 12, 150, 61, 210, 45)  # cuts at known frames, short and long shots, across GOPs of 10 s
COLOURS = ((220, 30, 30), (30, 200, 40), (40, 40, 220), (230, 220, 30), (210, 40, 200), (30, 210, 210),
           (240, 240, 240))


@pytest.fixture(scope="module")
def coloured_scenes(tmp_path_factory) -> Path:
    """320x240 H.264 at 25 fps, one flat colour per shot (a dark bar sliding within it), keyframes every 10 s."""
    path = tmp_path_factory.mktemp("keyframes") / "colours.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS, options={"preset": "ultrafast", "g": "250"})
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.time_base = Fraction(1, FPS)
        index = 0
        for colour, count in zip(COLOURS, SHOT_FRAMES):
            for step in range(count):
                picture = np.empty((240, 320, 3), np.uint8)
                picture[:] = colour
                picture[:, (step * 4) % 300:(step * 4) % 300 + 20] = 20
                frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
                frame.pts = index
                index += 1
                container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def _scenes(every_s: float = 2.0) -> list[Scene]:
    cuts = np.cumsum((0, *SHOT_FRAMES)) / FPS
    return [Scene(float(a), float(b), keyframe_times(float(a), float(b), every_s)) for a, b in zip(cuts, cuts[1:])]


def _scene_colour(frame: np.ndarray) -> int:
    """The index of the scene colour nearest the frame's median colour (the dark bar left out)."""
    median = np.median(frame.reshape(-1, 3), axis=0)
    return int(np.argmin([np.abs(median - np.array(c)).sum() for c in COLOURS]))


def test_the_stream_gives_the_frames_sample_frames_gives_per_scene(coloured_scenes):
    scenes = _scenes()
    assert sum(len(s.keyframes_s) for s in scenes) > len(scenes)  # long shots have several keyframes
    with FrameStream(coloured_scenes, max_side_px=keyframes.KEYFRAME_SIDE_PX) as stream:
        for number, scene in enumerate(scenes):
            count = len(scene.keyframes_s)
            streamed, streamed_s = stream.frames(scene.start_s, scene.end_s, count)
            alone, alone_s = sample_frames(coloured_scenes, scene.start_s, scene.end_s, count,
                                           max_side_px=keyframes.KEYFRAME_SIDE_PX)
            assert streamed.shape == alone.shape == (count, 192, 256, 3)
            assert streamed_s == alone_s  # the same frames of the file...
            assert np.array_equal(streamed, alone)  # ...decoded to the same pixels
            assert [_scene_colour(f) for f in streamed] == [number] * count  # each of its own scene


def test_a_rotated_video_comes_out_as_displayed_like_sample_frames(video_rotated):
    with FrameStream(video_rotated, max_side_px=160) as stream:
        streamed, streamed_s = stream.frames(0.2, 1.8, 3)
    alone, alone_s = sample_frames(video_rotated, 0.2, 1.8, 3, max_side_px=160)
    assert streamed.shape == alone.shape and streamed.shape[1] > streamed.shape[2]  # portrait
    assert streamed_s == alone_s and np.array_equal(streamed, alone)


def test_segments_out_of_time_order_are_refused(coloured_scenes):
    with FrameStream(coloured_scenes) as stream:
        stream.frames(5.0, 6.0, 1)
        with pytest.raises(ValueError, match="time order"):
            stream.frames(1.0, 2.0, 1)


class _RecordingEmbedder:
    """Records the frames it is given; each vector is the frame's scene colour number (one-hot)."""

    def __init__(self):
        self.batches: list[list[np.ndarray]] = []

    def embed_images(self, frames):
        self.batches.append(list(frames))
        vectors = np.zeros((len(frames), len(COLOURS)), np.float32)
        for row, frame in enumerate(frames):
            vectors[row, _scene_colour(frame)] = 1.0
        return vectors


def test_keyframes_are_decoded_in_one_pass_each_of_its_own_scene(coloured_scenes, monkeypatch):
    opened = []
    real_open = pyav_frames_module.open_container
    monkeypatch.setattr(pyav_frames_module, "open_container", lambda path: opened.append(path) or real_open(path))
    scenes = _scenes()
    duration_s = scenes[-1].end_s
    embedder = _RecordingEmbedder()
    batches = list(keyframes.embed_keyframes(coloured_scenes, scenes, embedder, duration_s, batch_keyframes=4))
    assert len(opened) == 1  # one open for every scene (a sample_frames call per scene opened it once each)
    times_s = [t for _, batch_times, _ in batches for t in batch_times]
    assert times_s == [t for s in scenes for t in s.keyframes_s]  # the same keyframe times stored
    colours = [int(v.argmax()) for _, _, vectors in batches for v in vectors]
    assert colours == [number for number, s in enumerate(scenes) for _ in s.keyframes_s]
    assert all(frame.shape == (192, 256, 3) for batch in embedder.batches for frame in batch)
    ends = [until_s for until_s, _, _ in batches]
    assert ends[-1] == duration_s and all(e in [s.end_s for s in scenes] for e in ends)  # whole scenes per batch
    assert all(len(t) >= 4 for _, t, _ in batches[:-1]) and len(batches) > 2


def test_a_stop_between_scenes_ends_the_pass_and_the_rest_resumes_from_there(coloured_scenes):
    scenes = _scenes()
    seen = []

    def stop_after_three_scenes():
        return len(seen) >= 3

    embedder = _RecordingEmbedder()
    first = []
    for until_s, times_s, vectors in keyframes.embed_keyframes(coloured_scenes, scenes, embedder, scenes[-1].end_s,
                                                               stop_after_three_scenes, batch_keyframes=1):
        first.append((until_s, times_s))
        seen.append(until_s)
    assert [u for u, _ in first] == [s.end_s for s in scenes[:3]]
    rest = [s for s in scenes if s.start_s >= first[-1][0] - 1e-3]  # as the runner resumes
    resumed = list(keyframes.embed_keyframes(coloured_scenes, rest, _RecordingEmbedder(), scenes[-1].end_s))
    times_s = [t for _, batch in first for t in batch] + [t for _, batch, _ in resumed for t in batch]
    assert times_s == [t for s in scenes for t in s.keyframes_s]  # nothing lost, nothing twice
    colours = [int(v.argmax()) for _, _, vectors in resumed for v in vectors]
    assert colours == [number for number, s in enumerate(scenes) if number >= 3 for _ in s.keyframes_s]
