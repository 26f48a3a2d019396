"""The conversation store: videos (by content fingerprint), chats, segments and turns in SQLite.

See core_model.store.conversation_store for the API and its guarantees, core_model.store.schema for the tables.
"""

from core_model.store.conversation_store import (  # noqa: F401  (the public API)
    DATA_DIR_ENV,
    ConversationStore,
    StoreError,
    default_db_path,
)
from core_model.store.fingerprint import fingerprint_file  # noqa: F401
from core_model.store.records import (  # noqa: F401
    TURN_STATUSES,
    ChatRecord,
    SegmentRecord,
    TurnRecord,
    TurnStatus,
    VideoRecord,
    media_from_json,
    media_to_json,
)
from core_model.store.schema import SCHEMA_VERSION  # noqa: F401
from core_model.store.index_store import IndexStore  # noqa: F401,E402  (a video's index: core_model.index)
