"""The window's Library tab: folders, the indexing queue, search across every video (core_model.library)."""
