"""The library: folders of videos, scanned for what is new, indexed one video at a time, searched all at once.

    library = LibraryStore()                    # core_model.library.library_store: folders and files in SQLite
    library.add_folder("~/Videos")
    scan_library(library)                       # core_model.library.scan: new, changed, moved, removed
    index_library(library, IndexStore())        # core_model.library.queue: resumable, a bad file skipped
    search(library, "grandma's speech")         # core_model.library.search: moments across every video

Qt-free: the window and the CLI drive the same functions.
"""
