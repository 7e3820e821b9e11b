"""Adapters that let other frameworks use the assistant's stages (llama-index: `integrations.llama_index`)."""
