"""Whisper in the model manager: listed and pullable for the index, found for speech, never chosen to answer."""

import pytest

from core_model.errors import ModelsError
from core_model.index.speech_model import find_speech_model, speech_pull_hint
from core_model.models.catalog import CATALOG
from core_model.models.choice import model_on_disk, models_on_disk
from core_model.models.manager import ModelManager
from tests.fixtures.index_media import tiny_whisper  # noqa: F401  (fixture)


@pytest.fixture
def manager(tmp_path):
    return ModelManager(data_folder=tmp_path / "data", cache_dir=tmp_path / "hub")


def test_the_manager_lists_both_whispers_as_downloadable_speech_models(manager):
    rows = {row.id: row for row in manager.list()}
    for model_id, repo in (("whisper-large-v3-turbo", "openai/whisper-large-v3-turbo"),
                           ("whisper-base", "openai/whisper-base")):
        assert rows[model_id].state == "not-downloaded"
        assert manager.entry(model_id).repo_id == repo and manager.entry(model_id).purpose == "speech"
    assert not any(entry.purpose == "speech" for entry in CATALOG)  # the answering catalog stays as it was


def test_a_whisper_on_disk_is_found_for_speech_but_never_picked_to_answer(manager, tiny_whisper):  # noqa: F811
    assert find_speech_model(None, manager) is None
    manager.import_folder(tiny_whisper, id="whisper-base")
    assert model_on_disk(manager) is None and models_on_disk(manager) == []
    found = find_speech_model(None, manager)
    assert (found.model_id, found.folder) == ("whisper-base", tiny_whisper.resolve())


def test_a_speech_model_named_but_absent_is_one_line_with_the_pull(manager, tmp_path):
    with pytest.raises(ModelsError, match="vidi models pull whisper-large-v3-turbo"):
        find_speech_model("whisper-large-v3-turbo", manager)
    assert find_speech_model(str(tmp_path), manager).folder == tmp_path.resolve()  # a folder is taken as it is


def test_the_pull_hint_fits_the_device():
    assert speech_pull_hint(gpu=True) == "vidi models pull whisper-large-v3-turbo"
    assert speech_pull_hint(gpu=False) == "vidi models pull whisper-base"



def test_an_embedding_or_speech_model_imported_under_its_own_id_is_never_picked_to_answer(
        manager, tiny_whisper, tmp_path, tiny_vlm_dir):  # noqa: F811
    # `vidi models import SIGLIP_FOLDER` (for the index) made `vidi ask` without --model fail: "'.../siglip' holds
    # a 'siglip' model, which is not an image-text-to-text model", and the window's library captioned with it
    from tests.fixtures.tiny_siglip import build_tiny_siglip

    manager.import_folder(build_tiny_siglip(tmp_path / "siglip"))
    manager.import_folder(tiny_whisper, id="my-whisper")
    assert model_on_disk(manager) is None and models_on_disk(manager) == []
    manager.import_folder(tiny_vlm_dir, id="zz-chat")
    assert model_on_disk(manager) == "zz-chat"
