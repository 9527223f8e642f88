"""Optional answer generation by a locally deployed large language model.

Off unless ``PORTAL_LLM_URL`` is set. The model is called through the OpenAI-compatible
``/v1/chat/completions`` API with a timeout and sees nothing but the question (personal data
masked) and the public passages the retrieval step chose, numbered ``[1]`` … ``[n]``. Its reply
is used only when it cites at least one passage, every ``[n]`` it writes exists, and every
number in it also appears in the passages or the question (so it cannot invent a deadline);
otherwise, and on any error or timeout, the retrieval answer stands.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import requests

from ..domain.identifiers import scrub_personal_data

log = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "你是医疗卫生信用信息公示平台的问答助手。只能依据用户消息中编号的“资料”回答，"
    "不得使用资料以外的知识，不得编造数字、日期或条款。每句话后用[编号]标注所依据的资料。"
    "资料中没有答案时，回答“资料中没有相关规定”。不要提供任何个人的身份证号码、联系方式等个人信息。"
    "用简体中文，简洁回答，不超过300字。"
)
MAX_REPLY = 1500
_MARKER = re.compile(r"\[(\d{1,2})\]")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True)
class LLMReply:
    text: str
    cited: tuple[int, ...]  # 0-based indexes into the passages given


def endpoint(url: str) -> str:
    url = url.rstrip("/")
    if url.endswith("/chat/completions"):
        return url
    if url.endswith("/v1"):
        return url + "/chat/completions"
    return url + "/v1/chat/completions"


def build_messages(question: str, passages: list[tuple[str, str]]) -> list[dict]:
    material = "\n\n".join(f"[{i}] {title}\n{text}" for i, (title, text) in enumerate(passages, 1))
    question = scrub_personal_data(question)[:300]
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"资料：\n{material}\n\n问题：{question}"},
    ]


def check_reply(text: str, passages: list[tuple[str, str]], question: str) -> LLMReply | None:
    """The reply if it is grounded in the passages, else None (see module docstring)."""
    text = (text or "").strip()
    if not text or len(text) > MAX_REPLY:
        return None
    markers = [int(m) for m in _MARKER.findall(text)]
    if not markers or any(not 1 <= m <= len(passages) for m in markers):
        return None
    known = set(_NUMBER.findall(question + "\n" + "\n".join(t + "\n" + b for t, b in passages)))
    if any(number not in known for number in _NUMBER.findall(_MARKER.sub("", text))):
        return None
    return LLMReply(text=text, cited=tuple(sorted({m - 1 for m in markers})))


@dataclass
class LLMClient:
    url: str
    model: str
    timeout: float = 8.0

    @classmethod
    def from_settings(cls, settings: dict) -> LLMClient | None:
        url = (settings.get("PORTAL_LLM_URL") or "").strip()
        if not url:
            return None
        try:
            timeout = float(settings.get("PORTAL_LLM_TIMEOUT_SECONDS") or 8)
        except ValueError:
            timeout = 8.0
        return cls(url=url, model=settings.get("PORTAL_LLM_MODEL") or "local-model", timeout=max(0.1, timeout))

    def generate(self, question: str, passages: list[tuple[str, str]]) -> LLMReply | None:
        """Ask the model; None on error, timeout or an ungrounded reply."""
        if not passages:
            return None
        payload = {"model": self.model, "messages": build_messages(question, passages), "temperature": 0.1,
                   "max_tokens": 600, "stream": False}
        try:
            resp = requests.post(endpoint(self.url), json=payload, timeout=self.timeout)
            resp.raise_for_status()
            content = resp.json()["choices"][0]["message"]["content"]
        except (requests.RequestException, ValueError, KeyError, IndexError, TypeError) as exc:
            log.warning("language model unavailable, using the retrieval answer: %s", exc)
            return None
        reply = check_reply(content if isinstance(content, str) else "", passages, question)
        if reply is None:
            log.info("language model reply not grounded in the passages; using the retrieval answer")
        return reply
