"""The video player: QMediaPlayer, video output, audio output and the transport bar."""
