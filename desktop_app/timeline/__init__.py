"""The timeline under the video: thumbnails, playhead, segment selection, marks of segments asked about."""
