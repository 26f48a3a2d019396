"""The window's QActions, with their shortcuts, built in one place and shared by menus, buttons and Help.

Shortcuts with single keys (Space, I, O, arrows) are window-wide but a text box that has focus keeps its own keys
(Qt gives the focused editor the ShortcutOverride first), so typing a question is never hijacked.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence

from desktop_app.resources import icon


class WindowActions(QObject):
    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.groups: dict[str, list[QAction]] = {}
        self._group = "File"
        self.open = self._action("&Open video…", QKeySequence.StandardKey.Open, "open")
        self.export_chat = self._action("&Export chat to Markdown…", "Ctrl+E", "export")
        self.settings = self._action("&Settings…", "Ctrl+,", "settings")
        self.models = self._action("&Models…", "Ctrl+M")
        self.quit = self._action("&Quit", QKeySequence.StandardKey.Quit)
        self._group = "Playback"
        self.play_pause = self._action("&Play / Pause", "Space", "play")
        self.back = self._action("Back 5 s", "Left", "step-back")
        self.forward = self._action("Forward 5 s", "Right", "step-forward")
        self.frame_back = self._action("Back one frame", "Shift+Left")
        self.frame_forward = self._action("Forward one frame", "Shift+Right")
        self.mute = self._action("&Mute", "M", "volume")
        self.mark_in = self._action("Set segment &start at playhead", "I", "mark-in")
        self.mark_out = self._action("Set segment &end at playhead", "O", "mark-out")
        self.whole_video = self._action("&Whole video", "W", "whole")
        self._group = "Chat"
        self.new_chat = self._action("&New chat", QKeySequence.StandardKey.New, "new-chat")
        self.delete_chat = self._action("&Delete chat", None, "delete")
        self.stop = self._action("&Stop answering", "Esc", "stop")
        self.attach = self._action("&Attach images…", "Ctrl+Shift+A", "attach")
        self.record = self._action("&Record a voice question", "Ctrl+R", "mic")
        self.load_model = self._action("&Load the model now", "Ctrl+L")
        self.focus_question = self._action("Write a question", "Ctrl+K")
        self._group = "Index"
        self.index_video = self._action("&Index this video", "Ctrl+I")
        self.stop_index = self._action("S&top indexing", None)
        self.show_transcript = self._action("Show the &transcript", "Ctrl+T")
        self.export_transcript = self._action("&Export the transcript (SRT / VTT)…", None)
        self._group = "View"
        self.theme_system = self._action("Follow the &system", None, checkable=True)
        self.theme_light = self._action("&Light", None, checkable=True)
        self.theme_dark = self._action("&Dark", None, checkable=True)
        self._group = "Help"
        self.shortcuts = self._action("&Keyboard shortcuts", QKeySequence.StandardKey.HelpContents)
        self.about = self._action("&About Vidi", None)

    def _action(self, text: str, shortcut, icon_name: str | None = None, checkable: bool = False) -> QAction:
        action = QAction(text, self.parent())
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if icon_name:
            action.setIcon(icon(icon_name))
        action.setCheckable(checkable)
        self.groups.setdefault(self._group, []).append(action)
        return action

    def shortcut_rows(self) -> list[tuple[str, str, str]]:
        """(group, action text, shortcut) for every action that has a shortcut: the Help list."""
        rows = []
        for group, actions in self.groups.items():
            for action in actions:
                keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
                if keys:
                    rows.append((group, action.text().replace("&", ""), keys))
        return rows
