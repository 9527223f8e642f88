"""Okapi BM25 over character bigrams, in pure Python.

The corpus is a few hundred passages (one profile's rules, the FAQ, one or two documents'
articles), so an inverted index in dictionaries answers in well under a millisecond and needs
no search engine. Bigrams make it robust to Chinese without word segmentation and tolerant of
one wrong character in a longer phrase.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict

from .normalise import tokens

# Bigrams of question words that say nothing about the subject ("什么时候", "怎么", "有没有");
# dropped from queries, kept in documents.
QUERY_STOP = frozenset("什么 么时 时候 怎么 么样 么办 哪些 哪里 多少 一下 请问 可以 是否 有没 没有 是不 不是 我们 你们 "
                       "这个 那个 么呢 的是 是什 有什 么的 么来 用什 的信".split())


class BM25:
    def __init__(self, documents: list[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.lengths: list[int] = []
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for i, text in enumerate(documents):
            counts = Counter(tokens(text))
            self.lengths.append(sum(counts.values()))
            for term, tf in counts.items():
                self.postings[term].append((i, tf))
        self.n = len(documents)
        self.avg = (sum(self.lengths) / self.n) if self.n else 0.0
        self.idf = {t: math.log(1 + (self.n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in self.postings.items()}

    def scores(self, query: str) -> dict[int, float]:
        out: dict[int, float] = defaultdict(float)
        for term in set(tokens(query)) - QUERY_STOP:
            idf = self.idf.get(term)
            if idf is None:
                continue
            for i, tf in self.postings[term]:
                norm = self.k1 * (1 - self.b + self.b * self.lengths[i] / (self.avg or 1))
                out[i] += idf * tf * (self.k1 + 1) / (tf + norm)
        return out

    def search(self, query: str, k: int = 5) -> list[tuple[int, float]]:
        ranked = sorted(self.scores(query).items(), key=lambda kv: (-kv[1], kv[0]))
        return ranked[:k]
