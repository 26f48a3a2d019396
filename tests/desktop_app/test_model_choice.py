"""Choosing a model: the Settings chooser, "Use this model" in the Models dialog, and the first-run notice."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from core_model.device import DeviceInfo
from core_model.models import ModelManager, get_entry
from core_model.models.choice import recommendation_for
from desktop_app.dialogs.settings_dialog import CHOOSE_FOLDER, RECOMMENDED_MARK, SettingsDialog
from desktop_app.settings import Key

GPU_12GB = DeviceInfo(kind="cuda", name="Fake RTX", total_memory_bytes=12 << 30, compute_capability=(8, 6),
                      bitsandbytes_available=True)
CPU = DeviceInfo(kind="cpu", name="CPU")


def model_folder(path):
    """A folder the model manager accepts (config.json + weights); the fake backend never reads it."""
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"model_type": "smolvlm"}))
    (path / "model.safetensors").write_bytes(b"\0" * 64)
    return path


@pytest.fixture
def manager(tmp_path):
    (tmp_path / "hf-cache").mkdir()
    return ModelManager(data_folder=tmp_path / "models-data", cache_dir=tmp_path / "hf-cache",
                        free_space=lambda _path: 10**12)


def combo_items(combo):
    return [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count()) if combo.itemText(i)]


# ---- the Settings chooser ------------------------------------------------------------------------------------

def test_settings_lists_the_models_here_marks_the_recommended_one_and_keeps_the_stored_format(
        qtbot, settings, manager, tmp_path):
    manager.import_folder(model_folder(tmp_path / "copy-of-e2b"), id="gemma-4-e2b")
    manager.import_folder(model_folder(tmp_path / "my-model"))
    settings.set_value(Key.MODEL, "my-model")
    dialog = SettingsDialog(settings, manager=manager, recommended_id="gemma-4-e2b",
                            recommended_reason=recommendation_for(GPU_12GB).reason)
    qtbot.addWidget(dialog)
    items = combo_items(dialog.model_combo)
    assert items[0] == (f"{RECOMMENDED_MARK} Gemma 4 E2B (recommended)", "gemma-4-e2b")
    assert ("my-model (imported)", "my-model") in items
    assert items[-1] == ("Choose a folder…", CHOOSE_FOLDER)
    assert dialog.model_value() == "my-model"

    # "Choose a folder…": any model folder, stored as its path
    other = model_folder(tmp_path / "elsewhere")
    dialog.ask_model_folder = lambda: str(other)
    dialog.model_combo.setCurrentIndex(dialog.model_combo.findData(CHOOSE_FOLDER))
    dialog.model_combo.activated.emit(dialog.model_combo.currentIndex())
    assert dialog.model_value() == str(other)
    # cancelling the folder picker goes back to the previous choice
    dialog.ask_model_folder = lambda: ""
    dialog.model_combo.setCurrentIndex(dialog.model_combo.findData(CHOOSE_FOLDER))
    dialog.model_combo.activated.emit(dialog.model_combo.currentIndex())
    assert dialog.model_value() == str(other)
    dialog.accept()
    assert settings.value(Key.MODEL) == str(other)


def test_an_existing_setting_that_is_a_folder_or_a_missing_id_survives_the_dialog(qtbot, settings, manager,
                                                                                 tmp_path):
    folder = str(model_folder(tmp_path / "old-setting"))
    for stored in (folder, "qwen2.5-omni-7b"):
        settings.set_value(Key.MODEL, stored)
        dialog = SettingsDialog(settings, manager=manager)
        qtbot.addWidget(dialog)
        assert dialog.model_value() == stored
        if stored == "qwen2.5-omni-7b":
            assert "not on this machine yet" in dialog.model_combo.currentText()
        dialog.accept()
        assert settings.value(Key.MODEL) == stored


def test_settings_recommends_a_model_that_is_not_downloaded_yet(qtbot, settings, manager):
    settings.set_value(Key.MODEL, "")
    dialog = SettingsDialog(settings, manager=manager)
    qtbot.addWidget(dialog)
    assert dialog.model_value() == ""
    assert "No model on this machine yet" in dialog.model_combo.currentText()
    recommendation = recommendation_for(GPU_12GB)
    dialog.set_recommended(recommendation.entry.id, recommendation.reason)
    assert f"Recommended for this machine: {recommendation.entry.name}" in dialog.model_hint.text()
    assert "not downloaded yet" in dialog.model_hint.text()
    dialog.accept()
    assert settings.value(Key.MODEL) == ""


# ---- the main window -----------------------------------------------------------------------------------------

@pytest.fixture
def first_run_window(make_window, settings, manager):
    """A window with no model chosen, an empty model manager, and a device that says ``first_run_window.device``."""
    settings.set_value(Key.MODEL, "")

    def make(device=GPU_12GB):
        window = make_window()
        window.model_choice._manager_factory = lambda: manager
        window.model_choice.probe._detect = lambda: device
        return window

    return make


def type_and_send(qtbot, window, text):
    composer = window.chat.composer
    composer.edit.setFocus()
    composer.set_text(text)
    qtbot.keyClick(composer.edit, Qt.Key.Key_Return)


def test_first_question_without_a_model_keeps_the_question_and_offers_the_recommended_model(
        qtbot, first_run_window, gui_image, manager, tmp_path, fake_factory, settings):
    window = first_run_window(GPU_12GB)
    composer = window.chat.composer
    composer.add_images([str(gui_image)])
    type_and_send(qtbot, window, "What colour is this?")

    # nothing is sent and nothing typed is lost
    assert composer.text() == "What colour is this?"
    assert composer.attachments.image_paths() == [str(gui_image)]
    assert window.chat.exchange_widgets() == [] and fake_factory.requests == []
    notice = window.model_choice.notice
    assert notice is not None
    qtbot.waitUntil(notice.isVisible, timeout=2000)
    # the device is detected off the GUI thread; then the notice names the model for it
    qtbot.waitUntil(lambda: "Qwen2.5-Omni 7B fits your 12 GB GPU" in notice.label.text(), timeout=5000)
    assert notice.button.text() == "Get Qwen2.5-Omni 7B…"
    type_and_send(qtbot, window, "What colour is this?")  # asking again replaces the notice, never stacks it
    assert len(window.chat.findChildren(type(notice), "action-notice")) == 1
    notice = window.model_choice.notice

    # the button opens the Models dialog on that model
    qtbot.mouseClick(notice.button, Qt.MouseButton.LeftButton)
    dialog = window.model_choice.models_dialog
    qtbot.addWidget(dialog)
    assert dialog.isVisible() and dialog.selected_model_id() == "qwen2.5-omni-7b"
    assert not dialog.use_button.isEnabled()  # not on this machine yet

    # the model arrives (an import stands in for the download): the notice offers it, and "Use this model" sets it
    dialog.ask_folder = lambda: str(model_folder(tmp_path / "Qwen2.5-Omni-7B"))
    dialog.on_import_clicked()
    qtbot.waitUntil(lambda: window.model_choice.notice is not None
                    and window.model_choice.notice.button.text() == "Use Qwen2.5-Omni 7B", timeout=3000)
    assert dialog.selected_model_id() == "qwen2.5-omni-7b"
    assert dialog.use_button.isEnabled()
    qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
    assert settings.value(Key.MODEL) == "qwen2.5-omni-7b"
    assert window.controller.spec.model == "qwen2.5-omni-7b"
    assert dialog.use_button.text() == "In use" and not dialog.use_button.isEnabled()
    assert window.model_choice.notice is None
    assert any("press Enter to ask" in text for text in window.chat.notices())
    dialog.close()

    # the kept question goes out as it was typed, with its image
    qtbot.keyClick(composer.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(fake_factory.requests) == 1, timeout=10000)
    request = fake_factory.requests[0]
    assert request.conversation[-1].text == "What colour is this?"
    assert fake_factory.specs[-1].model == "qwen2.5-omni-7b"
    assert composer.text() == ""


def test_on_the_cpu_the_notice_offers_the_small_default(qtbot, first_run_window):
    window = first_run_window(CPU)
    type_and_send(qtbot, window, "Hello?")
    expected = recommendation_for(CPU).entry  # decided by this machine's RAM, as in the app
    notice = window.model_choice.notice
    qtbot.waitUntil(lambda: f"Get {expected.name}…" == notice.button.text(), timeout=5000)
    assert "slow" in notice.label.text()
    assert window.chat.composer.text() == "Hello?"


def test_a_model_already_here_but_not_chosen_is_offered_with_one_click(qtbot, first_run_window, manager, tmp_path,
                                                                      settings):
    manager.import_folder(model_folder(tmp_path / "copy"), id="gemma-4-e2b")
    window = first_run_window(GPU_12GB)
    type_and_send(qtbot, window, "Hello?")
    notice = window.model_choice.notice
    assert notice.button.text() == f"Use {get_entry('gemma-4-e2b').name}"
    qtbot.mouseClick(notice.button, Qt.MouseButton.LeftButton)
    assert settings.value(Key.MODEL) == "gemma-4-e2b"
    assert window.chat.composer.text() == "Hello?"


def test_a_chosen_catalog_model_that_is_not_downloaded_says_so_before_asking(qtbot, first_run_window, settings,
                                                                            fake_factory):
    window = first_run_window(GPU_12GB)
    window.model_choice.use_model("gemma-4-e4b")
    type_and_send(qtbot, window, "Hello?")
    notice = window.model_choice.notice
    assert "Gemma 4 E4B is chosen but is not on this machine yet" in notice.label.text()
    assert window.chat.composer.text() == "Hello?" and fake_factory.requests == []
    qtbot.mouseClick(notice.button, Qt.MouseButton.LeftButton)
    dialog = window.model_choice.models_dialog
    qtbot.addWidget(dialog)
    assert dialog.selected_model_id() == "gemma-4-e4b"
    dialog.close()


def test_models_changed_refreshes_the_open_settings_chooser(qtbot, first_run_window, manager, tmp_path, settings):
    window = first_run_window(GPU_12GB)
    choice = window.model_choice
    choice.settings_dialog = SettingsDialog(settings, window, manager=manager, open_models=choice.open_models)
    qtbot.addWidget(choice.settings_dialog)
    assert choice.settings_dialog.model_combo.findData("fresh-model") < 0
    choice.settings_dialog.models_button.click()
    dialog = choice.models_dialog
    qtbot.addWidget(dialog)
    dialog.ask_folder = lambda: str(model_folder(tmp_path / "fresh-model"))
    dialog.on_import_clicked()
    assert choice.settings_dialog.model_combo.findData("fresh-model") >= 0
    dialog.close()


# ---- a folder the user already has ------------------------------------------------------------------------------

def test_the_first_run_notice_offers_a_model_folder_too(qtbot, first_run_window, settings, tmp_path, fake_factory,
                                                        gui_image):
    window = first_run_window(GPU_12GB)
    window.chat.composer.add_images([str(gui_image)])
    type_and_send(qtbot, window, "Hello?")
    notice = window.model_choice.notice
    assert [b.text() for b in notice.buttons][1:] == ["Choose a folder…"]

    window.model_choice.ask_model_folder = lambda: str(tmp_path)  # not a model: refused, nothing chosen
    qtbot.mouseClick(notice.buttons[1], Qt.MouseButton.LeftButton)
    assert settings.value(Key.MODEL) == ""
    assert any("no config.json" in text for text in window.chat.notices())

    folder = model_folder(tmp_path / "my-smolvlm")
    window.model_choice.ask_model_folder = lambda: str(folder)
    qtbot.mouseClick(notice.buttons[1], Qt.MouseButton.LeftButton)
    assert settings.value(Key.MODEL) == str(folder)
    assert window.controller.spec.model == str(folder)
    assert window.chat.composer.text() == "Hello?"  # the question waits in the box
    qtbot.keyClick(window.chat.composer.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(fake_factory.requests) == 1, timeout=10000)
    assert fake_factory.specs[-1].model == str(folder) and window.chat.composer.text() == ""


@pytest.mark.parametrize("config, reason", [
    (None, "no config.json"),
    ([1, 2], "not a model configuration"),
    ({"architectures": ["X"]}, "names no model_type"),
    ({"model_type": "bert"}, "'bert' model, which Vidi cannot run"),
])
def test_settings_refuses_a_folder_that_is_not_a_model(qtbot, settings, manager, tmp_path, config, reason):
    settings.set_value(Key.MODEL, "gemma-4-e2b")
    folder = tmp_path / "not-a-model"
    folder.mkdir()
    if config is not None:
        (folder / "config.json").write_text(json.dumps(config))
    (folder / "model.safetensors").write_bytes(b"\0" * 64)
    dialog = SettingsDialog(settings, manager=manager)
    qtbot.addWidget(dialog)
    dialog.ask_model_folder = lambda: str(folder)
    dialog.model_combo.setCurrentIndex(dialog.model_combo.findData(CHOOSE_FOLDER))
    dialog.model_combo.activated.emit(dialog.model_combo.currentIndex())
    assert dialog.model_value() == "gemma-4-e2b"  # the choice before stays
    assert reason in dialog.model_hint.text() and dialog.model_hint.isVisibleTo(dialog)
    dialog.accept()
    assert settings.value(Key.MODEL) == "gemma-4-e2b"


def test_settings_takes_a_folder_of_a_model_type_vidi_runs(qtbot, settings, manager, tmp_path):
    folder = model_folder(tmp_path / "my-smolvlm")
    dialog = SettingsDialog(settings, manager=manager)
    qtbot.addWidget(dialog)
    dialog.ask_model_folder = lambda: str(folder)
    dialog.model_combo.setCurrentIndex(dialog.model_combo.findData(CHOOSE_FOLDER))
    dialog.model_combo.activated.emit(dialog.model_combo.currentIndex())
    assert dialog.model_value() == str(folder)
