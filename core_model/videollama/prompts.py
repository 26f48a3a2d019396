"""Video-LLaMA's conversation templates and media messages, exactly as the original demo renders them
(videollama-spec.md §2.2-§2.5, §3.2; source: video_llama/conversation/conversation_video.py, demo_audiovideo.py).

    conv = Conversation.for_media("video_audio", template="llama_2")
    conv.add_media("video_audio")                   # the user message carrying the placeholders
    conv.ask("What is the dog doing?")              # appended to that message with one space (Chat.ask)
    prompt = conv.prompt()                          # "[INST] <<SYS>>\n\n<</SYS>>\n\nClose your eyes, ... [/INST]"
    ... generate ...
    conv.add_answer(answer)

``<ImageHere>`` marks where media tokens go (split on, never tokenised); audio comes before video when both are used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Sequence

IMAGE_PLACEHOLDER = "<ImageHere>"

MediaKind = Literal["image", "video", "video_audio", "audio"]

IMAGE_SYSTEM = (
    "You are able to understand the visual content that the user provides. "
    "Follow the instructions carefully and explain your answers in detail."
)
"""System prompt the demos set for an image (demo_audiovideo.py sets "" for a video, with or without audio)."""

IMAGE_MESSAGE = "<Image><ImageHere></Image> "
VIDEO_MESSAGE = "<Video><ImageHere></Video> "
AUDIO_MESSAGE = "Close your eyes, open your ears and you imagine only based on the sound that: <ImageHere>."
"""For a recording on its own (not in the original demo, which only hears a video's soundtrack): the audio half of
the audio+video message below."""
AUDIO_VIDEO_MESSAGE = (
    "Close your eyes, open your ears and you imagine only based on the sound that: <ImageHere>."
    + " " * 17  # the runs of spaces come from a line continuation inside the original string literal
    + "Close your ears, open your eyes and you see that <Video><ImageHere></Video>."
    + " " * 18
    + "Now answer my question based on what you have just seen and heard."
)

LLAMA_2_STOP_TEXT = "</s>"
VICUNA_STOP_TEXT = "###"
VICUNA_STOP_IDS: tuple[tuple[int, ...], ...] = ((835,), (2277, 29937))
"""Chat.answer's StoppingCriteriaSub ids for Vicuna: two tokenisations of "###" in the LLaMA vocabulary."""

GENERATION_DEFAULTS = dict(max_new_tokens=300, num_beams=1, do_sample=True, temperature=1.0, top_p=0.9,
                           repetition_penalty=1.0, length_penalty=1, min_length=1)
MAX_CONTEXT_TOKENS = 2000
"""Chat.answer's max_length: the embedding sequence is cut on the left so that it + max_new_tokens fits."""


def video_length_message(frame_times_s: Sequence[float]) -> str:
    """'The video contains N frames sampled at t0, t1, ... seconds. ' (times rounded to 1 decimal, trailing space)."""
    times = ", ".join(str(round(float(t), 1)) for t in frame_times_s)
    return f"The video contains {len(frame_times_s)} frames sampled at {times} seconds. "


def media_message(kind: MediaKind, frame_times_s: Sequence[float] = ()) -> str:
    """The user message an upload adds (Chat.upload_img / upload_video_without_audio / upload_video)."""
    if kind == "image":
        return IMAGE_MESSAGE
    if kind == "video":
        return VIDEO_MESSAGE + video_length_message(frame_times_s)
    if kind == "video_audio":
        return AUDIO_VIDEO_MESSAGE  # no video-length sentence in this mode
    if kind == "audio":
        return AUDIO_MESSAGE
    raise ValueError(f"unknown media kind {kind!r}")


def media_order(kind: MediaKind) -> tuple[str, ...]:
    """Which embeddings fill the message's placeholders, in order: audio before video."""
    return {"image": ("video",), "video": ("video",), "video_audio": ("audio", "video"), "audio": ("audio",)}[kind]


@dataclass
class Conversation:
    """conversation_video.Conversation for the two styles the demos use: "llama_2" and "vicuna" (SINGLE)."""

    template: Literal["llama_2", "vicuna"] = "llama_2"
    system: str = ""
    messages: list[list] = field(default_factory=list)  # [role, text or None]

    @classmethod
    def for_media(cls, first_media: MediaKind | None, template: str = "llama_2") -> "Conversation":
        """The system prompt demo_audiovideo.py ends up with: the image one for an image, "" for a video."""
        return cls(template=template, system=IMAGE_SYSTEM if first_media == "image" else "")

    @property
    def roles(self) -> tuple[str, str]:
        return ("USER", "ASSISTANT") if self.template == "llama_2" else ("Human", "Assistant")

    def add_media(self, kind: MediaKind, frame_times_s: Sequence[float] = ()) -> None:
        """An upload's user message. A second medium before the question joins the same message with one space
        (the original takes one upload per question; this keeps the user/assistant alternation intact)."""
        message = media_message(kind, frame_times_s)
        if self.messages and self.messages[-1][0] == self.roles[0]:
            self.messages[-1][1] = " ".join([self.messages[-1][1], message])
        else:
            self.messages.append([self.roles[0], message])

    def ask(self, text: str) -> None:
        """Chat.ask: merged into a pending media message with one space, else a new user message.

        The original merges when the pending user message holds "</Video>" or "</Image>" (every media message it
        makes does); any pending user message is merged here, so a recording's message or two questions in a row
        keep the user/assistant alternation the LLaMA-2 template needs."""
        if self.messages and self.messages[-1][0] == self.roles[0]:
            self.messages[-1][1] = " ".join([self.messages[-1][1], text])
        else:
            self.messages.append([self.roles[0], text])

    def add_answer(self, text: str) -> None:
        self.messages.append([self.roles[1], text])

    def prompt(self) -> str:
        """The text with the pending assistant turn (Chat.answer appends [ASSISTANT, None], then get_prompt)."""
        messages = self.messages + [[self.roles[1], None]]
        if self.template == "vicuna":
            sep = "###"
            text = self.system + sep
            for role, message in messages:
                text += f"{role}: {message}{sep}" if message else f"{role}:"
            return text
        sep, sep2 = "<s>", "</s>"
        text = ""
        for index, (role, message) in enumerate(messages):
            if index == 0 and (not message or role != self.roles[0]):
                raise ValueError("the first message must be the user's and not empty")
            if not message:
                continue
            if index == 0:
                message = f"<<SYS>>\n{self.system}\n<</SYS>>\n\n" + message
            if index % 2 == 0:
                text += sep + f"[INST] {message} [/INST]"
            else:
                text += " " + message + " " + sep2
        return text.lstrip(sep)  # strips the characters '<', 's', '>' (removes the leading "<s>")

    @property
    def stop_text(self) -> str:
        return LLAMA_2_STOP_TEXT if self.template == "llama_2" else VICUNA_STOP_TEXT


def clean_answer(text: str, template: str) -> str:
    """Chat.answer's post-processing: cut at the stop text, keep what follows the last role tag, strip."""
    if template == "llama_2":
        text = text.split(LLAMA_2_STOP_TEXT)[0].split("ASSISTANT:")[-1]
    else:
        text = text.split(VICUNA_STOP_TEXT)[0].split("Assistant:")[-1]
    return text.strip()
