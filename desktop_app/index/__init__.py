"""The window's side of a video's index: building it (a child process), its state, transcript and chapters."""
