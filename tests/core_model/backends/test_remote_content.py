"""The remote backend's pieces that need no server: addresses and privacy, keys, the model spec, content parts."""

import base64
import io
import wave

import av
import numpy as np
import pytest

from core_model.backends import ImageRef, SegmentRef, Turn, load_backend
from core_model.backends import openai_content
from core_model.backends.remote import RemoteBackend
from core_model.backends.remote_endpoint import (
    API_KEY_ENV,
    Endpoint,
    api_key,
    parse_remote_spec,
    remote_spec,
)
from core_model.backends.segment_frames import sample_segment
from core_model.errors import UsageError
from tests.fixtures.media import read_frame_number, write_numbered_video


@pytest.mark.parametrize(
    ("typed", "base_url", "private"),
    [
        ("gpu-box.example.com:8000", "https://gpu-box.example.com:8000/v1", False),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000/v1", True),
        ("http://localhost:8000/v1/", "http://localhost:8000/v1", True),
        ("http://192.168.1.20:8000", "http://192.168.1.20:8000/v1", True),
        ("http://[::1]:9000", "http://[::1]:9000/v1", True),
        ("https://api.example.org/openai/v1", "https://api.example.org/openai/v1", False),
    ],
)
def test_addresses_default_to_https_and_end_in_v1(typed, base_url, private):
    endpoint = Endpoint.parse(typed)
    assert endpoint.base_url == base_url
    assert endpoint.private is private
    assert endpoint.warning == ""  # https anywhere, http only on loopback/private: no warning


def test_plain_http_to_a_public_host_warns_and_the_backend_says_so():
    endpoint = Endpoint.parse("http://93.184.216.34:8000")
    assert "unencrypted" in endpoint.warning and "93.184.216.34:8000" in endpoint.warning
    backend = RemoteBackend("http://93.184.216.34:8000", "m", probe=False)
    assert backend.notice == endpoint.warning
    assert backend.describe().notice == endpoint.warning


@pytest.mark.parametrize("typed", ["", "ftp://host", "https://user:secret@host:8000", "http://:8000", "http://h:99999"])
def test_bad_addresses_are_one_line_usage_errors(typed):
    with pytest.raises(UsageError) as caught:
        Endpoint.parse(typed)
    assert "\n" not in str(caught.value)
    assert "secret" not in str(caught.value)


def test_a_spec_names_a_remote_model_and_load_backend_builds_it(tmp_path, monkeypatch):
    from tests.fixtures.remote_server import free_port

    monkeypatch.setenv("VIDI_DATA_DIR", str(tmp_path))
    port = free_port()  # nothing listens: describe() cannot ask the server, and says what it knows
    spec = remote_spec(f"http://127.0.0.1:{port}", "Qwen/Qwen2.5-VL-7B-Instruct")
    assert spec == f"remote+http://127.0.0.1:{port}/v1#Qwen/Qwen2.5-VL-7B-Instruct"
    assert parse_remote_spec(spec) == (f"http://127.0.0.1:{port}/v1", "Qwen/Qwen2.5-VL-7B-Instruct")
    backend = load_backend(spec)
    assert isinstance(backend, RemoteBackend)
    info = backend.describe()
    assert (info.device, info.host, info.model_id, info.loaded) == ("remote", f"127.0.0.1:{port}",
                                                                     "Qwen/Qwen2.5-VL-7B-Instruct", False)
    assert (info.capabilities.video, info.capabilities.image, info.capabilities.audio) == (True, True, False)
    assert backend.load_in_4bit is False and backend.memory_estimate().total_bytes == 0


def test_the_key_comes_from_the_environment_then_the_keyring_and_never_shows(monkeypatch):
    import keyring
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 1
        store: dict = {}

        def get_password(self, service, username):
            return self.store.get((service, username))

        def set_password(self, service, username, password):
            self.store[(service, username)] = password

        def delete_password(self, service, username):
            self.store.pop((service, username), None)

    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        from core_model.backends.remote_endpoint import save_api_key

        endpoint = Endpoint.parse("https://gpu-box:8000")
        monkeypatch.delenv(API_KEY_ENV, raising=False)
        assert api_key(endpoint) is None
        save_api_key(endpoint, "sk-from-keyring")
        assert api_key(endpoint) == "sk-from-keyring"
        assert MemoryKeyring.store == {("vidi", "https://gpu-box:8000"): "sk-from-keyring"}
        monkeypatch.setenv(API_KEY_ENV, "sk-from-env")
        assert api_key(endpoint) == "sk-from-env"
        backend = RemoteBackend("https://gpu-box:8000", "m", api_key_value="sk-secret-value", probe=False)
        assert "sk-" not in repr(backend) and "sk-" not in str(backend.describe())
    finally:
        keyring.set_keyring(previous)


def test_earlier_turns_travel_as_text_only(image_png):
    conversation = [
        Turn("user", "What happens?", (SegmentRef("/old/video.mp4", 1.0, 3.0), ImageRef(str(image_png)))),
        Turn("assistant", "A dog runs." + openai_content.CUT_MARK),
        Turn("user", "And then?", ()),
    ]
    messages = openai_content.build_messages(conversation, [{"type": "text", "text": "PARTS"}])
    assert messages == [
        {"role": "user", "content": "What happens?"},
        {"role": "assistant", "content": "A dog runs."},
        {"role": "user", "content": [{"type": "text", "text": "PARTS"}, {"type": "text", "text": "And then?"}]},
    ]


def test_frames_as_images_carry_their_times(video_with_audio):
    clip = sample_segment(SegmentRef(str(video_with_audio), 1.0, 2.0), 4)
    parts = openai_content.frames_as_images(clip)
    images = [p for p in parts if p["type"] == "image_url"]
    times = [p["text"] for p in parts if p["type"] == "text"][1:]
    assert len(images) == 4 and len(times) == 4
    assert times[0].startswith("At 0:01")
    assert images[0]["image_url"]["url"].startswith("data:image/jpeg;base64,")


def test_frames_as_video_is_an_mp4_of_exactly_those_frames_at_their_times(tmp_path):
    video = write_numbered_video(tmp_path / "n.mp4", num_frames=90, fps=30, width=320, height=240)
    clip = sample_segment(SegmentRef(str(video), 0.5, 2.5), 4)
    part = openai_content.frames_as_video(clip)[1]
    payload = base64.b64decode(part["video_url"]["url"].split(",", 1)[1])
    with av.open(io.BytesIO(payload)) as container:
        decoded = [(frame.to_ndarray(format="rgb24"), float(frame.time)) for frame in container.decode(video=0)]
    assert len(decoded) == 4
    expected_numbers = [read_frame_number(frame) for frame in clip.frames]
    assert [read_frame_number(frame) for frame, _ in decoded] == expected_numbers
    # the clip keeps the samples' spacing (0.5 s here), from its first sample; the text part names the file times
    assert [t for _, t in decoded] == pytest.approx([t - clip.timestamps_s[0] for t in clip.timestamps_s], abs=0.002)


def test_audio_goes_as_16_bit_wav():
    tone = np.sin(np.linspace(0, 2000, 16000)).astype(np.float32)
    part = openai_content.audio_part(tone)
    assert part["input_audio"]["format"] == "wav"
    with wave.open(io.BytesIO(base64.b64decode(part["input_audio"]["data"]))) as reader:
        assert (reader.getnchannels(), reader.getsampwidth(), reader.getframerate(), reader.getnframes()) == \
            (1, 2, 16000, 16000)


def test_a_720p_segment_of_8_frames_and_15_s_of_sound_is_under_1_5_mb(tmp_path):
    """The issue's target: 8 frames at 720p + 15 s of audio fit in a request under 1.5 MB, either way frames go."""
    video = write_numbered_video(tmp_path / "hd.mp4", num_frames=16 * 10, fps=10, width=1280, height=720,
                                 audio_codec="aac")
    clip = sample_segment(SegmentRef(str(video), 0.0, 15.0), 8)
    from core_model import media

    sound = openai_content.audio_part(media.load_audio(str(video), 0.0, 15.0))
    for frames in (openai_content.frames_as_images(clip), openai_content.frames_as_video(clip)):
        messages = openai_content.build_messages([Turn("user", "What happens?")], [*frames, sound])
        assert openai_content.request_size_bytes(messages) < 1_500_000
