"""The GUI's remote parts against a real ``transformers serve``: the Remote server dialog, the one-time question per
host, remote models beside local ones, and a question from the window answered through the server."""

from __future__ import annotations

import pytest

from core_model.backends.remote_endpoint import remote_spec
from desktop_app.settings import Key
from tests.desktop_app.conftest import ask_and_wait, open_video_and_wait
from tests.fixtures.remote_server import free_port


@pytest.fixture
def memory_keyring():
    import keyring
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 1

        def __init__(self):
            super().__init__()
            self.store = {}

        def get_password(self, service, username):
            return self.store.get((service, username))

        def set_password(self, service, username, password):
            self.store[(service, username)] = password

        def delete_password(self, service, username):
            self.store.pop((service, username), None)

    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(previous)


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    folder = tmp_path / "vidi-data"
    monkeypatch.setenv("VIDI_DATA_DIR", str(folder))
    monkeypatch.delenv("VIDI_API_KEY", raising=False)
    return folder


def test_test_connection_lists_the_models_and_use_keeps_the_key_in_the_keyring(
        qtbot, settings, transformers_server, memory_keyring, data_dir, tmp_path):
    from desktop_app.dialogs.remote_server_dialog import RemoteServerDialog

    dialog = RemoteServerDialog(settings)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.url_edit.setText(f"http://127.0.0.1:{transformers_server.port}")
    assert not dialog.warning_label.isVisible()  # loopback: plain http is fine
    dialog.key_edit.setText("sk-gui-secret")
    qtbot.mouseClick(dialog.test_button, qtbot_button())
    qtbot.waitUntil(lambda: dialog.models_tree.topLevelItemCount() == 1, timeout=60_000)
    item = dialog.models_tree.topLevelItem(0)
    assert item.text(0) == transformers_server.model and item.text(1) == "video as frames, images, audio"
    assert dialog.status_label.text().startswith(f"✓ 127.0.0.1:{transformers_server.port}: 1 model")
    assert " ms to list them" in dialog.status_label.text()
    chosen = []
    dialog.model_chosen.connect(chosen.append)
    qtbot.mouseClick(dialog.use_button, qtbot_button())
    spec = remote_spec(transformers_server.base_url, transformers_server.model)
    assert chosen == [spec]
    assert memory_keyring.store == {("vidi", f"http://127.0.0.1:{transformers_server.port}"): "sk-gui-secret"}
    settings.sync()
    assert "sk-gui-secret" not in (tmp_path / "vidi-settings.ini").read_text()  # never in QSettings
    assert settings.value(Key.REMOTE_MODELS) == [spec]


def test_a_server_that_is_down_is_one_line_in_the_dialog(qtbot, settings, data_dir):
    from desktop_app.dialogs.remote_server_dialog import RemoteServerDialog

    dialog = RemoteServerDialog(settings)
    qtbot.addWidget(dialog)
    dialog.url_edit.setText(f"http://127.0.0.1:{free_port()}")
    dialog.test_connection()
    qtbot.waitUntil(lambda: dialog.status_label.text().startswith("⚠"), timeout=30_000)
    assert "refused the connection" in dialog.status_label.text()
    assert not dialog.use_button.isEnabled() and dialog.test_button.isEnabled()


def test_plain_http_beyond_the_private_network_warns(qtbot, settings, data_dir):
    from desktop_app.dialogs.remote_server_dialog import RemoteServerDialog

    dialog = RemoteServerDialog(settings)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.url_edit.setText("http://93.184.216.34:8000")
    assert dialog.warning_label.isVisible() and "unencrypted" in dialog.warning_label.text()
    dialog.url_edit.setText("https://93.184.216.34:8000")
    assert not dialog.warning_label.isVisible()


def test_the_first_question_to_a_host_asks_once(settings):
    from desktop_app.remote_models import confirm_host_once

    spec = remote_spec("http://10.0.0.5:8000", "m")
    asked = []

    def refuse(_parent, host):
        asked.append(host)
        return False

    assert confirm_host_once(None, settings, "gemma-4-e2b", ask=refuse) is True and asked == []  # local: no question
    assert confirm_host_once(None, settings, spec, ask=refuse) is False and asked == ["10.0.0.5:8000"]
    assert confirm_host_once(None, settings, spec, ask=lambda *_: True) is True
    assert confirm_host_once(None, settings, spec, ask=refuse) is True and asked == ["10.0.0.5:8000"]  # once


def test_remote_models_appear_beside_local_ones_with_their_host(qtbot, settings, data_dir):
    from desktop_app.dialogs.settings_dialog import CHOOSE_REMOTE, SettingsDialog
    from desktop_app.remote_models import remember_remote_model

    spec = remote_spec("http://192.168.1.20:8000", "Qwen/Qwen2.5-VL-7B-Instruct")
    remember_remote_model(settings, spec)
    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    labels = {dialog.model_combo.itemData(i): dialog.model_combo.itemText(i) for i in range(dialog.model_combo.count())}
    assert labels[spec] == "Qwen2.5-VL-7B-Instruct on 192.168.1.20:8000 (remote)"
    assert labels[CHOOSE_REMOTE] == "Remote server…"
    dialog.model_combo.setCurrentIndex(dialog.model_combo.findData(spec))
    assert dialog.model_value() == spec


def test_a_segment_question_from_the_window_is_answered_by_the_server(
        qtbot, make_window, settings, transformers_server, gui_video, data_dir):
    """The real window, the real model process, the real server: the chat names the host it talked to."""
    from desktop_app.chat.exchange import AnswerState
    from desktop_app.remote_models import confirm_host_once

    spec = remote_spec(transformers_server.base_url, transformers_server.model)
    host = f"127.0.0.1:{transformers_server.port}"
    settings.set_value(Key.MODEL, spec)
    settings.set_value(Key.NUM_FRAMES, 4)
    settings.set_value(Key.MAX_NEW_TOKENS, 8)
    assert confirm_host_once(None, settings, spec, ask=lambda *_: True)  # the user said yes once
    window = make_window(real_backend=True)
    assert window.device_label.text() == f"Remote: {host}"
    open_video_and_wait(qtbot, window, gui_video)
    qtbot.waitUntil(lambda: window.controller.capabilities is not None, timeout=60_000)
    window.timeline.set_selection_ms(1000, 3000)
    widget = ask_and_wait(qtbot, window, "What is in this part of the video?", timeout_ms=180_000)
    assert widget.exchange.state == AnswerState.DONE, widget.answer_view.state_label.text()
    assert widget.answer_view.text.strip()
    footer = widget.answer_view.state_label.text()
    assert f"on {host}" in footer and "4 frames" in footer
    assert "with audio" in footer  # the dialog's probe was remembered: the GUI knew the model hears, unloaded too
    assert window.chat.composer.audio_check.isEnabled()
    assert host in window.model_label.text()
    _question, answer = list(window.store.iter_all_turns())[-2:]
    assert answer.status == "complete" and answer.text == widget.answer_view.text


def qtbot_button():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def test_the_models_dialog_offers_remote_server_and_its_choice_is_used(qtbot, make_window, settings, data_dir):
    window = make_window()
    window.model_choice.open_models()
    models_dialog = window.model_choice.models_dialog
    qtbot.mouseClick(models_dialog.remote_button, qtbot_button())
    remote_dialog = window.model_choice.remote_dialog
    assert remote_dialog.isVisible()
    spec = remote_spec("http://192.168.1.20:8000", "Qwen/Qwen2.5-VL-7B-Instruct")
    remote_dialog.model_chosen.emit(spec)
    assert settings.value(Key.MODEL) == spec
    assert window.device_label.text() == "Remote: 192.168.1.20:8000"
    assert "Qwen2.5-VL-7B-Instruct on 192.168.1.20:8000" in window.statusBar().currentMessage()
    remote_dialog.close()
    models_dialog.close()
