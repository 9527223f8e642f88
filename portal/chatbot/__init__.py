"""智能问答: answers from the active profile's rules, our FAQ and the regulation articles, with
citations; facility look-ups through the public search; deadlines by the workflows' own
working-day function. See ``answer.Chatbot``."""
from .answer import Chatbot, Context, Env
from .facility import FacilitySource, SearchFacilities
from .kb import KnowledgeBase
from .llm import LLMClient
from .types import INTENTS, Answer, Choice, Citation, Link

__all__ = ["INTENTS", "Answer", "Chatbot", "Choice", "Citation", "Context", "Env", "FacilitySource",
           "KnowledgeBase", "LLMClient", "Link", "SearchFacilities"]
