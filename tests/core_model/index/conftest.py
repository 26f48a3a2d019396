from tests.fixtures.index_media import *  # noqa: F401,F403  scene cuts, speech, subtitles, a tiny Whisper
