"""The supported models and the model manager (catalog, downloads, imports, removal). No Qt, no torch.

    from core_model.models import CATALOG, ModelManager, recommend
"""

from core_model.models.catalog import (
    CATALOG,
    CatalogEntry,
    Recommendation,
    format_bytes,
    get_entry,
    preference_order,
    recommend,
)
from core_model.models.manager import (
    DownloadCancelled,
    GatedModelError,
    InsufficientDiskSpaceError,
    IntegrityError,
    InvalidModelFolderError,
    ModelManager,
    ModelManagerError,
    ModelStatus,
    NotDownloadableError,
    PullProgress,
    RemoveResult,
    UnknownModelError,
    UnsafeListingError,
)
from core_model.models.registry import data_dir

__all__ = [
    "CATALOG", "CatalogEntry", "Recommendation", "format_bytes", "get_entry", "preference_order", "recommend",
    "DownloadCancelled", "GatedModelError", "InsufficientDiskSpaceError", "IntegrityError", "InvalidModelFolderError",
    "ModelManager", "ModelManagerError", "ModelStatus", "NotDownloadableError", "PullProgress", "RemoveResult",
    "UnknownModelError", "UnsafeListingError", "data_dir",
]
