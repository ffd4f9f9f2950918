"""NeMo Curator 0.9's ``nemo_curator.services``: the client contracts, the OpenAI SDK wrappers, the NeMo Deploy
client and the conversation-formatter contract, with NeMo's behaviour (see each module)."""

from curator_synth.nemo.services.conversation_formatter import ConversationFormatter
from curator_synth.nemo.services.model_client import AsyncLLMClient, LLMClient
from curator_synth.nemo.services.nemo_client import NemoDeployClient
from curator_synth.nemo.services.openai_client import AsyncOpenAIClient, OpenAIClient

__all__ = [
    "AsyncLLMClient",
    "AsyncOpenAIClient",
    "ConversationFormatter",
    "LLMClient",
    "NemoDeployClient",
    "OpenAIClient",
]
