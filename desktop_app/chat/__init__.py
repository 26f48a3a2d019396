"""The chat pane: messages (Markdown, timestamp links, frame thumbnails), the composer and its attachments."""
