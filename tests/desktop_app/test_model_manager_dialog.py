"""The Models dialog on a fake hub: the table, a real download on a worker thread, cancel, import, remove."""

import json
import threading
import time

import pytest

from core_model.device import DeviceInfo
from core_model.models import ModelManager, format_bytes, get_entry, recommend
from desktop_app.model_manager_dialog import COLUMNS, PROGRESS_STEPS, RECOMMENDED_MARK, ModelManagerDialog
from tests.core_model.models.fakehub import FakeHub, tiny_model_files

MODEL_ID = "smolvlm2-256m"
REPO_ID = "HuggingFaceTB/SmolVLM2-256M-Video-Instruct"
GPU_8GB = DeviceInfo(kind="cuda", name="Fake RTX", total_memory_bytes=8 << 30, compute_capability=(8, 6),
                     bitsandbytes_available=True)


@pytest.fixture
def hub(tmp_path):
    fake = FakeHub(tmp_path / "fakehub", chunk_bytes=1024)
    fake.add_repo(REPO_ID, tiny_model_files(num_weight_bytes=200_000))
    return fake


@pytest.fixture
def dialog(qtbot, tmp_path, hub):
    manager = ModelManager(data_folder=tmp_path / "data", cache_dir=tmp_path / "cache", downloader=hub,
                           free_space=lambda path: 10**12)
    dlg = ModelManagerDialog(manager=manager, device_info=GPU_8GB)
    dlg.confirm = lambda title, text: True
    qtbot.addWidget(dlg)
    yield dlg
    dlg.shutdown()


def cell(dialog, model_id, column):
    for row in range(dialog.table.rowCount()):
        if dialog.table.item(row, 0).data(0x0100) == model_id:  # Qt.UserRole
            return dialog.table.item(row, COLUMNS.index(column)).text()
    raise KeyError(model_id)


def test_table_shows_the_catalog_with_the_recommended_model(dialog):
    assert dialog.table.rowCount() == len(dialog.manager.catalog)
    assert cell(dialog, "qwen2.5-omni-7b", "Size") == "22.4 GB"
    assert cell(dialog, "qwen2.5-omni-7b", "Takes") == "video, audio, image"
    assert cell(dialog, "qwen2.5-omni-7b", "Memory (4-bit)") == "9.5 GB"
    assert cell(dialog, "qwen2.5-omni-7b", "Licence") == "Apache-2.0"
    recommended = recommend(GPU_8GB).entry.id  # Gemma 4's per-layer table stays in RAM: an omni model fits 8 GB
    assert get_entry(recommended).capabilities.audio
    assert cell(dialog, recommended, "") == RECOMMENDED_MARK
    assert cell(dialog, "qwen2.5-omni-7b", "") == ""
    assert cell(dialog, "gemma-4-e2b", "Memory (4-bit)") == format_bytes(get_entry("gemma-4-e2b").memory_4bit_bytes)
    dialog.select_model("gemma-4-e2b")
    assert format_bytes(get_entry("gemma-4-e2b").cpu_memory_bytes) + " of the computer's RAM" in (
        dialog.details_label.text())
    assert cell(dialog, "videollama2-7b", "Status") == "Build with 'vidi convert'"
    assert "Fake RTX" in dialog.device_label.text()
    dialog.select_model("videollama2-7b")
    assert not dialog.download_button.isEnabled()
    assert "vidi convert videollama" in dialog.details_label.text()


def test_download_runs_off_the_gui_thread_with_a_progress_bar(dialog, hub, qtbot):
    fetch_threads = []
    hub.on_chunk = lambda: fetch_threads.append(threading.get_ident()) or time.sleep(0.002)
    values = []
    dialog.progress_bar.valueChanged.connect(values.append)
    dialog.select_model(MODEL_ID)
    assert dialog.download_button.isEnabled()
    with qtbot.waitSignal(dialog.model_downloaded, timeout=20_000) as blocker:
        dialog.download_button.click()
        assert dialog.is_downloading and dialog.cancel_button.isEnabled()
        assert not dialog.download_button.isEnabled()
    assert blocker.args == [MODEL_ID]
    qtbot.waitUntil(lambda: not dialog.is_downloading, timeout=5000)
    assert fetch_threads and threading.get_ident() not in fetch_threads
    assert values == sorted(values) and len(values) > 2 and values[-1] == PROGRESS_STEPS
    assert "/s" in dialog.progress_label.text() or not dialog.progress_label.isVisible()
    assert "KB" in dialog.progress_bar.format()
    assert cell(dialog, MODEL_ID, "Status") == "Downloaded"
    assert dialog.manager.local_path(MODEL_ID) is not None
    assert dialog.remove_button.isEnabled() and not dialog.download_button.isEnabled()


def test_progress_label_shows_speed(dialog, hub, qtbot):
    hub.on_chunk = lambda: time.sleep(0.002)
    dialog.select_model(MODEL_ID)
    texts = []
    dialog.progress_label.setText = lambda text, _orig=dialog.progress_label.setText: (texts.append(text), _orig(text))
    dialog.download_button.click()
    qtbot.waitUntil(lambda: not dialog.is_downloading, timeout=20_000)
    assert any("/s" in t and "model.safetensors" in t for t in texts)


def test_cancel_keeps_the_partial_download_and_resume_finishes_it(dialog, hub, qtbot):
    hub.on_chunk = lambda: time.sleep(0.01)  # ~2 s for the weights: time to press Cancel
    dialog.select_model(MODEL_ID)
    dialog.download_button.click()
    qtbot.waitUntil(lambda: dialog.progress_bar.value() > 0, timeout=10_000)
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: not dialog.is_downloading, timeout=10_000)
    assert "cancelled" in dialog.message_label.text()
    assert cell(dialog, MODEL_ID, "Status").startswith("Partly downloaded")
    assert dialog.download_button.text() == "Resume download"

    hub.on_chunk = None
    hub.fetch_calls.clear()
    with qtbot.waitSignal(dialog.model_downloaded, timeout=20_000):
        dialog.download_button.click()
    assert any(offset > 0 for _, offset in hub.fetch_calls)


def test_failed_download_shows_the_message_inline(dialog, hub, qtbot):
    hub.gated.add(REPO_ID)
    dialog.select_model(MODEL_ID)
    dialog.download_button.click()
    qtbot.waitUntil(lambda: not dialog.is_downloading, timeout=10_000)
    assert "hf auth login" in dialog.message_label.text()
    assert dialog.download_button.isEnabled()


def test_import_and_remove_an_own_folder(dialog, tmp_path, qtbot):
    folder = tmp_path / "My Model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "gemma4"}))
    (folder / "model.safetensors").write_bytes(b"w" * 64)
    dialog.ask_folder = lambda: str(folder)
    with qtbot.waitSignal(dialog.models_changed, timeout=2000):
        dialog.import_button.click()
    assert cell(dialog, "my-model", "Status") == "Imported"
    assert dialog.selected_model_id() == "my-model"
    with qtbot.waitSignal(dialog.models_changed, timeout=2000):
        dialog.remove_button.click()
    assert "left as it is" in dialog.message_label.text()
    assert (folder / "model.safetensors").is_file()
    with pytest.raises(KeyError):
        cell(dialog, "my-model", "Status")


def test_import_of_a_non_model_folder_is_refused_inline(dialog, tmp_path):
    dialog.ask_folder = lambda: str(tmp_path)
    dialog.import_button.click()
    assert "no config.json" in dialog.message_label.text()


def test_closing_during_a_download_cancels_it(dialog, hub, qtbot):
    hub.on_chunk = lambda: time.sleep(0.01)
    dialog.select_model(MODEL_ID)
    dialog.download_button.click()
    qtbot.waitUntil(lambda: dialog.progress_bar.value() > 0, timeout=10_000)
    started = time.monotonic()
    dialog.close()
    assert time.monotonic() - started < 5
    assert dialog.manager.local_path(MODEL_ID) is None


def test_an_offline_download_error_does_not_leave_starting_on_the_bar(dialog, hub, qtbot):
    from core_model.models.hub import HubError

    def offline(*_args, **_kwargs):
        raise HubError("Cannot reach huggingface.co: this machine is offline.")

    hub.list_files = offline
    dialog.select_model(MODEL_ID)
    dialog.download_button.click()
    qtbot.waitUntil(lambda: not dialog.is_downloading, timeout=10_000)
    assert "offline" in dialog.message_label.text()
    shown = [w.text() for w in (dialog.progress_label,) if w.isVisibleTo(dialog)]
    if dialog.progress_bar.isVisibleTo(dialog):
        shown.append(dialog.progress_bar.text())
    assert not any("starting" in text for text in shown), shown


def _safetensors(path, tensors: dict) -> None:
    """A safetensors file whose header declares ``tensors`` ({name: shape}, float16) with zero-filled data."""
    import struct

    header, offset = {}, 0
    for name, shape in tensors.items():
        size = 2
        for dim in shape:
            size *= dim
        header[name] = {"dtype": "F16", "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"\0" * offset)


def test_an_imported_model_shows_its_memory_and_inputs(dialog, tmp_path, qtbot):
    folder = tmp_path / "Mine"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "smolvlm", "text_config": {
        "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4}}))
    _safetensors(folder / "model.safetensors", {"model.layers.0.mlp.up_proj.weight": (1024, 512),
                                                "model.embed_tokens.weight": (1000, 64)})
    dialog.ask_folder = lambda: str(folder)
    dialog.import_button.click()
    assert cell(dialog, "mine", "Takes") == "video, image"  # the generic backend: it sees, it does not hear
    memory = cell(dialog, "mine", "Memory (4-bit)")
    assert memory not in ("?", "unknown") and memory.endswith("B")
    assert "'smolvlm' model; takes video, image" in dialog.details_label.text()

    omni = tmp_path / "Omni"
    omni.mkdir()
    (omni / "config.json").write_text(json.dumps({"model_type": "qwen2_5_omni"}))
    (omni / "pytorch_model.bin").write_bytes(b"w" * 64)  # .bin weights: their size cannot be read without torch
    dialog.ask_folder = lambda: str(omni)
    dialog.import_button.click()
    assert cell(dialog, "omni", "Takes") == "video, audio, image"
    assert cell(dialog, "omni", "Memory (4-bit)") == "unknown"


def test_import_refuses_a_folder_of_a_model_type_vidi_cannot_run(dialog, tmp_path):
    folder = tmp_path / "Bert"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "bert"}))
    (folder / "model.safetensors").write_bytes(b"w" * 64)
    dialog.ask_folder = lambda: str(folder)
    dialog.import_button.click()
    assert "'bert' model, which Vidi cannot run" in dialog.message_label.text()
    with pytest.raises(KeyError):
        cell(dialog, "bert", "Status")


def test_a_speech_model_on_disk_cannot_be_chosen_to_answer(dialog, tmp_path):
    for name, model_type in (("whisper", "whisper"), ("answering", "gemma4")):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps({"model_type": model_type}))
        (folder / "model.safetensors").write_bytes(b"w" * 64)
    dialog.manager.import_folder(tmp_path / "whisper", id="whisper-base")  # the catalog's speech model, on disk
    dialog.manager.import_folder(tmp_path / "answering", id="my-gemma")
    dialog.refresh()
    dialog.select_model("whisper-base")
    assert not dialog.use_button.isEnabled()
    dialog.select_model("my-gemma")
    assert dialog.use_button.isEnabled()
