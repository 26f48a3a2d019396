from tests.fixtures.index_media import *  # noqa: F401,F403  scene videos (long_scene_video for the kill test)
from tests.fixtures.library_media import *  # noqa: F401,F403  a small library with subtitles
