"""A video's index, built once and kept in Vidi's database: transcript, scenes (and later captions, embeddings,
chapters). Imports no Qt.

- ``core_model.index.subtitles``: SRT / WebVTT text <-> cues.
- ``core_model.index.transcript``: where a transcript comes from (a sidecar file, an embedded subtitle track).
- ``core_model.index.asr``: speech recognition with Whisper (transformers), window by window.
- ``core_model.index.scenes``: shot boundaries and keyframes, streaming at low resolution.
- ``core_model.index.runner``: ``build_index(video, ...)``, resumable and cancellable, with progress and an ETA.
- ``core_model.index.retrieval``: the moments that matter to a question (FTS5/BM25, merged, fused by rank).
- ``core_model.index.whole_video``: a question about the whole video: moments re-watched, or chapters summed up.
"""
